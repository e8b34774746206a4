/**
 * @mentions (contracts/mentions.ts): which members a group message's text names. Resolved when
 * the message is written or edited, against the group's current members only, and kept as one
 * `message_mentions` row per (message, member): a handle of anyone outside the group stays plain
 * text, so a mention can never tell a member who is not there that an account exists or what it
 * is called beyond what the member list already shows them. Direct chats and channels keep none
 * (a channel's subscribers do not learn of one another).
 */
import { type MentionRef, type UnreadMention, mentionedHandles } from '@mmd/contracts';
import type { ConversationKind } from '@mmd/contracts';
import { accountsByHandles, handlesOf } from '../accounts/index.ts';
import { type SeqRange, membersAmong, readableRanges, requireMember, seqIn } from '../conversations/index.ts';
import type { Principal } from '../accounts/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { notHiddenFor } from './hides.ts';

type Executor = Database['db'] | Tx;

/**
 * Replaces a message's mentions with those its (new) text makes: the members of its group whose
 * handles it names, never the sender. Returns them in the order the text names them.
 */
export async function storeMentions(
  tx: Tx,
  /** fresh: the message is being written now, so it has no mentions to replace (one DELETE fewer per send). */
  options: { messageId: string; conversationId: string; kind: ConversationKind; senderId: string; text: string | null; now: number; fresh?: boolean },
): Promise<MentionRef[]> {
  if (!options.fresh) await tx.deleteFrom('message_mentions').where('message_id', '=', options.messageId).execute();
  if (options.kind !== 'group' || !options.text) return [];
  const handles = mentionedHandles(options.text);
  if (handles.length === 0) return [];
  const accounts = await accountsByHandles(tx, handles);
  const candidates = handles.flatMap((h) => {
    const a = accounts.get(h);
    return a && a.id !== options.senderId ? [a] : [];
  });
  if (candidates.length === 0) return [];
  const members = await membersAmong(tx, options.conversationId, candidates.map((a) => a.id));
  const mentioned = candidates.filter((a) => members.has(a.id));
  if (mentioned.length === 0) return [];
  await tx
    .insertInto('message_mentions')
    .values(mentioned.map((a, i) => ({ message_id: options.messageId, conversation_id: options.conversationId, account_id: a.id, position: i, created_at: options.now })))
    .execute();
  return mentioned.map((a) => ({ account_id: a.id, handle: a.handle }));
}

/** Each message's mentions (with current handles), in text order; messages without any are absent. */
export async function mentionsOf(db: Executor, messageIds: readonly string[]): Promise<Map<string, MentionRef[]>> {
  const out = new Map<string, MentionRef[]>();
  const rows: { message_id: string; account_id: string; position: number }[] = [];
  for (let i = 0; i < messageIds.length; i += 500) {
    rows.push(
      ...(await db
        .selectFrom('message_mentions')
        .select(['message_id', 'account_id', 'position'])
        .where('message_id', 'in', messageIds.slice(i, i + 500))
        .orderBy('message_id')
        .orderBy('position')
        .execute()),
    );
  }
  if (rows.length === 0) return out;
  const handles = await handlesOf(db, rows.map((r) => r.account_id));
  for (const r of rows) {
    const handle = handles.get(r.account_id);
    // A deleted account is no longer named.
    if (handle === undefined) continue;
    const list = out.get(r.message_id) ?? [];
    list.push({ account_id: r.account_id, handle });
    out.set(r.message_id, list);
  }
  return out;
}

/**
 * The mentions of `accountId` in messages they can read and have not read: sent (held messages
 * mention nobody yet), not deleted, not deleted for them, inside their readable ranges (stays in
 * the group, what they cleared) and past their read mark.
 */
function unreadMentionsQuery(db: Executor, options: { accountId: string; conversationId: string; readSeq: number; ranges: SeqRange[] | null }) {
  let q = db
    .selectFrom('message_mentions')
    .innerJoin('messages', 'messages.id', 'message_mentions.message_id')
    .where('message_mentions.account_id', '=', options.accountId)
    .where('message_mentions.conversation_id', '=', options.conversationId)
    .where('messages.status', '=', 'sent')
    .where('messages.deleted_at', 'is', null)
    .where('messages.seq', '>', options.readSeq)
    .where((eb) => notHiddenFor(eb, options.accountId));
  if (options.ranges) {
    const ranges = options.ranges;
    q = q.where((eb) => seqIn(eb, ranges));
  }
  return q;
}

/** How many unread mentions of `accountId` each of these chats holds (the chat list's @ badge). */
export async function unreadMentionCounts(
  db: Executor,
  accountId: string,
  chats: ReadonlyMap<string, { readSeq: number; ranges: SeqRange[] | null }>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (chats.size === 0) return counts;
  // One query (per 200 chats) finds the chats with a mention of the account past its read mark;
  // only those are counted exactly, with their ranges and hides (most chats have none).
  const ids = [...chats.keys()];
  const candidates = new Set<string>();
  for (let i = 0; i < ids.length; i += 200) {
    const part = ids.slice(i, i + 200);
    const rows = await db
      .selectFrom('message_mentions')
      .innerJoin('messages', 'messages.id', 'message_mentions.message_id')
      .select('message_mentions.conversation_id')
      .distinct()
      .where('message_mentions.account_id', '=', accountId)
      .where('message_mentions.conversation_id', 'in', part)
      .where('messages.status', '=', 'sent')
      .where('messages.deleted_at', 'is', null)
      .where((eb) => eb.or(part.map((id) => eb.and([eb('message_mentions.conversation_id', '=', id), eb('messages.seq', '>', chats.get(id)!.readSeq)]))))
      .execute();
    for (const r of rows) candidates.add(r.conversation_id);
  }
  for (const conversationId of candidates) {
    const chat = chats.get(conversationId)!;
    if (chat.ranges?.length === 0) continue;
    const row = await unreadMentionsQuery(db, { accountId, conversationId, readSeq: chat.readSeq, ranges: chat.ranges })
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(row.n) > 0) counts.set(conversationId, Number(row.n));
  }
  return counts;
}

/** GET /v1/conversations/{id}/mentions: the caller's unread mentions there, oldest first. */
export async function listUnreadMentions(
  db: Database,
  principal: Principal,
  conversationId: string,
  options: { after?: number; limit: number },
): Promise<{ mentions: UnreadMention[]; has_more: boolean }> {
  const membership = await requireMember(db.db, conversationId, principal.accountId);
  if (membership.conversation.kind !== 'group') return { mentions: [], has_more: false };
  const ranges = await readableRanges(db.db, membership);
  if (ranges?.length === 0) return { mentions: [], has_more: false };
  const readSeq = Math.max(Number(membership.member.read_seq), options.after ?? 0);
  const rows = await unreadMentionsQuery(db.db, { accountId: principal.accountId, conversationId, readSeq, ranges })
    .select(['messages.id', 'messages.seq', 'messages.sender_id'])
    .orderBy('messages.seq', 'asc')
    .limit(options.limit + 1)
    .execute();
  return {
    mentions: rows.slice(0, options.limit).map((r) => ({ message_id: r.id, seq: Number(r.seq), sender_id: r.sender_id })),
    has_more: rows.length > options.limit,
  };
}
