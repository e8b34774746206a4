/**
 * Media in messages. A message whose media is still processing is stored as `pending` and reaches
 * recipients (as its `message.created` event) the moment the last item is ready; if an item fails,
 * the sender is told and nobody else ever sees the message.
 */
import { type AiDisclosure, MAX_MEDIA_PER_MESSAGE } from '@mmd/contracts';
import { AppError } from '../errors.ts';
import type { Tx } from '../platform/db/index.ts';
import { type SpreadPolicy, deliverPending, failPending, pendingAmong } from '../messaging/index.ts';
import type { Emit } from '../sync/index.ts';
import { type MediaRow, type MediaSummary, PREVIEW_POSITION, summarise } from './store.ts';

/** Checks the sender may attach these items and records them; says whether to hold the message. */
export async function attachMedia(tx: Tx, options: { messageId: string; mediaIds: string[]; senderId: string; forwarded?: boolean; aiDisclosure?: AiDisclosure }) {
  const { mediaIds } = options;
  if (mediaIds.length === 0) return { pending: false, summaries: [] as MediaSummary[] };
  if (mediaIds.length > MAX_MEDIA_PER_MESSAGE) throw new AppError('validation_failed', `at most ${MAX_MEDIA_PER_MESSAGE} media items per message`);
  if (new Set(mediaIds).size !== mediaIds.length) throw new AppError('validation_failed', 'a media item appears twice');
  const rows = (await tx.selectFrom('media').selectAll().where('id', 'in', mediaIds).execute()) as MediaRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of mediaIds) {
    const row = byId.get(id);
    // Forwards re-use media the sender can already see (checked by the caller through the source).
    if (!row || (!options.forwarded && row.owner_id !== options.senderId)) throw new AppError('not_found', `media ${id} not found`);
    if (row.status === 'failed' || row.status === 'removed') throw new AppError('validation_failed', `media ${id} cannot be sent: ${row.reason ?? 'it failed processing'}`);
  }
  await tx
    .insertInto('message_media')
    .values(mediaIds.map((media_id, position) => ({ message_id: options.messageId, media_id, position })))
    .execute();
  // A disclosure at send time marks the sender's own items (never a forwarded one of someone
  // else's); it adds a claim and never takes one back, so "generated" is not lowered to "partial".
  const disclose = options.aiDisclosure;
  if (disclose) {
    const own = rows.filter((r) => r.owner_id === options.senderId && r.ai_disclosure !== 'generated' && r.ai_disclosure !== disclose);
    if (own.length > 0) {
      await tx.updateTable('media').set({ ai_disclosure: disclose }).where('id', 'in', own.map((r) => r.id)).execute();
      for (const r of own) byId.set(r.id, { ...r, ai_disclosure: disclose });
    }
  }
  const ordered = mediaIds.map((id) => byId.get(id)!);
  return { pending: ordered.some((r) => r.status !== 'ready'), summaries: ordered.map(summarise) };
}

/** Summaries of each message's media, in album order. */
export async function mediaOfMessages(db: Pick<Tx, 'selectFrom'>, messageIds: string[]): Promise<Map<string, MediaSummary[]>> {
  const result = new Map<string, MediaSummary[]>();
  if (messageIds.length === 0) return result;
  const rows = await db
    .selectFrom('message_media')
    .innerJoin('media', 'media.id', 'message_media.media_id')
    .selectAll('media')
    .select(['message_media.message_id', 'message_media.position'])
    .where('message_media.message_id', 'in', messageIds)
    .where('message_media.position', '<', PREVIEW_POSITION)
    .orderBy('message_media.position')
    .execute();
  for (const r of rows) {
    const list = result.get(r.message_id) ?? [];
    list.push(summarise(r as unknown as MediaRow));
    result.set(r.message_id, list);
  }
  return result;
}

/**
 * After an item finishes: every pending message that carried it and now has all its media ready
 * is delivered; one with a failed item is marked failed and its sender told why.
 */
export async function settlePendingMessages(tx: Tx, emit: Emit, options: { mediaId: string; now: number; spread: SpreadPolicy }) {
  const carrying = await tx.selectFrom('message_media').select('message_id').where('media_id', '=', options.mediaId).execute();
  for (const messageId of await pendingAmong(
    tx,
    carrying.map((c) => c.message_id),
  )) {
    const items = await tx
      .selectFrom('message_media')
      .innerJoin('media', 'media.id', 'message_media.media_id')
      .select(['media.status', 'media.reason'])
      .where('message_media.message_id', '=', messageId)
      .execute();
    const failed = items.find((i) => i.status === 'failed' || i.status === 'removed');
    if (failed) {
      await failPending(tx, emit, { messageId, reason: failed.reason ?? 'a media item could not be processed', now: options.now });
      continue;
    }
    if (items.some((i) => i.status !== 'ready')) continue;
    await deliverPending(tx, emit, { messageId, now: options.now, spread: options.spread });
  }
}
