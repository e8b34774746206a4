import { popcount32 } from './hamming.ts';
import type { Hash256 } from './hash256.ts';
import type { AnchorHash } from './robust-hashes.ts';
import { matchRobust } from './robust-match.ts';
import type { VideoSignature } from './video-signature.ts';

/** Thresholds of {@link matchVideo}. */
export interface VideoMatchOptions {
  /** PDQ distance at which two frames' hash sets agree (closest pair). Default 31. */
  readonly maxDistance?: number;
  /** Reference frames that must agree on one timeline. Default 4. */
  readonly minFrames?: number;
  /**
   * Share of the reference frames that fall inside the query's time span (under the found
   * timeline) and must agree. Default 0.5.
   */
  readonly minCoverage?: number;
  /**
   * Playback rates tried (query seconds per reference second): 1.25 is a copy slowed to 0.8×.
   * Default 0.75 to 1.35 in steps of 0.05.
   */
  readonly rates?: readonly number[];
  /** How far (seconds) a frame pair may sit from the timeline and still agree. Default 0.6. */
  readonly timeTolerance?: number;
  /** Candidate query frames kept per reference frame, closest first. Default 6. */
  readonly candidatesPerFrame?: number;
  /** Anchor pairs within this distance are counted before the geometric check. Default 18. */
  readonly anchorMaxDistance?: number;
  /**
   * Count every reference frame that agrees along the found timeline, not only those among the
   * vote's kept candidates (see agreeAlong). Default true; false is the earlier rule, kept for
   * the evaluation's comparison.
   */
  readonly checkAlongTimeline?: boolean;
  /**
   * Most (reference frame × anchored query frame) pairs whose anchored regions the vote checks
   * against each other (see anchorRows). Below it every pair is checked, as before; past it (two
   * long signatures) only some reference frames' rows are, and the found timeline is then checked
   * frame by frame as always, with the anchored check run on the pairs along it. Default 20,000.
   */
  readonly anchorPairBudget?: number;
}

/** Outcome of {@link matchVideo}. */
export interface VideoMatch {
  /** Whether the query shows (part of) the reference video. */
  readonly matched: boolean;
  /** Reference frames agreeing on the best timeline. */
  readonly frames: number;
  /** Reference frames with usable hashes inside the query's span under that timeline. */
  readonly comparable: number;
  /** frames / comparable (0 when nothing agrees). */
  readonly coverage: number;
  /** The timeline: query seconds = rate × reference seconds + offset. */
  readonly rate: number;
  readonly offsetSeconds: number;
  /** Mean closest distance of the agreeing frames. */
  readonly meanDistance: number;
  /**
   * Agreeing frames found through a whole-picture or centre hash; the rest agreed only through
   * anchored regions (a crop, or a shared part of the picture: weaker evidence, as for images).
   */
  readonly wholeFrames: number;
  /**
   * Frame pairs whose anchored regions were compared (the costly check; at most
   * `anchorPairBudget` for the vote plus about two per reference frame along the timeline).
   */
  readonly anchorChecks: number;
  /** Whether the vote checked anchored regions on only some reference frames (anchorRows). */
  readonly anchorRowsSampled: boolean;
}

const DEFAULT_ANCHOR_PAIR_BUDGET = 20_000;

const DEFAULT_RATES = Array.from({ length: 13 }, (_, i) => Math.round((0.75 + 0.05 * i) * 100) / 100);

/** All hashes of a signature as 8 × 32-bit words each, with the frame each belongs to. */
function pack(signature: VideoSignature): { words: Uint32Array; frameOf: Int32Array; starts: Int32Array } {
  const total = signature.frames.reduce((n, f) => n + f.hashes.length + (f.variants?.length ?? 0), 0);
  const words = new Uint32Array(total * 8);
  const frameOf = new Int32Array(total);
  const starts = new Int32Array(signature.frames.length + 1);
  let k = 0;
  signature.frames.forEach((f, i) => {
    starts[i] = k;
    for (const h of f.variants ? [...f.hashes, ...f.variants] : f.hashes) {
      writeWords(h, words, k * 8);
      frameOf[k++] = i;
    }
  });
  starts[signature.frames.length] = k;
  return { words, frameOf, starts };
}

