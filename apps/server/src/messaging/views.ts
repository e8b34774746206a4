/** Turns message rows into the API's Message shape, with sender handles and reaction counts. */
import type { AccountKind, MediaSummary, Message } from '@mmd/contracts';
import { forwardLabel, spreadLabel } from './forward-limits.ts';
import { accountsByIds } from '../accounts/index.ts';
import { interactiveFieldsOf } from '../interactive/index.ts';
import { mediaOfMessages } from '../media/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { MessagesTable } from './schema.ts';
import { previewViews } from './link-previews.ts';
import { mentionsOf } from './mentions.ts';

/**
 * `viewerId`: whose view of interactive content (their own votes and answers; callback data for
 * the sender). Leave it out (null) for the view events carry to everyone.
 */
export async function loadMessageViews(db: Database['db'] | Tx, rows: MessagesTable[], options: { viewerId?: string | null; now?: number } = {}): Promise<Message[]> {
  if (rows.length === 0) return [];
  const senders = await accountsByIds(db, [...rows.map((r) => r.sender_id), ...rows.flatMap((r) => (r.agent_id ? [r.agent_id] : []))]);
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
  const interactive = await interactiveFieldsOf(db, rows, { viewerId: options.viewerId ?? null, media, now: options.now ?? Date.now() });
  const previews = await previewViews(
    db,
    rows.filter((r) => r.deleted_at === null && r.text !== null).map((r) => r.id),
  );
  const mentions = await mentionsOf(db, rows.filter((r) => r.deleted_at === null).map((r) => r.id));
  return rows.map((r) => {
    const fields = interactive.get(r.id);
    // A card's header is attached to the message (so its viewers may fetch it) but shown in the card.
    const shown = fields?.cards ? [] : (media.get(r.id) ?? []);
    const sender = senders.get(r.sender_id);
    const agent = r.agent_id ? { id: r.agent_id, handle: senders.get(r.agent_id)?.handle ?? 'deleted' } : undefined;
    const message = withInteractive({ ...toMessage(r, sender?.handle ?? 'deleted', byMessage.get(r.id) ?? [], shown, sender?.kind, agent), mentions: mentions.get(r.id) ?? [] }, fields);
    const preview = previews.get(r.id);
    return preview ? { ...message, link_preview: preview } : message;
  });
}

/** A message with its interactive fields (none once it is deleted). */
export function withInteractive(message: Message, fields: Partial<Message> | undefined): Message {
  if (!fields || message.deleted) return message;
  return { ...message, ...fields };
}

/**
 * Where a message sits: its seq once sent; a held one (pending or failed, seen by its sender
 * only) has no seq yet and sits just after the message that was newest when it was written.
 */
export function positionOf(r: Pick<MessagesTable, 'seq' | 'status' | 'held_after'>): number {
  if (r.status === 'sent' || r.held_after === null || r.held_after === undefined) return Number(r.seq);
  return Number(r.held_after) + 1;
}

/**
 * Who hears about a message (its edits, reactions, deletion): everyone in its conversation, or —
 * for one released into a group hiding its history after newcomers joined — only the members
 * there when it was written, as its `message.created` did (see pending.ts).
 */
export function audienceOf(r: Pick<MessagesTable, 'status' | 'written_cursor'>): number | null {
  return r.status === 'sent' && r.written_cursor !== null && r.written_cursor !== undefined ? Number(r.written_cursor) : null;
}

/**
 * `senderKind`: a bot's or business's messages say so (`sender_kind`), for clients to label them.
 * `agent`: the person on a business's team who wrote it (business messages only).
 */
export function toMessage(
  r: MessagesTable,
  senderHandle: string,
  reactions: { emoji: string; count: number }[],
  media: MediaSummary[] = [],
  senderKind: AccountKind = 'person',
  agent?: { id: string; handle: string },
): Message {
  const deleted = r.deleted_at !== null;
  return {
    id: r.id,
    conversation_id: r.conversation_id,
    seq: positionOf(r),
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
            label: forwardLabel(Number(r.forward_hops)),
          }
        : null,
    spread:
      r.spread_cluster && !deleted
        ? {
            cluster_id: r.spread_cluster,
            hops: Number(r.spread_hops ?? 0),
            label: Number(r.spread_fast ?? 0) === 1 ? 'spreading_fast' : spreadLabel(Number(r.spread_hops ?? 0)),
            // Only a message held for review is pending with a spread (one waiting for its media has none yet).
            ...(r.status === 'pending' ? { held: true } : {}),
          }
        : null,
    reactions: deleted ? [] : reactions,
    media: deleted ? [] : media,
    // Set by loadMessageViews (mentions.ts); a message built here has none until then.
    mentions: [],
    status: r.status,
    created_at: Number(r.created_at),
    edited_at: r.edited_at === null ? null : Number(r.edited_at),
    deleted,
    ...(deleted && r.deleted_reason === 'removed' ? { removed: true } : {}),
    ...(Number(r.automated) === 1 ? { automated: true } : {}),
    ...(senderKind !== 'person' ? { sender_kind: senderKind } : {}),
    ...(agent && senderKind === 'business' ? { agent } : {}),
  };
}
