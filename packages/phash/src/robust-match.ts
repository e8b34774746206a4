import { hammingDistance } from './hamming.ts';
import type { Hash256 } from './hash256.ts';
import type { RobustHashes } from './robust-hashes.ts';

/** Thresholds of {@link matchRobust}. */
export interface RobustMatchOptions {
  /** PDQ distance for a global or centre hash pair. Default 31 (PDQ's usual threshold). */
  readonly maxDistance?: number;
  /** PDQ distance for an anchor pair. Default 31. */
  readonly anchorMaxDistance?: number;
  /** Anchor pairs that must agree on one translation. Default 2. */
  readonly minAnchorVotes?: number;
  /** How far (1/4-scale pixels) two anchor pairs' translations may differ and still agree. */
  readonly translationTolerance?: number;
}

/** Outcome of {@link matchRobust}. */
export interface RobustMatch {
  /** Whether the query shows the reference image. */
  readonly matched: boolean;
  /** Which family of hashes decided it. */
  readonly via: 'global' | 'centre' | 'anchors' | null;
  /** Best global/centre distance, or the number of agreeing anchor pairs for `anchors`. */
  readonly score: number;
}

function closest(a: readonly Hash256[], b: readonly Hash256[]): number {
  let best = 256;
  for (const x of a) for (const y of b) best = Math.min(best, hammingDistance(x, y));
  return best;
}

/*
 * The rule that keeps false matches rare: global and centre hashes are few per image and use
 * PDQ's own threshold. Anchors are many (20 × 40 pairs per image pair), so one close pair is
 * not enough: at least two must agree on the same translation — a geometric check that random
 * look-alike regions essentially never pass. On the 14 scenes of the shared photo set the
 * closest different-scene pair of any kind stays far above the thresholds (see robust-eval).
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
  const c = closest(query.centre, reference.centre);
  if (c <= maxDistance) return { matched: true, via: 'centre', score: c };
  const anchorMax = options.anchorMaxDistance ?? 31;
  const tolerance = options.translationTolerance ?? 1.5;
  const shifts: Array<[number, number]> = [];
  for (const q of query.anchors) {
    for (const r of reference.anchors) {
      if (hammingDistance(q.hash, r.hash) <= anchorMax) shifts.push([r.x - q.x, r.y - q.y]);
    }
  }
  let votes = 0;
  for (const [tx, ty] of shifts) {
    let agree = 0;
    for (const [ux, uy] of shifts)
      if (Math.abs(ux - tx) <= tolerance && Math.abs(uy - ty) <= tolerance) agree++;
    votes = Math.max(votes, agree);
  }
  if (votes >= (options.minAnchorVotes ?? 2)) return { matched: true, via: 'anchors', score: votes };
  return { matched: false, via: null, score: Math.min(g, c) };
}