function writeWords(h: Hash256, out: Uint32Array, at: number): void {
  for (let w = 0; w < 8; w++) {
    out[at + w] = ((h[4 * w]! << 24) | (h[4 * w + 1]! << 16) | (h[4 * w + 2]! << 8) | h[4 * w + 3]!) >>> 0;
  }
}

interface Pair {
  readonly r: number;
  readonly q: number;
  readonly tr: number;
  readonly tq: number;
  readonly distance: number;
}

function packAnchors(anchors: readonly AnchorHash[]): Uint32Array {
  const words = new Uint32Array(anchors.length * 8);
  for (const [i, a] of anchors.entries()) writeWords(a.hash, words, i * 8);
  return words;
}

/** Whether at least `needed` anchor pairs are within `maxDistance` (cheap pre-check). */
function enoughClosePairs(a: Uint32Array, b: Uint32Array, maxDistance: number, needed: number): boolean {
  let found = 0;
  const nb = b.length;
  for (let i = 0; i < a.length; i += 8) {
    // The query anchor's first two words in locals: unrelated hashes differ in ~32 of their
    // first 64 bits, so almost every pair is decided by them (same test, same outcome).
    const a0 = a[i]!;
    const a1 = a[i + 1]!;
    for (let j = 0; j < nb; j += 8) {
      let d = popcount32(a0 ^ b[j]!);
      if (d > maxDistance) continue;
      d += popcount32(a1 ^ b[j + 1]!);
      for (let w = 2; w < 8 && d <= maxDistance; w++) d += popcount32(a[i + w]! ^ b[j + w]!);
      if (d <= maxDistance && ++found >= needed) return true;
    }
  }
  return false;
}

/**
 * The anchored-region check of one (reference frame, query frame) pair, for pairs no
 * whole-picture or centre hash joins (crops): blob-anchored regions agreeing on one translation
 * under the image scheme's rules (matchRobust). Returns the pair's score (below any hash pair's:
 * maxDistance + 1 + up to 16, more agreeing regions ranking higher) or NO_PAIR, and counts the
 * pairs it compared (those where both frames carry at least three anchors).
 */
function anchoredCheck(
  query: VideoSignature,
  reference: VideoSignature,
  options: { maxDistance: number; anchorMaxDistance: number },
): { distance: (ri: number, qi: number) => number; checks: () => number } {
  const { maxDistance, anchorMaxDistance } = options;
  const qAnchors = query.frames.map((f) => (f.anchors.length >= 3 ? packAnchors(f.anchors) : null));
  const rAnchors: Array<Uint32Array | null | undefined> = new Array(reference.frames.length);
  let checks = 0;
  return {
    checks: () => checks,
    distance: (ri, qi) => {
      const qa = qAnchors[qi];
      if (!qa) return NO_PAIR;
      let ra = rAnchors[ri];
      if (ra === undefined) {
        const a = reference.frames[ri]!.anchors;
        ra = a.length >= 3 ? packAnchors(a) : null;
        rAnchors[ri] = ra;
      }
      if (!ra) return NO_PAIR;
      checks++;
      if (!enoughClosePairs(qa, ra, anchorMaxDistance, 3)) return NO_PAIR;
      const m = matchRobust(
        { global: [], centre: [], anchors: query.frames[qi]!.anchors },
        { global: [], centre: [], anchors: reference.frames[ri]!.anchors },
        { maxDistance, anchorMaxDistance },
      );
      return m.matched ? maxDistance + 1 + Math.max(0, 16 - m.score) : NO_PAIR;
    },
  };
}

/** Reference frames at each end of a signature whose rows are always checked (see anchorRows). */
const END_ROWS = 16;

