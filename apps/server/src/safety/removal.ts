/**
 * Removing content everywhere at once: media items become `removed` in one transaction (the file
 * route refuses them from that commit on, so every signed URL dies together), every message
 * carrying them is deleted for everyone in batches — each delete an event that connected clients
 * receive live — and finally the renditions and originals leave storage.
 */
import { type MediaRow, deleteRemovedFiles, markRemoved, messagesCarrying } from '../media/index.ts';
import { deleteForEveryone } from '../messaging/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
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

  /** Deletes messages for everyone through messaging (or fails them, if never delivered), a batch per transaction. */
  async function removeMessages(messageIds: string[], result: RemovalResult, onProgress?: RemovalProgress): Promise<void> {
    for (let i = 0; i < messageIds.length; i += BATCH) {
      const part = messageIds.slice(i, i + BATCH);
      const done = await write((tx, emit) => deleteForEveryone(tx, emit, { messageIds: part, actor: null, reason: 'removed', pendingFailureReason: REMOVED_REASON, now: clock() }));
      result.messagesRemoved.push(...done.messageIds);
      for (const c of done.conversationIds) result.conversations.add(c);
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
          const rows = await markRemoved(tx, emit, { mediaIds: part, reason: REMOVED_REASON, now });
          if (rows.length === 0) return;
          const ids = rows.map((r) => r.id);
          await tx.updateTable('safety_media_hashes').set({ removed_at: now }).where('media_id', 'in', ids).execute();
          removed.push(...rows);
          result.mediaRemoved.push(...ids);
        });
        await options.onProgress?.(result);
      }
      const carrying: string[] = [...(options.extraMessageIds ?? [])];
      for (let i = 0; i < mediaIds.length; i += BATCH) carrying.push(...(await messagesCarrying(db.db, mediaIds.slice(i, i + BATCH))));
      await removeMessages([...new Set(carrying)], result, options.onProgress);
      // Files last: nothing serves them any more, and a crash here leaves only orphans, not leaks.
      const hashRows = result.mediaRemoved.length
        ? await db.db.selectFrom('safety_media_hashes').select('id').where('media_id', 'in', result.mediaRemoved).execute()
        : [];
      for (const h of hashRows) deps.indexes.media.remove(Number(h.id));
      await deleteRemovedFiles(deps, removed);
      return result;
    },
  };
}

export type Removal = ReturnType<typeof createRemoval>;
