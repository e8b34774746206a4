/**
 * Messages held for their media (`pending`): media settles them once every item is ready or one
 * has failed. Only messaging writes the message's status and announces the outcome.
 */
import { accountStates, hasBlocked } from '../accounts/index.ts';
import { assertMayPost, hideFromLaterJoiners, nextSeq, raiseWatermarks, requireMember } from '../conversations/index.ts';
import type { Tx } from '../platform/db/index.ts';
import type { MessagesTable } from './schema.ts';
import type { Emit } from '../sync/index.ts';
import { loadMessageViews } from './views.ts';
import { type ShareOutcome, shareMedia } from './spread.ts';
import { recordLinkShares } from './links.ts';
import { reindexMedia } from './search.ts';
import type { SpreadPolicy } from './spread-velocity.ts';
import { mediaOfMessageIds } from '../media/index.ts';
import { AppError } from '../errors.ts';

/** Of these messages, the ones still pending (one its sender deleted while held stays unsent). */
export async function pendingAmong(tx: Tx, messageIds: string[]): Promise<string[]> {
  if (messageIds.length === 0) return [];
  const rows = await tx
    .selectFrom('messages')
    .select('id')
    .where('id', 'in', messageIds)
    .where('status', '=', 'pending')
    .where('deleted_at', 'is', null)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Delivers a pending message: it takes the conversation's next seq now (nobody but its sender could
 * count it before) and `message.created` reaches its conversation. In a group hiding its history
 * from newcomers it reaches only members who were there when it was written, as history does.
 * False if it was not pending.
 */
export async function deliverPending(
  tx: Tx,
  emit: Emit,
  options: { messageId: string; now: number; spread: SpreadPolicy; /** A moderator released it from this kind of spread review hold. */ released?: 'cluster' | 'account' },
): Promise<boolean> {
  const held = await tx
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', options.messageId)
    .where('status', '=', 'pending')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!held) return false;
  // Held for a while (its media, a review): its sender may have left, been removed, blocked or
  // suspended since. It goes out only if they could send it now.
  const refusal = await whyNotNow(tx, held);
  if (refusal) {
    await failPending(tx, emit, { messageId: held.id, reason: `not sent: ${refusal}`, now: options.now });
    return false;
  }
  // Its media's spread (spread.ts), now that screening has put each item in its cluster: over the
  // sender's limit for that picture, it fails instead, and its sender is told why.
  let spread: ShareOutcome | null;
  try {
    const media = await mediaOfMessageIds(tx, [held.id]);
    spread = await shareMedia(tx, {
      messageId: held.id,
      conversationId: held.conversation_id,
      senderId: held.sender_id,
      automated: Number(held.automated) === 1,
      mediaIds: media.map((m) => m.mediaId),
      chainHops: Number(held.forward_hops),
      now: options.now,
      policy: options.spread,
      confirmed: Number(held.spread_confirmed ?? 0) === 1,
      ...(options.released ? { released: options.released } : {}),
    });
  } catch (err) {
    if (err instanceof AppError && (err.code === 'forward_limit' || err.code === 'confirmation_required')) {
      // Not "retry in N s": a failed message stays failed; its sender sends it again (and confirms).
      const reason = err.code === 'confirmation_required' ? 'not sent: this is spreading fast; send it again and confirm that you want to share it' : `not sent: ${err.message.replace(/; retry in \d+ s$/, '')}; send it again later`;
      await failPending(tx, emit, { messageId: held.id, reason, now: options.now });
      return false;
    }
    throw err;
  }
  if (spread?.held) {
    // Held for review until a moderator decides (spread-velocity.ts); its sender sees it held.
    await tx.updateTable('messages').set({ spread_cluster: spread.cluster, spread_hops: spread.hops, spread_fast: 1 }).where('id', '=', held.id).execute();
    const [view] = await loadMessageViews(tx, [{ ...held, spread_cluster: spread.cluster, spread_hops: spread.hops, spread_fast: 1 }], { viewerId: held.sender_id });
    await emit({ type: 'message.edited', conversationId: null, targetAccountId: held.sender_id, data: view!, at: options.now });
    return false;
  }
  const seq = await nextSeq(tx, held.conversation_id);
  const writtenCursor = held.written_cursor === null ? null : Number(held.written_cursor);
  const restricted = writtenCursor !== null && (await hideFromLaterJoiners(tx, { conversationId: held.conversation_id, seq, writtenCursor }));
  // written_cursor stays only when it restricts who hears of the message (its edits, reactions, deletion too).
  const row: MessagesTable = { ...held, status: 'sent', seq, written_cursor: restricted ? writtenCursor : null, spread_cluster: spread?.cluster ?? null, spread_hops: spread?.hops ?? null, spread_fast: spread?.fast ? 1 : null };
  await tx.updateTable('messages').set({ status: 'sent', seq, written_cursor: row.written_cursor, spread_cluster: row.spread_cluster, spread_hops: row.spread_hops, spread_fast: row.spread_fast }).where('id', '=', held.id).execute();
  await tx.deleteFrom('spread_holds').where('message_id', '=', held.id).execute();
  await recordLinkShares(tx, { messageId: held.id, conversationId: held.conversation_id, senderId: held.sender_id, text: held.text, automated: Number(held.automated) === 1, now: options.now });
  // Its sender has seen it since it was written; read, if they had read everything before it.
  await raiseWatermarks(tx, { conversationId: row.conversation_id, accountId: row.sender_id, delivered: seq, read: seq, readOnlyIfCaughtUp: true });
  const [view] = await loadMessageViews(tx, [row]);
  // Its media's kinds are settled now (processing may not have known them when it was written).
  await reindexMedia(tx, { id: held.id, conversationId: held.conversation_id, text: held.text, mediaKinds: view!.media.map((m) => m.kind) });
  await emit({
    type: 'message.created',
    conversationId: row.conversation_id,
    seq,
    membersJoinedBy: restricted ? writtenCursor : null,
    data: view!,
    at: options.now,
  });
  return true;
}