/**
 * Which reference frames the vote checks against every anchored query frame: all of them when
 * that is at most `budget` frame pairs (every short comparison: the rule as it was), else
 * `budget / anchored query frames` rows — the first and last END_ROWS frames (a copy that shares
 * only a stretch at one end of the reference can match, as the coverage rule counts only
 * reference frames inside the query's span: every one of them is checked) and the rest spread
 * evenly over the middle. A copy sharing a longer stretch is found through those: to match, at
 * least half of the reference frames its timeline puts inside the query must agree, so about
 * half of the sampled rows there do too. The timeline the vote finds is then checked frame by
 * frame with the anchored check run on every pair along it (agreeAlong), as without sampling.
 * Null: every row.
 */
function anchorRows(reference: VideoSignature, anchoredQueryFrames: number, budget: number): Uint8Array | null {
  const nr = reference.frames.length;
  const anchored = reference.frames.reduce((n, f) => n + (f.anchors.length >= 3 ? 1 : 0), 0);
  if (anchored * anchoredQueryFrames <= budget) return null;
  const rows = Math.max(2, Math.floor(budget / Math.max(1, anchoredQueryFrames)));
  const chosen = new Uint8Array(nr);
  const ends = Math.min(END_ROWS, Math.floor(rows / 4));
  for (let i = 0; i < ends; i++) {
    chosen[i] = 1;
    chosen[nr - 1 - i] = 1;
  }
  const middle = rows - 2 * ends;
  const span = nr - 2 * ends;
  for (let k = 0; k < middle; k++) chosen[ends + Math.floor(((k + 0.5) * span) / middle)] = 1;
  return chosen;
}

/**
 * For every reference frame, the query frames that show it: closest whole-picture/centre hash
 * pair within `maxDistance`, or else (crops) the anchored check, on the reference frames `rows`
 * selects (all when null). Keeps the closest `keep` per reference frame for the vote.
 */
