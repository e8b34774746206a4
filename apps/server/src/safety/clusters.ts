/**
 * Near-duplicate clusters of stored uploads: spread is counted per cluster, not per forward chain
 * (issue 12: on WhatsApp a re-upload resets "forwarded many times"; here an exact re-upload, a
 * re-encode, a screenshot or a crop of a photo joins the cluster of what it copies).
 *
 * An upload joins the cluster of the earliest stored copy it matches, else starts its own, whose
 * number is its hash row's id. Assigned in screening, right after its hashes are stored, so every
 * upload that reaches a recipient has one; a row stored before clusters existed is its own.
 *
 * Matching is the takedowns' (same bytes, or a near-duplicate by the robust image hashes or the
 * video's frames (vPDQ, or MMD's robust signature: a crop, bars, a mirror, a speed change or a
 * trim of a video joins too) at the banks' default distance; a crop found through anchored regions alone at
 * the stricter anchor distance). At most CANDIDATES_VERIFIED candidates are verified, the nearest
 * first; the index search itself still returns every near copy (as a takedown's does), so an
 * upload of much-copied content costs more to place. Clusters never merge: an upload matching two
 * joins the older.
 */
import { encodeVideoSignature, hash256FromHex, isVpdqMatch, matchRobust, matchRoute, matchVpdq, type RobustHashes, type RobustMatch, robustSchemeOf } from '@mmd/phash';
import type { Database } from '../platform/db/index.ts';
import { decodeRobust, parseVpdqAny, readStoredRobust, usableFrames, videoSearchKeys } from './hash-codec.ts';
import type { FileHashes } from './hasher.ts';
import type { SafetyIndexes } from './indexes.ts';
import type { Matcher } from './matcher.ts';

/** The banks' default PDQ distance (banks.ts): what counts as the same picture. */
export const CLUSTER_PDQ_DISTANCE = 31;
/**
 * A match found only through anchored regions (a crop) counts at the phash library's own anchor
 * distance, not the banks' 31: different pictures sharing an overlay (app chrome, a watermark, a
 * meme template) can come within the 20s there, and must not be put in one cluster.
 */
export const CLUSTER_ANCHOR_DISTANCE = 18;
/** Candidates verified per upload, the nearest first. */
const CANDIDATES_VERIFIED = 64;
/** Stored videos compared by their robust signature per upload (each costs up to a second, on a hashing thread). */
export const VIDEO_SIGNATURES_COMPARED = 16;

/**
 * Whether an image match puts two uploads in one cluster. A whole-picture match through the plain
 * PDQ hash alone (matchRoute `plain`) is the likeness two dark screenshots of one app share: it
 * never joins two scheme-2 sets (their evened-out hashes disagreed), and across schemes (an upload
 * stored before scheme 2) it joins only at the stricter anchor distance.
 */
function joins(m: RobustMatch, query: RobustHashes, reference: RobustHashes, plain: { queryQuality: number | null; referencePlain: string | null }): boolean {
  const route = matchRoute(m, query, reference, { queryQuality: plain.queryQuality, referencePlain: plain.referencePlain ? hash256FromHex(plain.referencePlain) : null }, { maxDistance: CLUSTER_PDQ_DISTANCE });
  if (route !== 'plain') return route !== null;
  return robustSchemeOf(query) !== robustSchemeOf(reference) && m.score <= CLUSTER_ANCHOR_DISTANCE;
}

