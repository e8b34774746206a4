/**
 * Forward limits, as WhatsApp's, enforced by the server so scripted clients obey them too:
 * a person forwards one message (counted by its origin, whichever copy they forward) to at most
 * 5 chats a minute; a message already forwarded many times (5 hops or more, WhatsApp's
 * threshold: clients label it "Forwarded many times") to one chat a minute. Forwarding again into
 * a chat already counted costs nothing. A refusal is 429 `forward_limit` with Retry-After.
 */
import { AppError } from '../errors.ts';
import { type Tx, lockScope } from '../platform/db/index.ts';

export const FORWARD_WINDOW_MS = 60_000;
/** Chats one message may be forwarded to per window. */
export const FORWARD_CHATS = 5;
/** Hops from which a message is "forwarded many times", and the chats it may then reach per window. */
export const MANY_TIMES_HOPS = 5;
export const MANY_TIMES_CHATS = 1;

export type ForwardLabel = 'forwarded' | 'forwarded_many_times';

/** Chats one message or picture may reach per person per window; 0 turns a limit off (config `spread*ChatsPerMinute`). */
export interface ChatLimits {
  chats: number;
  manyTimesChats: number;
}
export const DEFAULT_CHAT_LIMITS: ChatLimits = { chats: FORWARD_CHATS, manyTimesChats: MANY_TIMES_CHATS };

/** A message's spread label (spread.ts): none at 0 hops, else as a forward's. */
export function spreadLabel(hops: number): ForwardLabel | null {
  return hops >= 1 ? forwardLabel(hops) : null;
}

/** The label clients show on a forwarded message with this many hops. */
export function forwardLabel(hops: number): ForwardLabel {
  return hops >= MANY_TIMES_HOPS ? 'forwarded_many_times' : 'forwarded';
}

/**
 * Throws `forward_limit` unless `senderId` may forward the message of `originId` (whose copy
 * being forwarded has `sourceHops`) into `conversationId` at `now`. Inside the sending
 * transaction, under a lock of the sender and the original (held to COMMIT), so two forwards at
 * once cannot both pass on one last slot.
 */
export async function checkForwardLimit(tx: Tx, options: { senderId: string; originId: string; sourceHops: number; conversationId: string; now: number; limits?: ChatLimits }): Promise<void> {
  await lockScope(tx, `forwards:${options.senderId}:${options.originId}`);
  const since = options.now - FORWARD_WINDOW_MS;
  const recent = await tx
    .selectFrom('messages')
    .select(['conversation_id', 'created_at'])
    .where('forward_origin_id', '=', options.originId)
    .where('sender_id', '=', options.senderId)
    .where('created_at', '>', since)
    .orderBy('created_at')
    .execute();
  enforceChatLimit({ recent: recent.map((r) => ({ chat: r.conversation_id, at: Number(r.created_at) })), conversationId: options.conversationId, manyTimes: options.sourceHops >= MANY_TIMES_HOPS, now: options.now, ...(options.limits ? { limits: options.limits } : {}) });
}

/**
 * The limit itself: `recent` lists, oldest first, each time the content went to a chat in the
 * window. A chat already there costs nothing; a new one needs a free slot (5, or 1 for content
 * forwarded many times), else 429 `forward_limit` with when the oldest slot frees.
 */
export function enforceChatLimit(options: { recent: readonly { chat: string; at: number }[]; conversationId: string; manyTimes: boolean; now: number; limits?: ChatLimits }): void {
  const { manyTimes } = options;
  const limits = options.limits ?? DEFAULT_CHAT_LIMITS;
  const allowed = manyTimes ? limits.manyTimesChats : limits.chats;
  if (allowed === 0) return; // the instance turned this limit off
  const firstIn = new Map<string, number>();
  for (const r of options.recent) if (!firstIn.has(r.chat)) firstIn.set(r.chat, r.at);
  if (firstIn.has(options.conversationId)) return;
  if (firstIn.size < allowed) return;
  const oldest = Math.min(...firstIn.values());
  const retryAfter = Math.max(1, Math.ceil((oldest + FORWARD_WINDOW_MS - options.now) / 1000));
  throw new AppError(
    'forward_limit',
    manyTimes
      ? `this has been forwarded many times: it can go to ${allowed} chat${allowed === 1 ? '' : 's'} a minute; retry in ${retryAfter} s`
      : `the same message or picture can go to at most ${allowed} chats a minute; retry in ${retryAfter} s`,
    { headers: { 'retry-after': String(retryAfter) } },
  );
}