function candidatePairs(
  query: VideoSignature,
  reference: VideoSignature,
  anchored: (ri: number, qi: number) => number,
  rows: Uint8Array | null,
  options: { maxDistance: number; keep: number },
): { pairs: Pair[]; agree: Uint8Array } {
  const { maxDistance, keep } = options;
  const q = pack(query);
  const r = pack(reference);
  const nq = query.frames.length;
  const best = new Int32Array(nq);
  const pairs: Pair[] = [];
  // Every (reference frame, query frame) pair's distance, not only the kept candidates: what
  // checking a timeline frame by frame reads (agreeAlong). NO_PAIR: they do not agree; UNCHECKED:
  // no hash joins them and their anchored regions were not compared (a row the vote skipped).
  const agree = new Uint8Array(reference.frames.length * nq).fill(NO_PAIR);
  // Locals, not property reads, in the hot loop: it runs (reference hashes × query hashes) times.
  const rWords = r.words;
  const qWords = q.words;
  const qFrameOf = q.frameOf;
  const nHashes = qFrameOf.length;
  const cap = maxDistance + 1;
  const index = maxDistance < BYTES ? byteIndex(qWords, nHashes) : null;
  // The reference hash that last reached each query hash through the index (each pair once).
  const seen = new Int32Array(nHashes).fill(-1);
  for (let ri = 0; ri < reference.frames.length; ri++) {
    best.fill(257);
    for (let a = r.starts[ri]!; a < r.starts[ri + 1]!; a++) {
      const ao = a * 8;
      const r0 = rWords[ao]!;
      const r1 = rWords[ao + 1]!;
      if (index) {
        // Only the query hashes sharing one of its 32 bytes exactly: every pair within
        // maxDistance (< 32) bits is among them (pigeonhole), so the same pairs agree, at the
        // same distances, as comparing every pair.
        const { starts, entries } = index;
        for (let c = 0; c < BYTES; c++) {
          const key = c * 256 + ((rWords[ao + (c >> 2)]! >>> (24 - 8 * (c & 3))) & 255);
          for (let k = starts[key]!, end = starts[key + 1]!; k < end; k++) {
            const b = entries[k]!;
            if (seen[b] === a) continue;
            seen[b] = a;
            const qi = qFrameOf[b]!;
            const limit = Math.min(best[qi]!, cap);
            const bo = b * 8;
            let d = popcount32(r0 ^ qWords[bo]!) + popcount32(r1 ^ qWords[bo + 1]!);
            for (let w = 2; w < 8 && d < limit; w++) d += popcount32(rWords[ao + w]! ^ qWords[bo + w]!);
            if (d < best[qi]!) best[qi] = d;
          }
        }
        continue;
      }
      for (let b = 0, bo = 0; b < nHashes; b++, bo += 8) {
        const qi = qFrameOf[b]!;
        const limit = Math.min(best[qi]!, cap);
        // Two words first: unrelated hashes differ in ~32 of their first 64 bits, so most
        // comparisons end here.
        let d = popcount32(r0 ^ qWords[bo]!) + popcount32(r1 ^ qWords[bo + 1]!);
        for (let w = 2; w < 8 && d < limit; w++) d += popcount32(rWords[ao + w]! ^ qWords[bo + w]!);
        if (d < best[qi]!) best[qi] = d;
      }
    }
    const refFrame = reference.frames[ri]!;
    // A frame that `keep` query frames already show through a hash keeps only those for the vote
    // (anchored pairs rank below every hash pair), so its anchored pairs matter only to the
    // timeline check, which runs them where it needs them: the same outcome, fewer checks.
    let hashPairs = 0;
    for (let qi = 0; qi < nq; qi++) if (best[qi]! <= maxDistance) hashPairs++;
    const checkRow = hashPairs < keep && (rows === null || rows[ri] === 1);
    const found: Pair[] = [];
    for (let qi = 0; qi < nq; qi++) {
      let distance = best[qi]!;
      if (distance > maxDistance) {
        if (!checkRow) {
          agree[ri * nq + qi] = UNCHECKED;
          continue;
        }
        distance = anchored(ri, qi);
        if (distance === NO_PAIR) continue;
      }
      agree[ri * nq + qi] = distance;
      found.push({ r: ri, q: qi, tr: refFrame.seconds, tq: query.frames[qi]!.seconds, distance });
    }
    found.sort((x, y) => x.distance - y.distance || x.q - y.q);
    pairs.push(...found.slice(0, keep));
  }
  return { pairs, agree };
}

const NO_PAIR = 255;
const UNCHECKED = 254;

/** Bytes of a 256-bit hash. */
const BYTES = 32;

/**
 * The hashes (8 words each) listed by each of their 32 bytes: bucket c × 256 + value holds the
 * hashes whose byte c has that value, entries[starts[key] .. starts[key + 1]).
 */
function byteIndex(words: Uint32Array, n: number): { starts: Int32Array; entries: Int32Array } {
  const starts = new Int32Array(BYTES * 256 + 1);
  const byteOf = (h: number, c: number) => (words[h * 8 + (c >> 2)]! >>> (24 - 8 * (c & 3))) & 255;
  for (let h = 0; h < n; h++) for (let c = 0; c < BYTES; c++) starts[c * 256 + byteOf(h, c) + 1]!++;
  for (let k = 1; k < starts.length; k++) starts[k]! += starts[k - 1]!;
  const fill = starts.slice(0, BYTES * 256);
  const entries = new Int32Array(n * BYTES);
  for (let h = 0; h < n; h++) for (let c = 0; c < BYTES; c++) entries[fill[c * 256 + byteOf(h, c)]!++] = h;
  return { starts, entries };
}

