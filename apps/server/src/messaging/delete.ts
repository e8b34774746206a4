/**
 * Delete for everyone, inside the caller's write transaction, so another capability (safety's
 * takedowns) removes messages through messaging rather than by writing its tables. The content
 * goes (text, reactions, interactive content, and the earlier events that carried them); the row
 * stays so seqs and replies keep their place.
 */
import type { Tx } from '../platform/db/index.ts';
import { forgetInteractive } from '../interactive/index.ts';
import { type Emit, redactMessageEvents } from '../sync/index.ts';
import { audienceOf, loadMessageViews, positionOf } from './views.ts';
import { unindexMessages } from './search.ts';
import { channelsAmong } from '../conversations/index.ts';

export interface DeleteForEveryoneOptions {
  messageIds: string[];
  /** The account that deleted (sender or admin); null when moderators removed the content. */
  actor: string | null;
  /** `removed`: taken down by moderators; clients say so rather than "deleted". */
  reason?: 'removed';
  /**
   * When given, a message still pending (held for its media, never delivered) is marked failed
   * and only its sender is told this reason; otherwise it is deleted, and only its sender hears.
   */
  pendingFailureReason?: string;
  now: number;
}

export interface DeleteForEveryoneResult {
  /** Every message this call deleted (those deleted before are skipped). */
  messageIds: string[];
  /** The conversations that got a `message.deleted` event, once each. */
  conversationIds: string[];
}

/**
 * Deletes these messages for everyone. The caller bounds the batch: one call is a handful of
 * statements in its transaction, whatever the number of messages.
 */
export async function deleteForEveryone(
  tx: Tx,
  emit: Emit,
  options: DeleteForEveryoneOptions,
): Promise<DeleteForEveryoneResult> {
  const result: DeleteForEveryoneResult = { messageIds: [], conversationIds: [] };
  if (options.messageIds.length === 0) return result;
  const { now } = options;
  const rows = await tx
    .selectFrom('messages')
    .select(['id', 'conversation_id', 'seq', 'sender_id', 'status', 'held_after', 'written_cursor'])
    .where('id', 'in', options.messageIds)
    .where('deleted_at', 'is', null)
    .execute();
  if (rows.length === 0) return result;
  const ids = rows.map((r) => r.id);
  await tx.updateTable('messages').set({ text: null, deleted_at: now, deleted_reason: options.reason ?? null }).where('id', 'in', ids).execute();
  // Nothing of it is found by search any more (search.ts).
  await unindexMessages(tx, ids);
  // A deleted message held for review no longer waits for anyone.
  await tx.deleteFrom('spread_holds').where('message_id', 'in', ids).execute();
  await tx.deleteFrom('reactions').where('message_id', 'in', ids).execute();
  // Buttons, a poll's question and votes, a form's answers: content too, gone with the text.
  await forgetInteractive(tx, ids);
  // Every copy goes: the events that carried it (created, edited) now carry the deleted message,
  // so nobody catching up from an older cursor (sync, Telegram's getUpdates) reads what it said.
  const delivered = rows.filter((r) => r.status === 'sent').map((r) => r.id);
  if (delivered.length > 0) {
    const views = new Map((await loadMessageViews(tx, await tx.selectFrom('messages').selectAll().where('id', 'in', delivered).execute())).map((m) => [m.id, m]));
    await redactMessageEvents(tx, { messageIds: delivered, payloadFor: (id) => views.get(id)! });
  }
  // A channel's admins delete as the channel: its subscribers never learn which admin it was.
  const channels = await channelsAmong(tx, rows.map((r) => r.conversation_id));
  const conversations = new Set<string>();
  for (const r of rows) {
    result.messageIds.push(r.id);
    if (options.pendingFailureReason !== undefined && r.status !== 'sent') {
      // Never delivered: nobody but the sender knows it, so only the sender hears (a failed one: nobody).
      if (r.status !== 'pending') continue;
      await tx.updateTable('messages').set({ status: 'failed' }).where('id', '=', r.id).execute();
      await emit({
        type: 'message.failed',
        conversationId: null,
        targetAccountId: r.sender_id,
        data: { message_id: r.id, conversation_id: r.conversation_id, reason: options.pendingFailureReason },
        at: now,
      });
      continue;
    }
    const data = {
      id: r.id,
      conversation_id: r.conversation_id,
      seq: positionOf(r),
      by: options.actor !== null && channels.has(r.conversation_id) ? r.conversation_id : options.actor,
      ...(options.reason ? { reason: options.reason } : {}),
    };
    // Nobody but the sender ever saw a held message: only the sender's devices hear of its deletion.
    if (r.status !== 'sent') {
      await emit({
        type: 'message.deleted',
        conversationId: null,
        targetAccountId: r.sender_id,
        data,
        at: now,
      });
      continue;
    }
    await emit({ type: 'message.deleted', conversationId: r.conversation_id, membersJoinedBy: audienceOf(r), data, at: now });
    conversations.add(r.conversation_id);
  }
  result.conversationIds = [...conversations];
  return result;
}
