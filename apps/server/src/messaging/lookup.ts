/**
 * Reads other capabilities need about messages (safety's reports, reviews and sweeps), so none of
 * them queries messaging's tables itself.
 */
import { handlesOf } from '../accounts/index.ts';
import { type SeqRange, kindsOf, seqIn } from '../conversations/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { MessagesTable } from './schema.ts';

type Reader = Database['db'] | Tx;

/** One message row, or undefined. */
export async function findMessage(db: Reader, messageId: string): Promise<MessagesTable | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
}

/**
 * The id of the first message (by seq) this account sent in a conversation that was delivered;
 * undefined if none. A held message has no seq yet (a negative placeholder): it counts once released.
 */
export async function firstMessageIdFrom(db: Reader, options: { conversationId: string; senderId: string }): Promise<string | undefined> {
  const row = await db
    .selectFrom('messages')
    .select('id')
    .where('conversation_id', '=', options.conversationId)
    .where('sender_id', '=', options.senderId)
    .where('status', '=', 'sent')
    .orderBy('seq', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** Of these messages, those delivered and not deleted (what members can see now), with their conversation. */
export async function visibleMessagesAmong(
  db: Reader,
  messageIds: string[],
): Promise<{ id: string; conversationId: string }[]> {
  if (messageIds.length === 0) return [];
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'conversation_id'])
    .where('id', 'in', messageIds)
    .where('status', '=', 'sent')
    .where('deleted_at', 'is', null)
    .execute();
  return rows.map((r) => ({ id: r.id, conversationId: r.conversation_id }));
}

/** What a moderator sees of a reported message: where it was, who sent it, its text unless deleted. */
export interface MessageForReview {
  id: string;
  conversationId: string;
  conversationKind: 'direct' | 'group' | 'channel';
  senderId: string;
  /** Null when the sender's account is gone. */
  senderHandle: string | null;
  text: string | null;
  deleted: boolean;
  createdAt: number;
}

export async function messagesForReview(db: Reader, messageIds: string[]): Promise<MessageForReview[]> {
  if (messageIds.length === 0) return [];
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'conversation_id', 'sender_id', 'text', 'deleted_at', 'created_at'])
    .where('id', 'in', messageIds)
    .execute();
  const kinds = await kindsOf(
    db,
    rows.map((m) => m.conversation_id),
  );
  const handles = await handlesOf(
    db,
    rows.map((m) => m.sender_id),
  );
  // A message always belongs to a conversation; one gone with it is not shown.
  return rows.flatMap((m) => {
    const kind = kinds.get(m.conversation_id);
    if (!kind) return [];
    return [
      {
        id: m.id,
        conversationId: m.conversation_id,
        conversationKind: kind,
        senderId: m.sender_id,
        senderHandle: handles.get(m.sender_id) ?? null,
        text: m.deleted_at === null ? m.text : null,
        deleted: m.deleted_at !== null,
        createdAt: Number(m.created_at),
      },
    ];
  });
}

/**
 * The newest delivered, undeleted messages one account sent in a conversation, inside `ranges`
 * (what the asker may read; null: everything), newest first: what reporting that account reports.
 */
export async function latestMessagesFrom(db: Reader, options: { conversationId: string; senderId: string; ranges: SeqRange[] | null; limit: number }): Promise<MessagesTable[]> {
  const { ranges } = options;
  let q = db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', options.conversationId)
    .where('sender_id', '=', options.senderId)
    .where('status', '=', 'sent')
    .where('deleted_at', 'is', null);
  if (ranges) q = q.where((eb) => seqIn(eb, ranges));
  return q.orderBy('seq', 'desc').limit(options.limit).execute();
}
