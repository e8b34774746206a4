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
 * - the file it hashes is the original when the server keeps originals, else the largest image
 *   rendition (the original is dropped after processing by default; the sets are made on planes of
 *   at most 512 pixels, so a rendition gives the same sets as the original within the few bits a
 *   re-encode moves them);
 * - the row's query and reference sets are replaced, and from the original its plain PDQ hash too
 *   (a rendition's plain hash is not the original's: the exchange value stays the original's);
 * - an item with no file left (removed, erased) is skipped; it stays unmarked and costs one lookup
 *   at the next run.
 * The process running the job puts the new sets into its own media index at once; other processes
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
  /** Queues the next page (a job of its own: a restart resumes where the last page ended). */
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

  /** Copies the file to hash into `dir`: the original if it is kept, else the largest image rendition. */
  async function fetchSource(mediaId: string, dir: string): Promise<{ file: string; original: boolean } | null> {
    const [media] = await loadMediaRows(db.db, [mediaId]);
    if (!media || media.status === 'removed') return null;
    const candidates: Array<{ key: string; original: boolean }> = [{ key: media.original_key, original: true }];
    const rendition = largestImageRendition(media.renditions);
    if (rendition) candidates.push({ key: rendition.key, original: false });
    for (const c of candidates) {
      if (!(await blobs.exists(c.key))) continue;
      const file = path.join(dir, c.original ? 'original' : 'rendition');
      await pipeline((await blobs.get(c.key)).body, createWriteStream(file));
      return { file, original: c.original };
    }
    return null;
  }

  return {
    params,
    /** Whether any live image row was hashed with other parameters (the server queues a run at start). */
    async needed(): Promise<boolean> {
      return (await stale(0, 1)).length > 0;
    },
    /** Queues the first page (a no-op when a run for these parameters was queued before). */
    enqueueFirst: () => deps.enqueue({ afterId: 0 }),
    /** The job: one page of rows after `afterId`; queues the next page when this one was full. */
    async run(payload: JobPayloads['safety-rehash']): Promise<{ rehashed: number; fromOriginal: number; skipped: number; next: number | null }> {
      const rows = await stale(payload.afterId, pageSize);
      let rehashed = 0;
      let fromOriginal = 0;
      let skipped = 0;
      const work = await mkdtemp(path.join(tmpdir(), 'mmd-rehash-'));
      try {
        for (const row of rows) {
          const source = await fetchSource(row.media_id, work).catch((err: unknown) => {
            deps.log.warn({ err, media: row.media_id }, 'rehash: could not read the file');
            return null;
          });
          if (!source) {
            skipped++;
            continue;
          }
          const hashes = await deps.hasher.hashFile(source.file, { kind: 'image' }).catch((err: unknown) => {
            deps.log.warn({ err, media: row.media_id }, 'rehash: could not hash the file');
            return null;
          });
          await rm(source.file, { force: true });
          if (!hashes?.image) {
            skipped++;
            continue;
          }
          const query = JSON.stringify(hashes.image.query);
          const reference = JSON.stringify(hashes.image.reference);
          const changed = await db.db
            .updateTable('safety_media_hashes')
            .set({
              query,
              reference,
              hash_params: params,
              ...(source.original ? { pdq: hashes.image.pdq, quality: hashes.image.quality } : {}),
            })
            .where('id', '=', row.id)
            .where('removed_at', 'is', null)
            .executeTakeFirst();
          // Taken down meanwhile: the takedown already dropped it from the index.
          if (Number(changed.numUpdatedRows) === 0) {
            skipped++;
            continue;
          }
          deps.indexes.replaceMedia(Number(row.id), { reference, query, vpdq: null });
          rehashed++;
          if (source.original) fromOriginal++;
        }
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      const next = rows.length === pageSize ? Number(rows[rows.length - 1]!.id) : null;
      if (next !== null) await deps.enqueue({ afterId: next });
      return { rehashed, fromOriginal, skipped, next };
    },
  };
}

export type Rehash = ReturnType<typeof createRehash>;
