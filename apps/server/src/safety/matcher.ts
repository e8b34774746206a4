/**
 * MMD's full matching scheme, in both directions:
 * - matchBanks: is this upload in a bank? Exact digests by SQL; images by the crop-resistant PDQ
 *   scheme (whole picture with rotations and mirrors, centre with tilts, agreeing anchored regions
 *   for crops); videos by plain vPDQ and by MMD's robust video signature (crops, bars, mirrors,
 *   speed changes, trims). The index proposes candidates at distance 31; each is then checked
 *   with the full rule and its bank's own threshold, on every route (anchored regions included).
 * - Every match names its route (`rule`). A match through anchored regions alone (`pdq_crop`,
 *   `video_crop`) is weaker evidence — two different pictures can share regions (the same app
 *   chrome, caption or watermark) — and so is a whole-picture match through the plain PDQ hash
 *   alone when the set's contrast-evened hashes (scheme 2 on) disagree (`pdq_plain`: two dark
 *   pictures under the same overlay); neither blocks or removes by itself: see {@link actionFor}.
 * - findCopies: which stored uploads are this item (or these hashes)? Same rules, searched over
 *   the index of stored uploads, for takedowns and sweeps.
 */
import type { BankAction, BankCategory, BankMatch, MatchRule } from '@mmd/contracts';
import { encodeVideoSignature, hash256FromHex, isVpdqMatch, matchRobust, matchRoute, matchVpdq, type RobustHashes, type RobustMatch, type RobustMatchOptions, robustSchemeOf, type VideoSignature, type VpdqFeature } from '@mmd/phash';
import { liveMediaWithOriginals } from '../media/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { ThreadPool } from '../platform/queue/index.ts';
import { parseVpdqAny, plainRobust, readStoredRobust, usableFrames, videoSearchKeys } from './hash-codec.ts';
import type { HashTasks } from './hasher.ts';
import { VIDEO_CROP_RULE, videoRuleOfText } from './video-rule.ts';

export { VIDEO_CROP_RULE, videoRule } from './video-rule.ts';

/** Video candidates verified per upload (the nearest first): each comparison costs up to a second. */
export const VIDEO_CANDIDATES_VERIFIED = 32;
import type { SafetyIndexes } from './indexes.ts';

/** What an upload is checked with. */
export interface QueryHashes {
  sha256: string;
  md5: string;
  /**
   * The query set in this build's scheme, and in the older schemes bank sets were made in; the
   * plain PDQ hash's quality (how many plain hashes lead the global list: wholeMatchBeyondPlain).
   */
  image?: { query: RobustHashes; olderQueries?: RobustHashes[]; quality?: number };
  /** vPDQ frames, and the robust signature (query role) when the upload was hashed with it. */
  video?: { frames: VpdqFeature[]; signature?: VideoSignature | null };
}

/** A bank match with what acting on it needs. */
export interface FoundMatch extends BankMatch {
  bank_name: string;
}

/** The rule of a match made only through anchored regions (a crop, or a shared part of a picture). */
export const CROP_ONLY_RULE = 'pdq_crop' satisfies MatchRule;
/** The rule of a whole-picture match the plain PDQ hash alone makes (wholeMatchBeyondPlain). */
export const PLAIN_ONLY_RULE = 'pdq_plain' satisfies MatchRule;
/**
 * Whether a match is weaker evidence (see actionFor): made through anchored regions alone, or
 * through the plain PDQ hash alone while the contrast-evened hashes disagree.
 */
export function isCropOnly(rule: MatchRule | string | null | undefined): boolean {
  return rule === CROP_ONLY_RULE || rule === VIDEO_CROP_RULE || rule === PLAIN_ONLY_RULE;
}

/** The rule of an image match: its route (phash matchRoute), a plain-only whole-picture match being `pdq_plain`. */
function imageRule(m: RobustMatch, query: RobustHashes, reference: RobustHashes, plain: { queryQuality: number | null; referencePlain: string | null }, options: RobustMatchOptions): MatchRule {
  const route = matchRoute(m, query, reference, { queryQuality: plain.queryQuality, referencePlain: plain.referencePlain ? hash256FromHex(plain.referencePlain) : null }, options);
  return VIA_RULE[route!];
}

/**
 * What a match may do by itself: its bank's action, except that a block found only through
 * anchored regions is held for a moderator's review instead (a false crop match must never
 * remove anyone's content). Blur already leaves the item up, so it stays.
 */
export function actionFor(match: { action: BankAction; rule: MatchRule | string | null }): BankAction {
  return isCropOnly(match.rule) && match.action === 'block' ? 'hold' : match.action;
}

