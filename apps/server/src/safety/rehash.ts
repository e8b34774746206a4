/**
 * Re-hashing stored uploads (the `safety-rehash` job). An upload's image sets are made once, when
 * it is screened; when a later build makes them differently (more reference anchors, a query that
 * also hashes each quarter's centre), the uploads stored before keep their older sets, which still
 * match (sets of one scheme stay comparable) but miss what the new ones catch: a takedown or a new
 * bank signal would not find an older upload's collage or a crop of it the way it finds a new one's.
 *
 * Each row records the fingerprint of the parameters its sets were made with (`hash_params`); at
 * start the server queues this job when any live image row has another (or none), and the job
 * walks those rows in id order, a page per run, each page queueing the next:
 * - the file it hashes is the original while its blob is stored (the operator keeps originals,
 *   or another item shares its bytes), else the largest image rendition (the original is dropped
 *   after processing by default; the sets are made on planes of at most 512 pixels, so a
 *   rendition gives the same sets as the original within the few bits a re-encode moves them);
 * - the row's query and reference sets are replaced, and from the original its plain PDQ hash too
 *   (a rendition's plain hash is not the original's: the exchange value stays the original's);
 * - an item with no file left (removed, erased) is skipped; it stays unmarked, and the next day's
 *   walk looks at it again (one lookup).
 * The process running a page puts the new sets into its own media index at once; other processes
 * search with the sets they loaded (older, still comparable) until they restart, and every search
 * verifies against the stored row, so a candidate is judged by its new sets everywhere.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ROBUST_PARAMS } from '@mmd/phash';
import { loadMediaRows } from '../media/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { JobPayloads } from '../jobs.ts';
import type { Hasher } from './hasher.ts';
import type { SafetyIndexes } from './indexes.ts';

/** Rows a run re-hashes before handing on to the next run. */
export const REHASH_PAGE = 25;

/**
 * The fingerprint of the parameters this build makes image sets with: any change to them (a new
 * scheme, more anchors, another query window) gives another, and stored uploads are re-hashed.
 */
export function imageHashParams(): string {
  return createHash('sha256').update(JSON.stringify(ROBUST_PARAMS)).digest('hex').slice(0, 16);
}

interface RenditionEntry {
  key: string;
  mime: string;
  width?: number;
  height?: number;
}

/** The largest image rendition of a media row's renditions JSON, or null. */
function largestImageRendition(renditionsJson: string): RenditionEntry | null {
  let renditions: Record<string, RenditionEntry>;
  try {
    renditions = JSON.parse(renditionsJson) as Record<string, RenditionEntry>;
  } catch {
    return null;
  }
  let best: RenditionEntry | null = null;
  for (const r of Object.values(renditions)) {
    if (!r || typeof r.key !== 'string' || !String(r.mime).startsWith('image/')) continue;
    const pixels = (r.width ?? 0) * (r.height ?? 0);
    if (!best || pixels > (best.width ?? 0) * (best.height ?? 0)) best = r;
  }
  return best;
}

