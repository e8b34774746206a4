/**
 * "Delete for me": a message gone for one person, on all of their devices, and for nobody else.
 * One row per person and message (message_hides); every read path of that person skips it —
 * history, single reads, search, the chat list's newest message — and a `message.hidden` event
 * addressed to them alone tells their other devices. The message itself is untouched.
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { type SeqRange, seqIn } from '../conversations/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { DB } from '../schema.ts';
import type { Emit } from '../sync/index.ts';
import type { MessagesTable } from './schema.ts';

type Executor = Database['db'] | Tx;

/** A where-clause on `messages`: not deleted for me by `accountId`. */
export function notHiddenFor(eb: ExpressionBuilder<DB, 'messages'>, accountId: string): Expression<SqlBool> {
  return eb.not(
    eb.exists(
      eb.selectFrom('message_hides').select('message_hides.message_id').where('message_hides.account_id', '=', accountId).whereRef('message_hides.message_id', '=', 'messages.id'),
    ),
  );
}

/** Of these messages, those `accountId` deleted for themselves (500 ids a query). */
export async function hiddenAmong(db: Executor, accountId: string, messageIds: readonly string[]): Promise<Set<string>> {
  const hidden = new Set<string>();
  for (let i = 0; i < messageIds.length; i += 500) {
    const rows = await db.selectFrom('message_hides').select('message_id').where('account_id', '=', accountId).where('message_id', 'in', messageIds.slice(i, i + 500)).execute();
    for (const r of rows) hidden.add(r.message_id);
  }
  return hidden;
}

/**
 * The newest sent message of a conversation that `accountId` may read (inside `ranges`; null:
 * all) and did not delete for themselves: the chat list's preview once its newest one is hidden.
 */
export async function newestShown(db: Executor, options: { conversationId: string; accountId: string; ranges: SeqRange[] | null }): Promise<MessagesTable | undefined> {
  const { ranges } = options;
  let q = db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', options.conversationId)
    .where('status', '=', 'sent')
    .where((eb) => notHiddenFor(eb, options.accountId));
  if (ranges) q = q.where((eb) => seqIn(eb, ranges));
  return q.orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

/** Records the hide and tells the person's devices, in the caller's transaction (twice is once). */
export async function hideMessages(tx: Tx, emit: Emit, options: { accountId: string; conversationId: string; messageIds: string[]; now: number }) {
  const { accountId, conversationId, messageIds, now } = options;
  if (messageIds.length === 0) return;
  await tx
    .insertInto('message_hides')
    .values(messageIds.map((messageId) => ({ account_id: accountId, message_id: messageId, conversation_id: conversationId, created_at: now })))
    .onConflict((oc) => oc.columns(['account_id', 'message_id']).doNothing())
    .execute();
  // To the person alone, in no conversation: the other members never learn of it.
  await emit({ type: 'message.hidden', conversationId: null, targetAccountId: accountId, data: { conversation_id: conversationId, message_ids: messageIds }, at: now });
}