export async function assignCluster(
  db: Database,
  indexes: SafetyIndexes,
  upload: { rowId: number; hashes: FileHashes },
  compareVideos?: Matcher['compareVideos'],
): Promise<number> {
  const own = await db.db.selectFrom('safety_media_hashes').select(['cluster_id']).where('id', '=', upload.rowId).executeTakeFirst();
  if (own?.cluster_id != null) return Number(own.cluster_id);
  let cluster = upload.rowId;
  const take = (row: { id: number; cluster_id: number | null }) => {
    const c = row.cluster_id === null ? Number(row.id) : Number(row.cluster_id);
    if (c < cluster) cluster = c;
  };
  // Same bytes: the earliest stored upload of them.
  const same = await db.db
    .selectFrom('safety_media_hashes')
    .select(['id', 'cluster_id'])
    .where('sha256', '=', upload.hashes.sha256)
    .where('removed_at', 'is', null)
    .where('id', '<', upload.rowId)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  if (same) take(same);
  // Near-duplicates: the earliest candidates the index gives, verified by the full rule.
  await indexes.refresh();
  const image = upload.hashes.image;
  const frames = upload.hashes.video ? usableFrames(upload.hashes.video.frames) : [];
  // The fresh upload's signature carries rotation variants; stored ones do not.
  const signature = upload.hashes.video?.signature ?? null;
  const reference = image ? decodeRobust(image.reference) : null;
  const query = image ? decodeRobust(image.query) : null;
  // The query's anchors too: an upload that is a crop of an earlier one lines up with the earlier
  // reference's anchors only at the crop's magnification, which only the query set tries.
  const searched =
    reference && query
      ? [...reference.global, ...reference.centre, ...reference.anchors.map((a) => a.hash), ...query.global, ...query.centre, ...query.anchors.map((a) => a.hash)]
      : [...frames.map((f) => f.hash), ...(signature ? videoSearchKeys(signature) : [])];
  if (searched.length > 0) {
    // The nearest first (then the oldest): the copies most likely to verify are verified.
    const candidates = [...indexes.media.search(searched, CLUSTER_PDQ_DISTANCE)]
      .filter(([id]) => id < upload.rowId)
      .sort((a, b) => a[1] - b[1] || a[0] - b[0])
      .slice(0, CANDIDATES_VERIFIED)
      .map(([id]) => id);
    if (candidates.length > 0) {
      const rows = await db.db
        .selectFrom('safety_media_hashes')
        .select(['id', 'cluster_id', 'query', 'reference', 'quality', 'pdq', 'vpdq', 'removed_at', 'video_signature'])
        .where('id', 'in', candidates)
        .orderBy('id')
        .execute();
      const signatureText = signature ? encodeVideoSignature(signature) : null;
      let robustCompared = 0;
      // The oldest first, so the bounded robust comparisons go to the copies most likely to decide.
      for (const r of rows) {
        if (r.removed_at !== null) continue;
        let same = false;
        if (reference && query) {
          // Both ways: the earlier upload may be a crop of this one (its query shows this
          // reference) or this one a crop of it (this query shows its reference); a query set
          // only tries magnifications of 1 and more.
          const rule = { maxDistance: CLUSTER_PDQ_DISTANCE, anchorMaxDistance: CLUSTER_ANCHOR_DISTANCE };
          const theirQuery = readStoredRobust(r.query);
          const theirReference = readStoredRobust(r.reference);
          const theirQuality = r.quality === null ? null : Number(r.quality);
          same =
            (theirQuery !== null &&
              joins(matchRobust(theirQuery, reference, rule), theirQuery, reference, { queryQuality: theirQuality, referencePlain: image?.pdq ?? null })) ||
            (theirReference !== null &&
              joins(matchRobust(query, theirReference, rule), query, theirReference, { queryQuality: image?.quality ?? null, referencePlain: r.pdq }));
        } else if (r.vpdq) {
          same = frames.length > 0 && isVpdqMatch(matchVpdq(parseVpdqAny(r.vpdq), frames));
          if (!same && signatureText && compareVideos && r.video_signature && robustCompared < VIDEO_SIGNATURES_COMPARED) {
            // The earlier upload's dense signature, thinned to a reference, against this one's.
            robustCompared++;
            same = (await compareVideos(signatureText, r.video_signature, { thin: true })) !== null;
          }
        }
        if (same) take({ id: Number(r.id), cluster_id: r.cluster_id === null ? null : Number(r.cluster_id) });
      }
    }
  }
  await db.writeTransaction((tx) => tx.updateTable('safety_media_hashes').set({ cluster_id: cluster }).where('id', '=', upload.rowId).where('cluster_id', 'is', null).execute());
  return cluster;
}

/** The cluster of each of these media items that has been screened (others are absent). */
export async function clustersOf(db: Database, mediaIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < mediaIds.length; i += 500) {
    const rows = await db.db.selectFrom('safety_media_hashes').select(['id', 'media_id', 'cluster_id']).where('media_id', 'in', mediaIds.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.media_id, r.cluster_id === null ? Number(r.id) : Number(r.cluster_id));
  }
  return out;
}
