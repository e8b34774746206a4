/**
 * What other capabilities may do to media items, so none of them writes media's tables: safety
 * removes, blurs and releases items through these functions, each inside the caller's write
 * transaction (and each telling the uploader with a `media.updated` event).
 */
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { Emit } from '../sync/index.ts';
import { settlePendingMessages } from './attach.ts';
import type { SpreadPolicy } from '../messaging/index.ts';
import { type MediaRow, PREVIEW_POSITION, summarise } from './store.ts';

type Reader = Database['db'] | Tx;

/**
 * Marks these items removed (those removed before are skipped): from this commit the files route
 * refuses them, so every signed URL dies together. Returns the rows as they were before.
 */
export async function markRemoved(
  tx: Tx,
  emit: Emit,
  options: { mediaIds: string[]; reason: string; now: number },
): Promise<MediaRow[]> {
  if (options.mediaIds.length === 0) return [];
  const { now, reason } = options;
  const rows = (await tx
    .selectFrom('media')
    .selectAll()
    .where('id', 'in', options.mediaIds)
    .where('status', '!=', 'removed')
    .execute()) as MediaRow[];
  if (rows.length === 0) return [];
  await tx
    .updateTable('media')
    .set({
      status: 'removed',
      renditions: '{}',
      safety: null,
      reason,
      reason_code: 'removed',
      updated_at: now,
    })
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  for (const r of rows) {
    const after = { ...r, status: 'removed' as const, renditions: '{}', safety: null };
    await emit({
      type: 'media.updated',
      conversationId: null,
      targetAccountId: r.owner_id,
      data: { ...summarise(after), reason, reason_code: 'removed' },
      at: now,
    });
  }
  return rows;
}

/**
 * Deletes removed items' renditions, and their originals unless another live item shares the
 * bytes (originals are content-addressed). Failures are logged: an orphaned file is served by
 * nothing, since the row says removed.
 */
export async function deleteRemovedFiles(
  deps: { db: Database; blobs: BlobStore; log: { warn(o: object, m: string): void } },
  rows: MediaRow[],
): Promise<void> {
  await Promise.all(
    rows.map(async (r) => {
      await deps.blobs
        .deletePrefix(`media/${r.id}/`)
        .catch((err) => deps.log.warn({ err, media: r.id }, 'could not delete renditions'));
      const shared = await deps.db.db
        .selectFrom('media')
        .select('id')
        .where('original_key', '=', r.original_key)
        .where('status', '!=', 'removed')
        .limit(1)
        .executeTakeFirst();
      if (!shared) await deps.blobs.delete(r.original_key).catch(() => {});
    }),
  );
}

/** Re-reads an item that just changed and tells its owner's devices (`media.updated`). */
async function tellOwner(tx: Tx, emit: Emit, options: { mediaId: string; now: number }): Promise<MediaRow> {
  const row = (await tx
    .selectFrom('media')
    .selectAll()
    .where('id', '=', options.mediaId)
    .executeTakeFirstOrThrow()) as MediaRow;
  await emit({
    type: 'media.updated',
    conversationId: null,
    targetAccountId: row.owner_id,
    data: { ...summarise(row), reason: null, reason_code: null },
    at: options.now,
  });
  return row;
}

/** Flags an item to be shown behind a warning; returns its row, or null when it was flagged (or gone) already. */
export async function flagBlurred(
  tx: Tx,
  emit: Emit,
  options: { mediaId: string; now: number },
): Promise<MediaRow | null> {
  const { mediaId, now } = options;
  const changed = await tx
    .updateTable('media')
    .set({ safety: 'blur', updated_at: now })
    .where('id', '=', mediaId)
    .where('status', 'in', ['ready', 'held'])
    .where((eb) => eb.or([eb('safety', 'is', null), eb('safety', '!=', 'blur')]))
    .executeTakeFirst();
  if (Number(changed.numUpdatedRows) === 0) return null;
  const row = await tellOwner(tx, emit, { mediaId, now });
  return row;
}

/** A held upload released: ready, and the messages that waited for it are delivered now. False if it was not held. */
export async function releaseHeld(
  tx: Tx,
  emit: Emit,
  options: { mediaId: string; now: number; spread: SpreadPolicy },
): Promise<boolean> {
  const { mediaId, now } = options;
  const changed = await tx
    .updateTable('media')
    .set({ status: 'ready', updated_at: now })
    .where('id', '=', mediaId)
    .where('status', '=', 'held')
    .executeTakeFirst();
  if (Number(changed.numUpdatedRows) === 0) return false;
  await tellOwner(tx, emit, { mediaId, now });
  await settlePendingMessages(tx, emit, { mediaId, now, spread: options.spread });
  return true;
}

/** The messages that carry any of these items (deleted ones included; callers filter by status through messaging). */
export async function messagesCarrying(db: Reader, mediaIds: string[]): Promise<string[]> {
  if (mediaIds.length === 0) return [];
  const rows = await db
    .selectFrom('message_media')
    .select('message_id')
    .distinct()
    .where('media_id', 'in', mediaIds)
    .execute();
  return rows.map((r) => r.message_id);
}

/** The items each message carries, in album order (not its link preview's picture). */
export async function mediaOfMessageIds(
  db: Reader,
  messageIds: string[],
): Promise<{ messageId: string; mediaId: string }[]> {
  if (messageIds.length === 0) return [];
  const rows = await db
    .selectFrom('message_media')
    .select(['message_id', 'media_id'])
    .where('message_id', 'in', messageIds)
    .where('position', '<', PREVIEW_POSITION)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({ messageId: r.message_id, mediaId: r.media_id }));
}

/** Rows of these items, in no particular order (missing ids are left out). */
export async function loadMediaRows(db: Reader, mediaIds: string[]): Promise<MediaRow[]> {
  const rows: MediaRow[] = [];
  // Chunks keep each IN list within both databases' parameter limits.
  for (let i = 0; i < mediaIds.length; i += 500) {
    rows.push(...((await db.selectFrom('media').selectAll().where('id', 'in', mediaIds.slice(i, i + 500)).execute()) as MediaRow[]));
  }
  return rows;
}

/** Items not removed whose original has one of these content-addressed keys (`sha256/<hex>`). */
export async function liveMediaWithOriginals(db: Reader, originalKeys: string[]): Promise<string[]> {
  if (originalKeys.length === 0) return [];
  const rows = await db
    .selectFrom('media')
    .select('id')
    .where('original_key', 'in', originalKeys)
    .where('status', '!=', 'removed')
    .execute();
  return rows.map((r) => r.id);
}


/** Puts a link preview's picture on its message (messaging's link previews). */
export async function attachPreviewImage(tx: Tx, options: { messageId: string; mediaId: string }): Promise<void> {
  await tx.deleteFrom('message_media').where('message_id', '=', options.messageId).where('position', '=', PREVIEW_POSITION).execute();
  await tx.insertInto('message_media').values({ message_id: options.messageId, media_id: options.mediaId, position: PREVIEW_POSITION }).execute();
}

/** Takes a link preview's picture off its message (its sender removed the preview). */
export async function detachPreviewImage(tx: Tx, messageId: string): Promise<void> {
  await tx.deleteFrom('message_media').where('message_id', '=', messageId).where('position', '=', PREVIEW_POSITION).execute();
}