export function createRehash(deps: {
  db: Database;
  hasher: Pick<Hasher, 'hashFile'>;
  blobs: BlobStore;
  indexes: Pick<SafetyIndexes, 'replaceMedia'>;
  /** Queues a page (a job of its own: a restart resumes where the last page ended). */
  enqueue: (payload: JobPayloads['safety-rehash']) => Promise<unknown>;
  log: { warn(o: object, m: string): void };
  /** Rows per run (default REHASH_PAGE). */
  pageSize?: number;
}) {
  const { db, blobs } = deps;
  const pageSize = deps.pageSize ?? REHASH_PAGE;
  const params = imageHashParams();

  /** Live image rows after `afterId` whose sets were made with other parameters, in id order. */
  const stale = (afterId: number, limit: number) =>
    db.db
      .selectFrom('safety_media_hashes')
      .select(['id', 'media_id'])
      .where('id', '>', afterId)
      .where('kind', '=', 'image')
      .where('removed_at', 'is', null)
      .where((eb) => eb.or([eb('hash_params', 'is', null), eb('hash_params', '!=', params)]))
      .orderBy('id')
      .limit(limit)
      .execute();

  /**
   * Hashes the item's file: the original while its blob is stored (the operator keeps originals,
   * or another item shares its bytes), else — or when the original cannot be read or hashed — the
   * largest image rendition. Null when neither gives image hashes.
   */
  async function hashSource(mediaId: string, dir: string, signal?: AbortSignal): Promise<{ hashes: NonNullable<Awaited<ReturnType<Hasher['hashFile']>>['image']>; original: boolean } | null> {
    const [media] = await loadMediaRows(db.db, [mediaId]);
    if (!media || media.status === 'removed') return null;
    const candidates: Array<{ key: string; original: boolean }> = [{ key: media.original_key, original: true }];
    const rendition = largestImageRendition(media.renditions);
    if (rendition) candidates.push({ key: rendition.key, original: false });
    for (const c of candidates) {
      const file = path.join(dir, c.original ? 'original' : 'rendition');
      try {
        if (!(await blobs.exists(c.key))) continue;
        await pipeline((await blobs.get(c.key)).body, createWriteStream(file));
        const hashes = await deps.hasher.hashFile(file, { kind: 'image', ...(signal ? { signal } : {}) });
        if (hashes.image) return { hashes: hashes.image, original: c.original };
      } catch (err) {
        if (signal?.aborted) throw err;
        deps.log.warn({ err, media: mediaId, original: c.original }, 'rehash: could not read or hash the file');
      } finally {
        await rm(file, { force: true });
      }
    }
    return null;
  }

  return {
    params,
    /** Whether any live image row was hashed with other parameters (the server queues a run at start). */
    async needed(): Promise<boolean> {
      return (await stale(0, 1)).length > 0;
    },
    /**
     * Queues the first page of a walk. A walk is named by the parameters and the day it starts:
     * processes starting the same day share one walk (the queue keeps one job per page of it), and
     * rows a walk could not re-hash (a file unreadable for a while) are tried again by the next
     * day's.
     */
    enqueueFirst: (now: number) => deps.enqueue({ afterId: 0, run: `${params}:${new Date(now).toISOString().slice(0, 10)}` }),
    /** The job: one page of rows after `afterId`; queues the walk's next page when this one was full. */
    async run(payload: JobPayloads['safety-rehash'], signal?: AbortSignal): Promise<{ rehashed: number; fromOriginal: number; skipped: number; next: number | null }> {
      const rows = await stale(payload.afterId, pageSize);
      let rehashed = 0;
      let fromOriginal = 0;
      let skipped = 0;
      const work = await mkdtemp(path.join(tmpdir(), 'mmd-rehash-'));
      try {
        for (const row of rows) {
          // Stopped (shutdown, lease lost): the rows done are excluded when the page runs again.
          signal?.throwIfAborted();
          const source = await hashSource(row.media_id, work, signal);
          if (!source) {
            skipped++;
            continue;
          }
          const query = JSON.stringify(source.hashes.query);
          const reference = JSON.stringify(source.hashes.reference);
          const changed = await db.db
            .updateTable('safety_media_hashes')
            .set({
              query,
              reference,
              hash_params: params,
              // The plain hash and its quality are the original's: other platforms exchange them.
              ...(source.original ? { pdq: source.hashes.pdq, quality: source.hashes.quality } : {}),
            })
            .where('id', '=', row.id)
            .where('removed_at', 'is', null)
            .executeTakeFirst();
          // Taken down meanwhile: the takedown already dropped it from the index.
          if (Number(changed.numUpdatedRows) === 0) {
            skipped++;
            continue;
          }
          await deps.indexes.replaceMedia(Number(row.id), { reference, query, vpdq: null });
          rehashed++;
          if (source.original) fromOriginal++;
        }
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      const next = rows.length === pageSize ? Number(rows[rows.length - 1]!.id) : null;
      if (next !== null) await deps.enqueue({ afterId: next, run: payload.run });
      return { rehashed, fromOriginal, skipped, next };
    },
  };
}

export type Rehash = ReturnType<typeof createRehash>;