/**
 * The reference frames that agree with the query along one timeline, checked frame by frame:
 * each reference frame with usable hashes whose time the line puts inside the query's span
 * agrees when a query frame within the tolerance of that time is one of its agreeing pairs
 * (pairs the vote did not check get the anchored check here: about two per reference frame).
 *
 * The vote keeps only the closest few query frames per reference frame, so in static or slowly
 * changing footage (a lecture, a still with a clock, a slow pan: many query frames equally
 * close) most kept pairs lie off the true timeline, and a 15-minute copy of a mostly still video
 * showed only 147 of its 900 frames on one line. The vote still finds the line; this counts
 * every frame on it.
 */
function agreeAlong(
  query: VideoSignature,
  reference: VideoSignature,
  agree: Uint8Array,
  anchored: (ri: number, qi: number) => number,
  line: { rate: number; offset: number; tol: number; maxDistance: number; first: number; last: number },
): { frames: number; comparable: number; distance: number; whole: number } {
  const nq = query.frames.length;
  const times = query.frames.map((f) => f.seconds);
  let frames = 0;
  let comparable = 0;
  let distance = 0;
  let whole = 0;
  for (let ri = 0; ri < reference.frames.length; ri++) {
    const f = reference.frames[ri]!;
    if (f.hashes.length === 0) continue;
    const t = line.rate * f.seconds + line.offset;
    if (t < line.first || t > line.last) continue;
    comparable++;
    // First query frame at or after t - tol (times ascend).
    let lo = 0;
    let hi = nq;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < t - line.tol) lo = mid + 1;
      else hi = mid;
    }
    let closest = NO_PAIR;
    for (let qi = lo; qi < nq && times[qi]! <= t + line.tol; qi++) {
      let d = agree[ri * nq + qi]!;
      if (d === UNCHECKED) {
        d = anchored(ri, qi);
        agree[ri * nq + qi] = d;
      }
      closest = Math.min(closest, d);
    }
    if (closest === NO_PAIR) continue;
    frames++;
    distance += closest;
    if (closest <= line.maxDistance) whole++;
  }
  return { frames, comparable, distance, whole };
}

/*
 * Temporal alignment. A re-upload keeps the order of its frames but may be trimmed, padded with
 * an intro or outro, or played faster or slower, so its frames sit on a line
 * query_t = rate × reference_t + offset. Every candidate pair proposes an offset for every
 * rate; the line that most distinct reference frames agree with wins (a Hough vote with the
 * pairs as seeds). Frames of different videos that happen to be close (dark scenes, shared
 * title cards) do not line up in time, and must also be a real share of the overlap.
 */

/**
 * Decides whether `query` (a dense query signature) shows the video of `reference` (a sparse
 * reference signature), wholly or in part, after crops, bars, mirroring, rotation, speed
 * changes, trims and intros.
 */
