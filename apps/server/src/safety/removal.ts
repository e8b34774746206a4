/**
 * Removing content everywhere at once: media items become `removed` in one transaction (the file
 * route refuses them from that commit on, so every signed URL dies together), every message
 * carrying them is deleted for everyone in batches — each delete an event that connected clients
 * receive live — and finally the renditions and originals leave storage.
 */
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/write.ts';
import { summarise, type MediaRow } from '../media/store.ts';
import type { SafetyIndexes } from './indexes.ts';

/** What the uploader of a removed item is told; like a block, it names no bank. */
export const REMOVED_REASON = "This file can't be shared on MMD";
/** Messages deleted per transaction: short transactions keep other writers moving during a big takedown. */
const BATCH = 500;

export interface RemovalResult {
  mediaRemoved: string[];
  messagesRemoved: string[];
  conversations: Set<string>;
}

/** Called after every committed batch with the totals so far (a takedown shows them live). */
export type RemovalProgress = (soFar: RemovalResult) => Promise<void>;

export function createRemoval(deps: { db: Database; write: WriteWithEvents; blobs: BlobStore; indexes: SafetyIndexes; clock: () => number; log: { warn(o: object, m: string): void } }) {
  const { db, write, clock } = deps;

  /** Deletes messages for everyone (or fails them, if never delivered). Returns those changed. */
  async function removeMessages(messageIds: string[], result: RemovalResult, onProgress?: RemovalProgress): Promise<void> {
    for (let i = 0; i < messageIds.length; i += BATCH) {
      const part = messageIds.slice(i, i + BATCH);
      await write(async (tx, emit) => {
        const now = clock();
        const rows = await tx.selectFrom('messages').select(['id', 'conversation_id', 'seq', 'sender_id', 'status']).where('id', 'in', part).where('deleted_at', 'is', null).execute();
        if (rows.length === 0) return;
        const ids = rows.map((r) => r.id);
        await tx.updateTable('messages').set({ text: null, deleted_at: now }).where('id', 'in', ids).execute();
        await tx.deleteFrom('reactions').where('message_id', 'in', ids).execute();
        for (const r of rows) {
          if (r.status === 'sent') {
            // The same event as a delete for everyone, so every client already knows what to do.
            await emit({ type: 'message.deleted', conversationId: r.conversation_id, data: { id: r.id, conversation_id: r.conversation_id, seq: Number(r.seq), by: null, reason: 'removed' }, at: now });
            result.conversations.add(r.conversation_id);
          } else if (r.status === 'pending') {
            await tx.updateTable('messages').set({ status: 'failed' }).where('id', '=', r.id).execute();
            await emit({ type: 'message.failed', conversationId: null, targetAccountId: r.sender_id, data: { message_id: r.id, conversation_id: r.conversation_id, reason: REMOVED_REASON }, at: now });
          }
          result.messagesRemoved.push(r.id);
        }
      });
      await onProgress?.(result);
    }
  }

  return {
    removeMessages: async (messageIds: string[]): Promise<RemovalResult> => {
      const result: RemovalResult = { mediaRemoved: [], messagesRemoved: [], conversations: new Set() };
      await removeMessages(messageIds, result);
      return result;
    },

    /** Removes media items and every message carrying them (and `extraMessageIds`), then their files. */
    async removeMedia(mediaIds: string[], options: { extraMessageIds?: string[]; onProgress?: RemovalProgress } = {}): Promise<RemovalResult> {
      const result: RemovalResult = { mediaRemoved: [], messagesRemoved: [], conversations: new Set() };
      const removed: MediaRow[] = [];
      for (let i = 0; i < mediaIds.length; i += BATCH) {
        const part = mediaIds.slice(i, i + BATCH);
        await write(async (tx, emit) => {
          const now = clock();
          const rows = (await tx.selectFrom('media').selectAll().where('id', 'in', part).where('status', '!=', 'removed').execute()) as MediaRow[];
          if (rows.length === 0) return;
          const ids = rows.map((r) => r.id);
          await tx.updateTable('media').set({ status: 'removed', renditions: '{}', safety: null, reason: REMOVED_REASON, reason_code: 'removed', updated_at: now }).where('id', 'in', ids).execute();
          await tx.updateTable('safety_media_hashes').set({ removed_at: now }).where('media_id', 'in', ids).execute();
          for (const r of rows) {
            const after = { ...r, status: 'removed' as const, renditions: '{}', safety: null };
            await emit({ type: 'media.updated', conversationId: null, targetAccountId: r.owner_id, data: { ...summarise(after), reason: REMOVED_REASON, reason_code: 'removed' }, at: now });
          }
          removed.push(...rows);
          result.mediaRemoved.push(...ids);
        });
        await options.onProgress?.(result);
      }
      const carrying: string[] = [...(options.extraMessageIds ?? [])];
      for (let i = 0; i < mediaIds.length; i += BATCH) {
        const rows = await db.db
          .selectFrom('message_media')
          .innerJoin('messages', 'messages.id', 'message_media.message_id')
          .select('messages.id')
          .where('message_media.media_id', 'in', mediaIds.slice(i, i + BATCH))
          .where('messages.deleted_at', 'is', null)
          .execute();
        carrying.push(...rows.map((r) => r.id));
      }
      await removeMessages([...new Set(carrying)], result, options.onProgress);
      // Files last: nothing serves them any more, and a crash here leaves only orphans, not leaks.
      const hashRows = result.mediaRemoved.length
        ? await db.db.selectFrom('safety_media_hashes').select('id').where('media_id', 'in', result.mediaRemoved).execute()
        : [];
      for (const h of hashRows) deps.indexes.media.remove(Number(h.id));
      await Promise.all(
        removed.map(async (r) => {
          await deps.blobs.deletePrefix(`media/${r.id}/`).catch((err) => deps.log.warn({ err, media: r.id }, 'could not delete renditions'));
          const shared = await db.db.selectFrom('media').select('id').where('original_key', '=', r.original_key).where('status', '!=', 'removed').limit(1).executeTakeFirst();
          if (!shared) await deps.blobs.delete(r.original_key).catch(() => {});
        }),
      );
      return result;
    },
  };
}

export type Removal = ReturnType<typeof createRemoval>;
