/** Turns message rows into the API's Message shape, with sender handles and reaction counts. */
import type { MediaSummary, Message } from '@mmd/contracts';
import { mediaOfMessages } from '../media/attach.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { MessagesTable } from '../platform/db/schema.ts';

export async function loadMessageViews(db: Database['db'] | Tx, rows: MessagesTable[]): Promise<Message[]> {
  if (rows.length === 0) return [];
  const senderIds = [...new Set(rows.map((r) => r.sender_id))];
  const senders = await db.selectFrom('accounts').select(['id', 'handle']).where('id', 'in', senderIds).execute();
  const handles = new Map(senders.map((s) => [s.id, s.handle]));
  const reactions = await db
    .selectFrom('reactions')
    .select(['message_id', 'emoji', (eb) => eb.fn.countAll<number>().as('count')])
    .where('message_id', 'in', rows.map((r) => r.id))
    .groupBy(['message_id', 'emoji'])
    .orderBy('emoji')
    .execute();
  const byMessage = new Map<string, { emoji: string; count: number }[]>();
  for (const r of reactions) {
    const list = byMessage.get(r.message_id) ?? [];
    list.push({ emoji: r.emoji, count: Number(r.count) });
    byMessage.set(r.message_id, list);
  }
  const media = await mediaOfMessages(db, rows.map((r) => r.id));
  return rows.map((r) => toMessage(r, handles.get(r.sender_id) ?? 'deleted', byMessage.get(r.id) ?? [], media.get(r.id) ?? []));
}

export function toMessage(r: MessagesTable, senderHandle: string, reactions: { emoji: string; count: number }[], media: MediaSummary[] = []): Message {
  const deleted = r.deleted_at !== null;
  return {
    id: r.id,
    conversation_id: r.conversation_id,
    seq: Number(r.seq),
    sender_id: r.sender_id,
    sender_handle: senderHandle,
    text: deleted ? null : r.text,
    reply_to: r.reply_to,
    forward:
      r.forward_origin_id && !deleted
        ? {
            origin_message_id: r.forward_origin_id,
            origin_conversation_id: r.forward_origin_conversation_id!,
            origin_sender_id: r.forward_origin_sender_id!,
            hops: Number(r.forward_hops),
          }
        : null,
    reactions: deleted ? [] : reactions,
    media: deleted ? [] : media,
    status: r.status,
    created_at: Number(r.created_at),
    edited_at: r.edited_at === null ? null : Number(r.edited_at),
    deleted,
  };
}
