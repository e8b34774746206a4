import { hammingDistance } from './hamming.ts';
import type { Hash256 } from './hash256.ts';
import type { AnchorHash, RobustHashes } from './robust-hashes.ts';
import { ROBUST_PARAMS, robustSchemeOf } from './robust-hashes.ts';

/** Thresholds of {@link matchRobust}. */
export interface RobustMatchOptions {
  /** PDQ distance for a global or centre hash pair. Default 31 (PDQ's usual threshold). */
  readonly maxDistance?: number;
  /**
   * PDQ distance for an anchor pair. Default 18 (regions of a plain crop are the same pixels, so
   * true pairs sit far below PDQ's 31; shared overlays on different photos reach the 20s), and
   * never more than `maxDistance`.
   */
  readonly anchorMaxDistance?: number;
  /** Distinct anchor pairs that must agree on one translation. Default 3. */
  readonly minAnchorVotes?: number;
  /** How far (anchor-plane pixels) two anchor pairs' translations may differ and still agree. */
  readonly translationTolerance?: number;
  /**
   * Share of the query's anchors that land inside the reference's anchored area under the
   * translation and must agree with it. Default 0.25.
   */
  readonly minInlierShare?: number;
  /** Extent (anchor-plane pixels) the agreeing anchors must cover both across and down. Default 16. */
  readonly minAnchorSpread?: number;
  /**
   * PDQ distance the closest agreeing anchor pair must be within. Default 12: a copy shares
   * some regions pixel for pixel (on development, every anchor match had a pair within 10, crops
   * resized by half included), while a shared overlay (a stock watermark's letters) over two
   * different smooth photos gives regions alike only to 14 bits and more, the photo behind them
   * differing.
   */
  readonly anchorClosestDistance?: number;
}

/** Where a crop sits in the reference, for a match made through anchors. */
export interface AnchorGeometry {
  /**
   * Magnification of the query relative to the reference: the reciprocal of the share of the
   * reference's longer side the crop kept (1: a crop that kept the longer side).
   */
  readonly scale: number;
  /** Shrink of the reference anchor plane the agreeing anchors came from (1 or a little more). */
  readonly referenceScale: number;
  /**
   * Translation from query to reference, in pixels of that reference plane (where the
   * reference picture's longer side is `ROBUST_PARAMS.anchorSide / referenceScale`).
   */
  readonly dx: number;
  readonly dy: number;
  /** Agreeing anchor pairs, each anchor used once. */
  readonly inliers: number;
  /** Query anchors that land inside the reference's anchored area under the translation. */
  readonly overlapping: number;
  /** Extent of the agreeing anchors across and down, anchor-plane pixels. */
  readonly spreadX: number;
  readonly spreadY: number;
  /** Hamming distances of the agreeing pairs, closest first. */
  readonly distances: readonly number[];
}

/** Outcome of {@link matchRobust}. */
export interface RobustMatch {
  /** Whether the query shows the reference image. */
  readonly matched: boolean;
  /**
   * Which family of hashes decided it. `anchors` means only the regions agreed — a crop, or
   * something that only shares parts of the picture — and callers treat it as weaker evidence
   * (MMD's server sends such matches to human review, never removes on them).
   */
  readonly via: 'global' | 'centre' | 'anchors' | null;
  /** Best global/centre distance, or the number of agreeing anchor pairs for `anchors`. */
  readonly score: number;
  /** For `anchors`: the geometry the agreeing pairs share. */
  readonly geometry?: AnchorGeometry;
}

function closest(a: readonly Hash256[], b: readonly Hash256[]): number {
  let best = 256;
  for (const x of a) for (const y of b) best = Math.min(best, hammingDistance(x, y));
  return best;
}

interface Pair {
  readonly q: number;
  readonly r: number;
  readonly dx: number;
  readonly dy: number;
  readonly distance: number;
}

function span(values: number[]): number {
  return values.length === 0 ? 0 : Math.max(...values) - Math.min(...values);
}

/**
 * The best-supported translation between two anchor sets: for each candidate pair's translation,
 * the pairs within `tolerance` of it, closest first, each query and reference anchor used at most
 * once (a repeated pattern — a row of letters, tiles — cannot vote many times through one anchor).
 */
function bestTranslation(pairs: readonly Pair[], tolerance: number): Pair[] {
  let best: Pair[] = [];
  for (const p of pairs) {
    const agreeing = pairs
      .filter((u) => Math.abs(u.dx - p.dx) <= tolerance && Math.abs(u.dy - p.dy) <= tolerance)
      .sort((a, b) => a.distance - b.distance);
    if (agreeing.length <= best.length) continue;
    const usedQ = new Set<number>();
    const usedR = new Set<number>();
    const kept: Pair[] = [];
    for (const u of agreeing) {
      if (usedQ.has(u.q) || usedR.has(u.r)) continue;
      usedQ.add(u.q);
      usedR.add(u.r);
      kept.push(u);
    }
    if (kept.length > best.length) best = kept;
  }
  return best;
}