const VIA_RULE = { global: 'pdq', plain: 'pdq_plain', centre: 'pdq_centre', anchors: 'pdq_crop' } as const satisfies Record<string, MatchRule>;

function allHashes(r: RobustHashes) {
  return [...r.global, ...r.centre, ...r.anchors.map((a) => a.hash)];
}

function chunks<T>(list: T[], n = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

export function createMatcher(deps: { db: Database; indexes: SafetyIndexes; pool?: ThreadPool<HashTasks> }) {
  const { db, indexes } = deps;

  /** MMD's video rule on written signatures, on a hashing thread when there is a pool. */
  function compareVideos(queryText: string, referenceText: string, options: { maxDistance?: number; thin?: boolean } = {}): Promise<MatchRule | null> {
    const o = { maxDistance: options.maxDistance ?? 31, thin: options.thin ?? false };
    if (!deps.pool) return Promise.resolve(videoRuleOfText(queryText, referenceText, o));
    return deps.pool.run('compareVideoSignatures', [queryText, referenceText, o]);
  }

  function signalQuery() {
    return db.db
      .selectFrom('safety_signals as s')
      .innerJoin('safety_banks as b', 'b.id', 's.bank_id')
      .select(['s.id', 's.type', 's.value', 's.label', 's.robust', 'b.id as bank_id', 'b.name as bank_name', 'b.action', 'b.category', 'b.pdq_threshold']);
  }
  type Row = Awaited<ReturnType<ReturnType<typeof signalQuery>['execute']>>[number];
  const toMatch = (r: Row, rule: MatchRule, distance?: number): FoundMatch => ({
    bank_id: r.bank_id,
    bank_name: r.bank_name,
    signal_id: Number(r.id),
    label: r.label,
    action: r.action as BankAction,
    category: r.category as BankCategory,
    rule,
    ...(distance !== undefined ? { distance } : {}),
  });

  async function candidateRows(ids: number[]): Promise<Row[]> {
    const out: Row[] = [];
    for (const part of chunks(ids)) out.push(...(await signalQuery().where('s.id', 'in', part).execute()));
    return out;
  }

  return {
    compareVideos,
    /** Every bank signal the upload matches (one per signal), exact matches first. */
    async matchBanks(q: QueryHashes): Promise<FoundMatch[]> {
      await indexes.refresh();
      const matches: FoundMatch[] = [];
      const exact = await signalQuery()
        .where((eb) => eb.or([eb.and([eb('s.type', '=', 'sha256'), eb('s.value_key', '=', q.sha256)]), eb.and([eb('s.type', '=', 'md5'), eb('s.value_key', '=', q.md5)])]))
        .execute();
      for (const r of exact) matches.push(toMatch(r, r.type as 'sha256' | 'md5'));
      if (q.image) {
        const queries = [q.image.query, ...(q.image.olderQueries ?? [])];
        const candidates = indexes.banks.search(queries.flatMap(allHashes), 31);
        for (const r of await candidateRows([...candidates.keys()])) {
          if (r.type !== 'pdq') continue;
          const reference = readStoredRobust(r.robust) ?? plainRobust(hash256FromHex(r.value));
          // Each set is checked with the query of its own scheme; without one (a set newer than
          // what was asked for), through whole-picture hashes only (matchRobust).
          const query = queries.find((x) => robustSchemeOf(x) === robustSchemeOf(reference)) ?? q.image.query;
          const threshold = Number(r.pdq_threshold);
          const options = { maxDistance: threshold, anchorMaxDistance: threshold };
          const m = matchRobust(query, reference, options);
          if (!m.matched) continue;
          const rule = imageRule(m, query, reference, { queryQuality: q.image.quality ?? null, referencePlain: r.value }, options);
          matches.push(toMatch(r, rule, m.via === 'anchors' ? undefined : m.score));
        }
      }
      if (q.video) {
        const frames = usableFrames(q.video.frames);
        const signature = q.video.signature ?? null;
        const queryText = signature ? encodeVideoSignature(signature) : null;
        const candidates = indexes.banks.search([...frames.map((f) => f.hash), ...(signature ? videoSearchKeys(signature) : [])], 31);
        // The nearest first, and a bounded number of robust comparisons (vPDQ is cheap: all of them).
        const nearest = new Set([...candidates].sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, VIDEO_CANDIDATES_VERIFIED).map(([id]) => id));
        for (const r of await candidateRows([...candidates.keys()])) {
          if (r.type !== 'vpdq') continue;
          if (isVpdqMatch(matchVpdq(frames, parseVpdqAny(r.value)))) {
            matches.push(toMatch(r, 'vpdq'));
            continue;
          }
          // A signal banked with its robust signature (from a file or a stored upload); one
          // imported as plain vPDQ has none and matches by vPDQ alone.
          if (!queryText || !r.robust || !nearest.has(Number(r.id))) continue;
          const rule = await compareVideos(queryText, r.robust, { maxDistance: Math.min(31, Number(r.pdq_threshold)) });
          if (rule) matches.push(toMatch(r, rule));
        }
      }
      return matches;
    },

    /**
     * Stored uploads (not removed) that are copies of the seed: same bytes, or a near-duplicate
     * under the seed's rules. `reference` (the known image's robust set) drives the check; `query`
     * (its rotations and mirrors) widens the search so mirrored copies are found too.
     */
    async findCopies(seed: {
      sha256?: string[];
      md5?: string[];
      /** `plain`: the known image's plain PDQ hash (hex), when the reference set holds it. */
      images?: Array<{ reference: RobustHashes; query?: RobustHashes; threshold: number; plain?: string | null }>;
      /** vPDQ frames, and the robust reference signature when the known video has one. */
      videos?: Array<{ frames: VpdqFeature[]; reference?: VideoSignature | null }>;
    }): Promise<Map<string, MatchRule>> {
      await indexes.refresh();
      const found = new Map<string, MatchRule>();
      const note = (mediaId: string, rule: MatchRule) => {
        if (!found.has(mediaId)) found.set(mediaId, rule);
      };
      for (const [column, values] of [['sha256', seed.sha256 ?? []], ['md5', seed.md5 ?? []]] as const) {
        for (const part of chunks([...new Set(values)])) {
          const rows = await db.db.selectFrom('safety_media_hashes').select('media_id').where(column, 'in', part).where('removed_at', 'is', null).execute();
          for (const r of rows) note(r.media_id, column);
        }
        if (column === 'sha256') {
          // Uploads of the same bytes share their content address even before they are hashed.
          for (const part of chunks([...new Set(values)].map((v) => `sha256/${v}`))) {
            for (const id of await liveMediaWithOriginals(db.db, part)) note(id, 'sha256');
          }
        }
      }
      type Stored = { media_id: string; query: string | null; quality: number | string | null; vpdq: string | null; video_signature: string | null };
      const verify = async (ids: number[], check: (row: Stored) => MatchRule | null, video = false) => {
        for (const part of chunks(ids)) {
          // The video signature (large) only when it is what the check reads.
          const rows = await db.db
            .selectFrom('safety_media_hashes')
            .select(['id', 'media_id', 'query', 'quality', 'vpdq', 'removed_at'])
            .$if(video, (q) => q.select('video_signature'))
            .where('id', 'in', part)
            .execute();
          for (const r of rows) {
            if (r.removed_at !== null) {
              indexes.media.remove(Number(r.id));
              continue;
            }
            const rule = check({ video_signature: null, ...r });
            if (rule) note(r.media_id, rule);
          }
        }
      };
      for (const image of seed.images ?? []) {
        const searched = [...allHashes(image.reference), ...(image.query ? [...image.query.global, ...image.query.centre] : [])];
        const candidates = indexes.media.search(searched, 31);
        await verify([...candidates.keys()], (row) => {
          const query = readStoredRobust(row.query);
          if (!query) return null;
          const options = { maxDistance: image.threshold, anchorMaxDistance: image.threshold };
          const m = matchRobust(query, image.reference, options);
          if (!m.matched) return null;
          const quality = row.quality === null ? null : Number(row.quality);
          return imageRule(m, query, image.reference, { queryQuality: quality, referencePlain: image.plain ?? null }, options);
        });
      }
      for (const video of seed.videos ?? []) {
        const frames = usableFrames(video.frames);
        const reference = video.reference ?? null;
        const referenceText = reference ? encodeVideoSignature(reference) : null;
        const candidates = indexes.media.search([...frames.map((f) => f.hash), ...(reference ? videoSearchKeys(reference) : [])], 31);
        const robust = new Map<string, string>();
        await verify(
          [...candidates.keys()],
          (row) => {
            if (row.vpdq && frames.length > 0 && isVpdqMatch(matchVpdq(parseVpdqAny(row.vpdq), frames))) return 'vpdq';
            // Compared below, on a hashing thread (one at a time per takedown or sweep).
            if (referenceText && row.video_signature) robust.set(row.media_id, row.video_signature);
            return null;
          },
          reference !== null,
        );
        for (const [mediaId, stored] of robust) {
          if (found.has(mediaId)) continue;
          const rule = await compareVideos(stored, referenceText!);
          if (rule) note(mediaId, rule);
        }
      }
      return found;
    },
  };
}

export type Matcher = ReturnType<typeof createMatcher>;