export function matchVideo(
  query: VideoSignature,
  reference: VideoSignature,
  options: VideoMatchOptions = {},
): VideoMatch {
  const maxDistance = options.maxDistance ?? 31;
  const minFrames = options.minFrames ?? 4;
  const minCoverage = options.minCoverage ?? 0.5;
  const rates = options.rates ?? DEFAULT_RATES;
  const tol = options.timeTolerance ?? 0.6;
  const none: VideoMatch = {
    matched: false,
    frames: 0,
    comparable: 0,
    coverage: 0,
    rate: 1,
    offsetSeconds: 0,
    meanDistance: 0,
    wholeFrames: 0,
    anchorChecks: 0,
    anchorRowsSampled: false,
  };
  const usableQuery = query.frames.filter((f) => f.hashes.length > 0);
  if (usableQuery.length === 0) return none;
  const anchored = anchoredCheck(query, reference, {
    maxDistance,
    anchorMaxDistance: Math.min(maxDistance, options.anchorMaxDistance ?? 18),
  });
  const anchoredQueryFrames = query.frames.reduce((n, f) => n + (f.anchors.length >= 3 ? 1 : 0), 0);
  const rows = anchorRows(reference, anchoredQueryFrames, options.anchorPairBudget ?? DEFAULT_ANCHOR_PAIR_BUDGET);
  const { pairs, agree } = candidatePairs(query, reference, anchored.distance, rows, {
    maxDistance,
    keep: options.candidatesPerFrame ?? 6,
  });
  if (pairs.length === 0) return { ...none, anchorChecks: anchored.checks(), anchorRowsSampled: rows !== null };

  // Most agreeing reference frames wins; ties (short clips fit several rates within the
  // tolerance) go to the line the frames sit closest to.
  let best = { frames: 0, residual: Infinity, distance: 0, rate: 1, offset: 0, whole: 0 };
  const closestPerFrame = new Map<number, { residual: number; distance: number }>();
  // Each seed's line gathers the pairs whose own offset lies within the tolerance of the seed's:
  // with the offsets sorted, a window found by binary search, not a pass over every pair (the
  // same pairs, visited in the same order, so the same outcome as comparing all of them).
  const n = pairs.length;
  const offsets = new Float64Array(n);
  const order = new Int32Array(n);
  const sorted = new Float64Array(n);
  const margin = tol + 1e-6;
  const lowerBound = (value: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const rate of rates) {
    for (let i = 0; i < n; i++) {
      offsets[i] = pairs[i]!.tq - rate * pairs[i]!.tr;
      order[i] = i;
    }
    order.sort((a, b) => offsets[a]! - offsets[b]!);
    for (let i = 0; i < n; i++) sorted[i] = offsets[order[i]!]!;
    for (const seed of pairs) {
      const offset = seed.tq - rate * seed.tr;
      const from = lowerBound(offset - margin);
      const to = lowerBound(offset + margin + Number.EPSILON * Math.abs(offset) + 1e-12);
      // Fewer pairs than the best line's frames: it cannot win (each frame needs a pair).
      if (to - from < best.frames) continue;
      const inWindow = order.slice(from, to).sort();
      closestPerFrame.clear();
      for (const k of inWindow) {
        const p = pairs[k]!;
        const residual = Math.abs(p.tq - (rate * p.tr + offset));
        if (residual > tol) continue;
        const c = closestPerFrame.get(p.r);
        if (c === undefined || residual < c.residual)
          closestPerFrame.set(p.r, { residual, distance: p.distance });
      }
      const frames = closestPerFrame.size;
      if (frames < best.frames) continue;
      let residual = 0;
      let distance = 0;
      let whole = 0;
      for (const c of closestPerFrame.values()) {
        residual += c.residual;
        distance += c.distance;
        if (c.distance <= maxDistance) whole++;
      }
      if (frames > best.frames || residual < best.residual) {
        best = { frames, residual, distance: distance / frames, rate, offset, whole };
      }
    }
  }
  // Reference frames the query could have shown under this timeline (inside its span), and those
  // of them that agree along it (a superset of the vote's: every pair the vote counted is one).
  const first = usableQuery[0]!.seconds - tol;
  const last = usableQuery[usableQuery.length - 1]!.seconds + tol;
  const line = { rate: best.rate, offset: best.offset, tol, maxDistance, first, last };
  const along =
    options.checkAlongTimeline === false
      ? agreeAlong(query, reference, new Uint8Array(agree.length).fill(NO_PAIR), () => NO_PAIR, line)
      : agreeAlong(query, reference, agree, anchored.distance, line);
  const frames = Math.max(best.frames, along.frames);
  const coverage = along.comparable === 0 ? 0 : frames / along.comparable;
  return {
    matched: frames >= minFrames && coverage >= minCoverage,
    frames,
    comparable: along.comparable,
    coverage,
    rate: best.rate,
    offsetSeconds: best.offset,
    meanDistance: frames === 0 ? 0 : along.frames >= best.frames ? along.distance / along.frames : best.distance,
    wholeFrames: along.frames >= best.frames ? along.whole : best.whole,
    anchorChecks: anchored.checks(),
    anchorRowsSampled: rows !== null,
  };
}