/*
 * The rules that keep false matches rare. Global and centre hashes are few per image and use
 * PDQ's own threshold (or the bank's). Anchors are many (9 magnifications × 12 query anchors
 * against 2 × 24 reference anchors) and a region can be shared by different pictures — the same
 * app chrome, caption or watermark — so anchors must agree on one geometry, as a real crop does:
 * - one magnification pair (query and reference anchors hashed at one scale each; pairs of
 *   different magnifications never vote together) and one translation between them, each pair
 *   within `translationTolerance` of it (at the right magnification a crop keeps every distance);
 * - at least `minAnchorVotes` distinct pairs, each anchor counted once;
 * - a real share of the overlap: of the query's anchors that land inside the reference's
 *   anchored area, at least `minInlierShare` agree (a shared caption on two different photos
 *   agrees on its letters while the picture around them disagrees);
 * - spread: the agreeing anchors cover at least `minAnchorSpread` across and down (not one line
 *   of text, not one corner logo);
 * - one near-identical region: the closest agreeing pair within `anchorClosestDistance` (an
 *   overlay shared by two different photos agrees only loosely, the picture behind it differing).
 * Anchors are also taken only inside the picture (robust-hashes.ts trims uniform surrounds such
 * as app chrome and caption bars), which removes most shared overlays before matching.
 */

/** Decides whether `query` (from {@link robustQueryHashes}) shows `reference`. */
export function matchRobust(
  query: RobustHashes,
  reference: RobustHashes,
  options: RobustMatchOptions = {},
): RobustMatch {
  const maxDistance = options.maxDistance ?? 31;
  const g = closest(query.global, reference.global);
  if (g <= maxDistance) return { matched: true, via: 'global', score: g };
  // Sets of different schemes share only the whole-picture route: the full-resolution PDQ hash
  // is the same in every scheme, the windows and regions are not (robust-hashes.ts RobustScheme).
  if (robustSchemeOf(query) !== robustSchemeOf(reference)) return { matched: false, via: null, score: g };
  const c = closest(query.centre, reference.centre);
  if (c <= maxDistance) return { matched: true, via: 'centre', score: c };
  const none: RobustMatch = { matched: false, via: null, score: Math.min(g, c) };
  // Anchors of one magnification at a time: a crop has one scale, and anchors hashed at
  // different scales must not vote together.
  let geometry: AnchorGeometry | null = null;
  const referenceGroups = byScale(reference.anchors);
  for (const group of byScale(query.anchors)) {
    for (const theirs of referenceGroups) {
      const g = anchorGeometry(group, theirs, {
        maxDistance: Math.min(maxDistance, options.anchorMaxDistance ?? 18),
        tolerance: options.translationTolerance ?? 1.5,
      });
      if (g && (!geometry || g.inliers > geometry.inliers)) geometry = g;
    }
  }
  if (!geometry) return none;
  const spread = options.minAnchorSpread ?? 16;
  if (
    geometry.inliers >= (options.minAnchorVotes ?? 3) &&
    geometry.inliers >= (options.minInlierShare ?? 0.25) * geometry.overlapping &&
    geometry.spreadX >= spread &&
    geometry.spreadY >= spread &&
    geometry.distances[0]! <= (options.anchorClosestDistance ?? 12)
  ) {
    return { matched: true, via: 'anchors', score: geometry.inliers, geometry };
  }
  return none;
}

/**
 * Anchors grouped by the magnification they were hashed at, the turn they were given and the
 * part of the picture they were chosen in.
 */
function byScale(anchors: readonly AnchorHash[]): AnchorHash[][] {
  const groups = new Map<string, AnchorHash[]>();
  for (const a of anchors) {
    const s = `${a.scale ?? 1} ${a.turn ?? 'original'} ${a.part ?? 'whole'}`;
    const g = groups.get(s);
    if (g) g.push(a);
    else groups.set(s, [a]);
  }
  return [...groups.values()];
}

