import { popcount32 } from './hamming.ts';
import type { VpdqFeature } from './vpdq.ts';

/** Thresholds for comparing two videos' frame hashes. */
export interface VpdqMatchOptions {
  /**
   * Frames match when their distance is strictly below this. The reference matcher
   * (`matchTwoHashBrute`, used to produce published figures) tests `distance < 31`, although
   * its README's pseudo-code says `<=`; we follow the code. Default 31.
   */
  readonly distanceTolerance?: number;
  /** Frames with quality below this are dropped before matching. Default 50. */
  readonly qualityTolerance?: number;
}

/** How much of each video found a match in the other. */
export interface VpdqMatchResult {
  /** Percentage (0..100) of the query's usable frames within tolerance of some target frame. */
  readonly queryMatchPercent: number;
  /** Percentage (0..100) of the target's usable frames within tolerance of some query frame. */
  readonly targetMatchPercent: number;
}

/** Thresholds of the reference "is it a match" rule. */
export interface VpdqDecisionOptions {
  /** Minimum percentage of the target (comparison) video matched. Default 80. */
  readonly targetThreshold?: number;
  /** Minimum percentage of the query video matched; 0 tolerates padding in uploads. Default 0. */
  readonly queryThreshold?: number;
}

/** Hashes as 8 × 32-bit words per frame, so distances cost 8 XOR/popcounts. */
function packWords(features: readonly VpdqFeature[]): Uint32Array {
  const words = new Uint32Array(features.length * 8);
  features.forEach((f, i) => {
    const h = f.hash;
    for (let w = 0; w < 8; w++) {
      words[i * 8 + w] =
        ((h[4 * w]! << 24) | (h[4 * w + 1]! << 16) | (h[4 * w + 2]! << 8) | h[4 * w + 3]!) >>> 0;
    }
  });
  return words;
}

/** Counts frames of `a` that have at least one frame of `b` at distance < tolerance. */
function countMatched(a: Uint32Array, b: Uint32Array, tolerance: number): number {
  const na = a.length / 8;
  const nb = b.length / 8;
  let matched = 0;
  for (let i = 0; i < na; i++) {
    const o = i * 8;
    for (let j = 0; j < nb; j++) {
      const p = j * 8;
      let d = 0;
      for (let w = 0; w < 8 && d < tolerance; w++) d += popcount32(a[o + w]! ^ b[p + w]!);
      if (d < tolerance) {
        matched++;
        break;
      }
    }
  }
  return matched;
}

/**
 * Compares two videos as bags of frame hashes, like the reference brute-force matcher: drop
 * low-quality frames, then count, in each direction, the frames that have any frame in the
 * other video within the distance tolerance. Frame order and timing are ignored, so clips,
 * re-cuts and re-encodes still match. Either side empty after filtering gives 0 / 0.
 */
export function matchVpdq(
  query: readonly VpdqFeature[],
  target: readonly VpdqFeature[],
  options: VpdqMatchOptions = {},
): VpdqMatchResult {
  const distanceTolerance = options.distanceTolerance ?? 31;
  const qualityTolerance = options.qualityTolerance ?? 50;
  const q = query.filter((f) => f.quality >= qualityTolerance);
  const t = target.filter((f) => f.quality >= qualityTolerance);
  if (q.length === 0 || t.length === 0) return { queryMatchPercent: 0, targetMatchPercent: 0 };
  const qw = packWords(q);
  const tw = packWords(t);
  return {
    queryMatchPercent: (countMatched(qw, tw, distanceTolerance) * 100) / q.length,
    targetMatchPercent: (countMatched(tw, qw, distanceTolerance) * 100) / t.length,
  };
}

/**
 * The reference decision: a match when at least `targetThreshold`% of the target and
 * `queryThreshold`% of the query matched (defaults 80 and 0).
 */
export function isVpdqMatch(result: VpdqMatchResult, options: VpdqDecisionOptions = {}): boolean {
  return (
    result.targetMatchPercent >= (options.targetThreshold ?? 80) &&
    result.queryMatchPercent >= (options.queryThreshold ?? 0)
  );
}
