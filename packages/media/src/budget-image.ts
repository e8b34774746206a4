import type { ImageTarget } from './accept.ts';
import { MediaError, throwIfAborted } from './errors.ts';
import { encodeRaw, type ImageFormat } from './image-encode.ts';
import { type RawImage, resizeRaw } from './raw-image.ts';

/** Quality bounds per format: [lowest acceptable, preferred floor, highest useful]. */
const QUALITY_BOUNDS: Record<ImageFormat, [number, number, number]> = {
  // AVIF's scale is shifted: q35 looks like JPEG q60.
  avif: [15, 35, 75],
  webp: [20, 55, 92],
  jpeg: [20, 55, 92],
};

/** Options for {@link fitImageToBudget}. */
export interface ImageBudgetSearchOptions {
  /** Byte budget. */
  maxBytes: number;
  /** Smallest long side worth sending (default 48 px); below it we give up. */
  minSide?: number;
  /** AVIF effort (default 2). */
  avifEffort?: number;
  /**
   * Quality below which we prefer shrinking the picture (default 55 for JPEG/WebP, 35 for AVIF).
   * Lower keeps more resolution with more artefacts; SSIM tends to favour lower floors on detailed photos.
   */
  qualityFloor?: number;
  /** Abort signal, checked between encodes. */
  signal?: AbortSignal;
}

/** Outcome of a successful search. */
export interface ImageBudgetFit {
  /** Encoded bytes (≤ maxBytes). */
  bytes: Buffer;
  /** Pixels that were encoded (for the SSIM check). */
  width: number;
  /** Height of the output. */
  height: number;
  /** Encoder quality used. */
  quality: number;
  /** Number of encodes the search needed. */
  encodes: number;
}

/**
 * Finds the best-looking encode of `source` in `target.format` that fits `maxBytes`:
 * 1. at full size, binary-search the highest quality in [floor, max] that fits;
 * 2. else binary-search the largest long side that fits at the floor quality, then search quality
 *    again at that size (rounding in step 2 usually leaves room for a few more quality points);
 * 3. else, at the minimum side, search quality below the floor.
 * Quality and size are both monotone in bytes (to within noise), so binary search is sound and needs
 * ~6 encodes per dimension instead of a fixed list of guesses. Returns `undefined` when even the
 * smallest, lowest-quality encode is too big.
 * @param source decoded pixels, already capped to the target's box
 * @param target format and constraints
 * @param options budget and bounds
 */
export async function fitImageToBudget(
  source: RawImage,
  target: ImageTarget,
  options: ImageBudgetSearchOptions,
): Promise<ImageBudgetFit | undefined> {
  const [minQ, defaultFloor, maxQ] = QUALITY_BOUNDS[target.format];
  const floorQ = Math.min(maxQ, Math.max(minQ + 1, options.qualityFloor ?? defaultFloor));
  const fullSide = Math.max(source.width, source.height);
  const minSide = Math.min(fullSide, options.minSide ?? 48);
  let encodes = 0;
  const resized = new Map<number, RawImage>();
  const encodeAt = async (side: number, quality: number) => {
    throwIfAborted(options.signal);
    let pixels = resized.get(side);
    if (!pixels) {
      pixels = await resizeRaw(source, side);
      resized.clear(); // keep one size in memory: searches revisit the same side many times in a row
      resized.set(side, pixels);
    }
    encodes++;
    const bytes = await encodeRaw(pixels, target.format, {
      quality,
      avifEffort: options.avifEffort,
      jpeg: 'compat',
    });
    return { bytes, width: pixels.width, height: pixels.height, quality };
  };
  const fits = (b: Buffer) => b.length <= options.maxBytes;

  /** Highest quality in [lo, hi] that fits at `side`, or undefined. */
  const searchQuality = async (side: number, lo: number, hi: number) => {
    let best: Awaited<ReturnType<typeof encodeAt>> | undefined;
    const top = await encodeAt(side, hi);
    if (fits(top.bytes)) return top;
    hi -= 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const attempt = await encodeAt(side, mid);
      if (fits(attempt.bytes)) {
        best = attempt;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  };

  const done = (fit: Awaited<ReturnType<typeof encodeAt>>): ImageBudgetFit => ({ ...fit, encodes });

  const atFullSize = await searchQuality(fullSide, floorQ, maxQ);
  if (atFullSize) return done(atFullSize);

  // Largest side that fits at the floor quality. Invariant: `lo` fits (once found), `hi` does not.
  let lo = minSide;
  let hi = fullSide;
  const smallest = await encodeAt(lo, floorQ);
  if (fits(smallest.bytes)) {
    while (hi - lo > Math.max(4, Math.round(lo * 0.02))) {
      const mid = Math.round((lo + hi) / 2);
      if (fits((await encodeAt(mid, floorQ)).bytes)) lo = mid;
      else hi = mid;
    }
    const refined = await searchQuality(lo, floorQ, maxQ);
    if (refined) return done(refined);
  }
  const lastResort = await searchQuality(minSide, minQ, floorQ - 1);
  return lastResort ? done(lastResort) : undefined;
}

/**
 * Error for an image that cannot fit in any accepted format.
 * @param maxBytes the budget
 * @param formats formats tried
 */
export function imageBudgetError(maxBytes: number, formats: readonly string[]): MediaError {
  return new MediaError('budget_unreachable', `no accepted image format fits in ${maxBytes} bytes`, {
    details: { maxBytes, formats },
  });
}
