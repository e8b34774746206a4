import { type FrameSize, sizeForHeight } from './video-geometry.ts';

/** A standard rung height with its peak video bit rate for H.264 main at ≤ 30 fps. */
export interface LadderRung {
  /** Nominal height, e.g. 360. */
  height: number;
  /** Peak (VBV max) video bit rate in kbit/s. */
  maxKbps: number;
}

/** Standard ladder. Bit rates follow common streaming ladders for talking-head/phone footage. */
export const STANDARD_LADDER: readonly LadderRung[] = [
  { height: 240, maxKbps: 500 },
  { height: 360, maxKbps: 900 },
  { height: 480, maxKbps: 1400 },
  { height: 720, maxKbps: 2800 },
  { height: 1080, maxKbps: 5000 },
];

/** A rung resolved against a particular source. */
export interface PlannedRung extends FrameSize {
  /** Variant name and folder, e.g. `360p`. */
  name: string;
  /** Peak video bit rate in kbit/s. */
  maxKbps: number;
}

/**
 * Picks the rungs for a source: every standard height up to the source's own (never upscaling).
 * Sources smaller than the lowest rung get a single rendition at their own size. Rung heights apply
 * to the short side, as players label them: a portrait phone video's "720p" rung is 720 × 1280.
 * @param source display size of the source
 * @param ladder available rungs (default {@link STANDARD_LADDER})
 * @param maxRungHeight cap, e.g. 720 to skip 1080p for speed
 */
export function planLadder(
  source: FrameSize,
  ladder: readonly LadderRung[] = STANDARD_LADDER,
  maxRungHeight = Infinity,
): PlannedRung[] {
  const portrait = source.height > source.width;
  const shortSide = Math.min(source.width, source.height);
  const rungs = ladder.filter((rung) => rung.height <= shortSide && rung.height <= maxRungHeight);
  const chosen = rungs.length > 0 ? rungs : [{ height: shortSide, maxKbps: ladder[0]?.maxKbps ?? 500 }];
  return chosen.map((rung) => {
    const size = portrait
      ? (({ width, height }) => ({ width: height, height: width }))(
          sizeForHeight({ width: source.height, height: source.width }, rung.height),
        )
      : sizeForHeight(source, rung.height);
    return { name: `${rung.height}p`, maxKbps: rung.maxKbps, ...size };
  });
}

/**
 * Peak bit rate for an arbitrary short side, interpolated on the standard ladder (used by the
 * single-file MP4 transcode).
 * @param shortSide the smaller of width and height
 */
export function maxKbpsForShortSide(shortSide: number): number {
  const rungs = STANDARD_LADDER;
  const first = rungs[0];
  const last = rungs[rungs.length - 1];
  if (!first || !last) return 1000;
  if (shortSide <= first.height) return first.maxKbps;
  for (let i = 1; i < rungs.length; i++) {
    const lower = rungs[i - 1];
    const upper = rungs[i];
    if (lower && upper && shortSide <= upper.height) {
      const t = (shortSide - lower.height) / (upper.height - lower.height);
      return Math.round(lower.maxKbps + t * (upper.maxKbps - lower.maxKbps));
    }
  }
  return last.maxKbps;
}
