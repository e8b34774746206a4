/**
 * The hashes of every stored upload, kept so a takedown or a growing bank can find copies that are
 * already on the server. Written before the upload is matched against the banks (see
 * screening.ts for why that order closes the race with a concurrent bank change).
 */
import { encodeVideoSignature, type RobustHashes, type VideoSignature, type VpdqFeature } from '@mmd/phash';
import { loadMediaRows } from '../media/index.ts';
import { type Database, lockScope } from '../platform/db/index.ts';
import { SAFETY_ORDERED_IDS } from './store.ts';
import type { Executor } from './audit.ts';
import { decodeRobust, encodeHashList, formatVpdqCompact, readStoredRobust, parseVideoSignature, parseVpdqAny, videoIndexKeys } from './hash-codec.ts';
import type { FileHashes } from './hasher.ts';
import { imageHashParams } from './rehash.ts';

/** What a takedown needs to know about one item to find its copies and bank it. */
export interface MediaSeed {
  mediaId: string;
  sha256: string;
  md5: string | null;
  pdq: string | null;
  quality: number | null;
  /** JSON text, as banks store it. */
  referenceJson: string | null;
  reference: RobustHashes | null;
  query: RobustHashes | null;
  vpdq: VpdqFeature[] | null;
  /** The stored robust video signature (query role, no rotation variants). */
  videoSignature: VideoSignature | null;
}

/** Stores an upload's hashes once (a retried job finds them there); returns the row's id. */
export async function saveMediaHashes(db: Database, options: { mediaId: string; hashes: FileHashes; now: number }): Promise<number> {
  const { hashes } = options;
  return db.writeTransaction(async (tx) => {
    // Ids must become visible in the order they are assigned (indexes.ts reads "id > the last seen").
    await lockScope(tx, SAFETY_ORDERED_IDS);
    const existing = await tx.selectFrom('safety_media_hashes').select('id').where('media_id', '=', options.mediaId).executeTakeFirst();
    if (existing) return Number(existing.id);
    const row = await tx
      .insertInto('safety_media_hashes')
      .values({
        media_id: options.mediaId,
        kind: hashes.kind,
        sha256: hashes.sha256,
        md5: hashes.md5,
        pdq: hashes.image?.pdq ?? null,
        quality: hashes.image?.quality ?? null,
        query: hashes.image ? JSON.stringify(hashes.image.query) : null,
        reference: hashes.image ? JSON.stringify(hashes.image.reference) : null,
        vpdq: hashes.video ? formatVpdqCompact(hashes.video.frames) : null,
        // With its rotation variants, so a takedown's or a sweep's reference (which a takedown
        // thins from a stored signature) finds a mirrored or turned copy; the index keys without.
        video_signature: hashes.video ? encodeVideoSignature(hashes.video.signature) : null,
        video_keys: hashes.video ? encodeHashList(videoIndexKeys(hashes.video.signature)) : null,
        removed_at: null,
        created_at: options.now,
        hash_params: hashes.image ? imageHashParams() : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  });
}

/**
 * Seeds for these media items. An item without a hash row (uploaded before screening existed, or
 * still processing) is still known by its content address.
 */
export async function loadSeeds(db: Executor, mediaIds: string[]): Promise<MediaSeed[]> {
  if (mediaIds.length === 0) return [];
  const rows = await db.selectFrom('safety_media_hashes').selectAll().where('media_id', 'in', mediaIds).execute();
  const byId = new Map(rows.map((r) => [r.media_id, r]));
  const media = await loadMediaRows(db, mediaIds);
  return media.map((m) => {
    const r = byId.get(m.id);
    const sha256 = r?.sha256 ?? m.original_key.replace(/^sha256\//, '');
    return {
      mediaId: m.id,
      sha256,
      md5: r?.md5 ?? null,
      pdq: r?.pdq ?? null,
      quality: r?.quality === undefined || r?.quality === null ? null : Number(r.quality),
      referenceJson: r?.reference ?? null,
      reference: readStoredRobust(r?.reference),
      query: readStoredRobust(r?.query),
      vpdq: r?.vpdq ? parseVpdqAny(r.vpdq) : null,
      videoSignature: parseVideoSignature(r?.video_signature),
    };
  });
}

/** The query set of hashes an upload was checked with, rebuilt from a match reply's JSON. */
export function queryFrom(hashes: FileHashes): { image?: { query: RobustHashes; olderQueries?: RobustHashes[]; quality: number }; video?: { frames: VpdqFeature[]; signature: VideoSignature } } {
  return {
    ...(hashes.image
      ? {
          image: {
            query: decodeRobust(hashes.image.query),
            quality: hashes.image.quality,
            ...(hashes.image.olderQueries ? { olderQueries: hashes.image.olderQueries.map(decodeRobust) } : {}),
          },
        }
      : {}),
    ...(hashes.video ? { video: { frames: hashes.video.frames, signature: hashes.video.signature } } : {}),
  };
}

