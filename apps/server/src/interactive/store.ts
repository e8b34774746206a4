/**
 * Writes and reads of interactive content that messaging makes through this capability's index:
 * storing a message's content as it is sent, and the history filter by type.
 */
import type { MessageContentType } from '@mmd/contracts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { PreparedContent } from './content.ts';

type Reader = Database['db'] | Tx;

/** Stores a message's interactive content, with a zero counter per poll option. */
export async function storeInteractive(
  tx: Tx,
  options: { messageId: string; conversationId: string; senderId: string; prepared: PreparedContent; now: number },
): Promise<void> {
  const { prepared, now } = options;
  await tx
    .insertInto('interactive_contents')
    .values({
      message_id: options.messageId,
      conversation_id: options.conversationId,
      sender_id: options.senderId,
      type: prepared.type,
      has_buttons: prepared.hasButtons ? 1 : 0,
      has_quick_replies: prepared.hasQuickReplies ? 1 : 0,
      content: JSON.stringify(prepared.content),
      closes_at: prepared.closesAt,
      closed_at: null,
      responders: 0,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const poll = prepared.content.poll;
  if (poll) {
    await tx
      .insertInto('poll_tallies')
      .values(poll.options.map((_, i) => ({ message_id: options.messageId, option_index: i, votes: 0 })))
      .execute();
  }
}

/** The ids of a conversation's messages carrying `type` of content, as a subquery for history's filter. */
export function messagesOfType(db: Reader, conversationId: string, type: MessageContentType) {
  let q = db.selectFrom('interactive_contents').select('interactive_contents.message_id').where('interactive_contents.conversation_id', '=', conversationId);
  if (type === 'buttons') q = q.where('interactive_contents.has_buttons', '=', 1);
  else if (type === 'quick_replies') q = q.where('interactive_contents.has_quick_replies', '=', 1);
  else if (type !== 'interactive') q = q.where('interactive_contents.type', '=', type);
  return q;
}

/**
 * A message deleted for everyone (by its sender, an admin or moderators) loses its interactive
 * content with its text: the content row, votes and counters, form answers, callback queries.
 */
export async function forgetInteractive(tx: Tx, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  const carrying = await tx.selectFrom('interactive_contents').select('message_id').where('message_id', 'in', messageIds).execute();
  if (carrying.length === 0) return;
  const ids = carrying.map((r) => r.message_id);
  await tx.deleteFrom('poll_votes').where('message_id', 'in', ids).execute();
  await tx.deleteFrom('poll_tallies').where('message_id', 'in', ids).execute();
  await tx.deleteFrom('form_submissions').where('message_id', 'in', ids).execute();
  await tx.deleteFrom('callback_queries').where('message_id', 'in', ids).execute();
  await tx.deleteFrom('interactive_contents').where('message_id', 'in', ids).execute();
}