/** The best translation between two anchor sets and how well it is supported, or null if no pair is close. */
function anchorGeometry(
  query: readonly AnchorHash[],
  reference: readonly AnchorHash[],
  options: { maxDistance: number; tolerance: number },
): AnchorGeometry | null {
  const pairs: Pair[] = [];
  for (const [qi, q] of query.entries()) {
    for (const [ri, r] of reference.entries()) {
      const distance = hammingDistance(q.hash, r.hash);
      if (distance <= options.maxDistance)
        pairs.push({ q: qi, r: ri, dx: r.x - q.x, dy: r.y - q.y, distance });
    }
  }
  const inliers = bestTranslation(pairs, options.tolerance);
  if (inliers.length === 0) return null;
  const dx = inliers.reduce((s, p) => s + p.dx, 0) / inliers.length;
  const dy = inliers.reduce((s, p) => s + p.dy, 0) / inliers.length;
  // The reference's anchored area: where its anchors are (the picture minus region margins).
  const rx = reference.map((a) => a.x);
  const ry = reference.map((a) => a.y);
  const [x0, x1, y0, y1] = [Math.min(...rx), Math.max(...rx), Math.min(...ry), Math.max(...ry)];
  const slack = options.tolerance;
  const overlapping = query.filter((a) => {
    const x = a.x + dx;
    const y = a.y + dy;
    return x >= x0 - slack && x <= x1 + slack && y >= y0 - slack && y <= y1 + slack;
  }).length;
  const agreeing = inliers.map((p) => query[p.q]!);
  return {
    scale: (query[0]?.scale ?? 1) / (reference[0]?.scale ?? 1),
    referenceScale: reference[0]?.scale ?? 1,
    dx,
    dy,
    inliers: inliers.length,
    overlapping,
    spreadX: span(agreeing.map((a) => a.x)),
    spreadY: span(agreeing.map((a) => a.y)),
    distances: inliers.map((p) => p.distance).sort((a, b) => a - b),
  };
}

/**
 * Whether a whole-picture match also holds on the scheme's own hashes, the plain full-resolution
 * PDQ hashes set aside (robust-hashes.ts: a query's global list starts with the plain hash's 8
 * dihedral variants when it has quality ≥ 50, which `queryPlainHashes` gives; a reference holds
 * the plain hash itself, `referencePlain`, removed by value because a stored set may have lost
 * entries). From scheme 2 on those hashes are evened out locally, so when only the plain hashes
 * agree, the likeness is in the light and dark masses (an overlay shared by two dark pictures),
 * not in what the pictures show. Agreement through the whole picture or the centre counts;
 * anchored regions alone do not (a shared overlay makes those agree too).
 */
export function wholeMatchBeyondPlain(
  query: RobustHashes,
  reference: RobustHashes,
  plain: { queryPlainHashes: number; referencePlain: Hash256 | null },
  options: RobustMatchOptions = {},
): boolean {
  const { referencePlain } = plain;
  const q = { ...query, anchors: [], global: query.global.slice(plain.queryPlainHashes) };
  const r = { ...reference, anchors: [], global: referencePlain ? reference.global.filter((h) => hammingDistance(h, referencePlain) !== 0) : reference.global };
  return matchRobust(q, r, options).matched;
}

/** How many plain hashes lead a query set made with plain-hash quality `quality` (see {@link wholeMatchBeyondPlain}). */
export function queryPlainHashes(quality: number): number {
  return quality >= ROBUST_PARAMS.minQuality ? 8 : 0;
}

/**
 * The route a match takes, as the server acts on it: `plain` is a whole-picture match that holds
 * only through the plain PDQ hashes ({@link wholeMatchBeyondPlain}) where scheme-2 hashes could
 * have confirmed it — sets of scheme 2 or later, or of different schemes (whose windows are not
 * comparable) — weaker evidence like `anchors`; null when `m` did not match. Two scheme-1 sets
 * keep the old rule (a whole-picture match is `global`), and so does a reference that is a plain
 * PDQ hash alone (no scheme, no centre or anchors: another platform's bank entry).
 */
export function matchRoute(
  m: RobustMatch,
  query: RobustHashes,
  reference: RobustHashes,
  plain: { queryQuality: number | null; referencePlain: Hash256 | null },
  options: RobustMatchOptions = {},
): 'global' | 'plain' | 'centre' | 'anchors' | null {
  if (!m.matched) return null;
  if (m.via !== 'global') return m.via;
  // A reference of whole-picture hashes alone (a PDQ hash from HMA, ThreatExchange or a pasted
  // value): the plain hash is all the evidence there is, and PDQ's own rule applies.
  if (reference.scheme === undefined && reference.centre.length === 0 && reference.anchors.length === 0) return 'global';
  const schemes = [robustSchemeOf(query), robustSchemeOf(reference)];
  // Both scheme 1: nothing evened out to ask, the rule as it was.
  if (schemes[0] === 1 && schemes[1] === 1) return 'global';
  // Across schemes only the plain hashes are comparable, so the plain hashes are all that agree.
  if (schemes[0] !== schemes[1]) return 'plain';
  const queryPlain = plain.queryQuality === null ? 0 : queryPlainHashes(plain.queryQuality);
  return wholeMatchBeyondPlain(query, reference, { queryPlainHashes: queryPlain, referencePlain: plain.referencePlain }, options) ? 'global' : 'plain';
}