/** Why the sender could not send this message now (null when they could), as send checks it. */
async function whyNotNow(tx: Tx, held: MessagesTable): Promise<string | null> {
  if ((await accountStates(tx, [held.sender_id])).get(held.sender_id)?.suspended) return 'your account is suspended';
  const membership = await requireMember(tx, held.conversation_id, held.sender_id).catch(() => null);
  if (!membership) return 'you are no longer a member of this chat';
  try {
    assertMayPost(membership);
  } catch {
    return 'you can no longer post in this chat';
  }
  const { conversation } = membership;
  if (conversation.kind === 'direct' && conversation.direct_key) {
    const peer = conversation.direct_key.split(':').find((id) => id !== held.sender_id);
    if (peer && ((await hasBlocked(tx, peer, held.sender_id)) || (await hasBlocked(tx, held.sender_id, peer)))) return 'this chat is blocked';
  }
  return null;
}

/** A pending message will never be delivered: it is marked failed and only its sender is told why. False if it was not pending. */
export async function failPending(
  tx: Tx,
  emit: Emit,
  options: { messageId: string; reason: string; now: number },
): Promise<boolean> {
  const row = await tx
    .selectFrom('messages')
    .select(['id', 'conversation_id', 'sender_id'])
    .where('id', '=', options.messageId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (!row) return false;
  await tx.updateTable('messages').set({ status: 'failed' }).where('id', '=', row.id).execute();
  await tx.deleteFrom('spread_holds').where('message_id', '=', row.id).execute();
  await emit({
    type: 'message.failed',
    conversationId: null,
    targetAccountId: row.sender_id,
    data: { message_id: row.id, conversation_id: row.conversation_id, reason: options.reason },
    at: options.now,
  });
  return true;
}
