/**
 * A conversation's message sequence and each member's receipt watermarks live on conversations'
 * rows; messaging moves them through these functions, inside its own write transaction.
 */
import { sql } from 'kysely';
import { type Tx, prepared } from '../platform/db/index.ts';
import { historyVisible, normaliseConversation } from './access.ts';

/** Takes the conversation's next message seq (1, 2, …); rows lock in the caller's transaction. */
export async function nextSeq(tx: Tx, conversationId: string): Promise<number> {
  const [bumped] = (await bumpSeq(tx, { id: conversationId })).rows;
  if (!bumped) throw new Error(`nextSeq: no conversation ${conversationId}`);
  return Number(bumped.last_seq);
}

// Prepared once: every message takes a seq.
const bumpSeq = prepared((db, p: { id: string }) =>
  db
    .updateTable('conversations')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('id', '=', p.id)
    .returning('last_seq'),
);

/**
 * Raises a member's delivered and read marks (never lowers them; read implies delivered).
 * Returns the new marks, or null when nothing changed or the account is not a member.
 */
export async function raiseWatermarks(
  tx: Tx,
  options: {
    conversationId: string;
    accountId: string;
    delivered: number;
    read: number;
    /** Raise the read mark only if it stood just below `read` (nothing unread is skipped over). */
    readOnlyIfCaughtUp?: boolean;
  },
): Promise<{ delivered: number; read: number; before: { delivered: number; read: number } } | null> {
  const { conversationId, accountId } = options;
  const [current] = (await memberMarks(tx, { conversationId, accountId })).rows;
  if (!current) return null;
  const skipsUnread = options.readOnlyIfCaughtUp === true && Number(current.read_seq) < options.read - 1;
  const read = skipsUnread ? Number(current.read_seq) : Math.max(Number(current.read_seq), options.read);
  const delivered = Math.max(Number(current.delivered_seq), options.delivered, read);
  if (read === Number(current.read_seq) && delivered === Number(current.delivered_seq)) return null;
  await setMemberMarks(tx, { conversationId, accountId, read, delivered });
  return { delivered, read, before: { delivered: Number(current.delivered_seq), read: Number(current.read_seq) } };
}

// Prepared once: every read receipt and every acknowledgement in a direct chat or a small group.
const memberMarks = prepared((db, p: { conversationId: string; accountId: string }) =>
  db.selectFrom('members').select(['delivered_seq', 'read_seq']).where('conversation_id', '=', p.conversationId).where('account_id', '=', p.accountId),
);
const setMemberMarks = prepared((db, p: { conversationId: string; accountId: string; read: number; delivered: number }) =>
  db.updateTable('members').set({ read_seq: p.read, delivered_seq: p.delivered }).where('conversation_id', '=', p.conversationId).where('account_id', '=', p.accountId),
);

/** Accounts per statement in raiseDeliveredMany: well under both databases' parameter limits. */
const ACCOUNTS_PER_STATEMENT = 500;

/**
 * Raises the delivered mark of many current members of one conversation to `seq` at once: one
 * statement per few hundred members instead of a read and a write each (a channel post to 10,000
 * online subscribers brings 10,000 acknowledgements within a second). As raiseWatermarks with
 * read 0: never lowers a mark, and a read mark above `seq` lifts delivered to it. Members who
 * left are not touched. It reports no marks before and after, so it is for conversations whose
 * acknowledgements emit no receipt event (channels, large groups). Returns the rows raised.
 */
export async function raiseDeliveredMany(tx: Tx, options: { conversationId: string; seq: number; accountIds: readonly string[] }): Promise<number> {
  const { conversationId, seq } = options;
  let raised = 0;
  for (let i = 0; i < options.accountIds.length; i += ACCOUNTS_PER_STATEMENT) {
    const part = options.accountIds.slice(i, i + ACCOUNTS_PER_STATEMENT);
    const result = await tx
      .updateTable('members')
      .set({ delivered_seq: sql<number>`case when read_seq > cast(${seq} as bigint) then read_seq else cast(${seq} as bigint) end` })
      .where('conversation_id', '=', conversationId)
      .where('account_id', 'in', part)
      .where('left_cursor', 'is', null)
      .where('delivered_seq', '<', seq)
      .executeTakeFirst();
    raised += Number(result.numUpdatedRows);
  }
  return raised;
}

/**
 * A held message is released now, taking `seq`, but it was written at cursor `writtenCursor`. In a
 * group that hides earlier history from newcomers, members whose current stay began after it was
 * written do not read it, as they read nothing else written before they joined: their stay's
 * window is split around `seq` (history, previews, media links and receipts follow windows), and
 * one who had read everything before it is marked as having read it, so no unread count betrays
 * it. Returns true when the release must reach only members who joined by `writtenCursor` (the
 * caller's event says so); false when every current member reads it.
 */
export async function hideFromLaterJoiners(
  tx: Tx,
  options: { conversationId: string; seq: number; writtenCursor: number },
): Promise<boolean> {
  const { conversationId, seq } = options;
  const conversation = await tx.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirst();
  if (conversation?.kind !== 'group' || historyVisible(normaliseConversation(conversation))) return false;
  const later = await tx
    .selectFrom('members')
    .select(['account_id', 'delivered_seq', 'read_seq'])
    .where('conversation_id', '=', conversationId)
    .where('left_cursor', 'is', null)
    .where('joined_cursor', '>', options.writtenCursor)
    .execute();
  for (const m of later) {
    const open = await tx
      .selectFrom('member_windows')
      .select('from_seq')
      .where('conversation_id', '=', conversationId)
      .where('account_id', '=', m.account_id)
      .where('to_seq', 'is', null)
      .executeTakeFirst();
    if (open && Number(open.from_seq) <= seq) {
      if (Number(open.from_seq) === seq) {
        await tx
          .updateTable('member_windows')
          .set({ from_seq: seq + 1 })
          .where('conversation_id', '=', conversationId)
          .where('account_id', '=', m.account_id)
          .where('from_seq', '=', seq)
          .execute();
      } else {
        await tx
          .updateTable('member_windows')
          .set({ to_seq: seq - 1 })
          .where('conversation_id', '=', conversationId)
          .where('account_id', '=', m.account_id)
          .where('to_seq', 'is', null)
          .execute();
        await tx.insertInto('member_windows').values({ conversation_id: conversationId, account_id: m.account_id, from_seq: seq + 1, to_seq: null }).execute();
      }
    }
    if (Number(m.read_seq) >= seq - 1) {
      await tx
        .updateTable('members')
        .set({ read_seq: seq, delivered_seq: Math.max(seq, Number(m.delivered_seq)) })
        .where('conversation_id', '=', conversationId)
        .where('account_id', '=', m.account_id)
        .execute();
    }
  }
  return true;
}
