import type { LumaRegion } from './pdq-downsample.ts';
import type { LumaPlane } from './working-image.ts';

/*
 * Finds the photo inside letterbox/pillarbox bars or an app screenshot. The surround's colour
 * is the median of the image's outer edge, and trimming only happens on sides whose outermost
 * line is uniform in that colour (a photo's own border almost never is). Rows then count as
 * picture when a good share of their pixels differ from the surround — UI text rows in a
 * screenshot stay below it, bars are empty — and the longest run of picture rows is kept;
 * columns within those rows are trimmed only when nearly empty. A photo with a large area in
 * the surround's colour may be trimmed too far, so callers hash the untrimmed image as well.
 */

/** Luma difference from the surround that makes a pixel part of the picture. */
const PIXEL_THRESHOLD = 10;
/** Share of picture pixels above which a row belongs to the picture (text rows stay below). */
const ROW_SHARE = 0.4;
/** Share of picture pixels above which a column belongs to the picture. */
const COLUMN_SHARE = 0.1;
/** Share of an outermost line that must match the surround for that side to be trimmed. */
const UNIFORM_SIDE = 0.9;

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
}

/** Longest run of indices in [0, n) where `ok(i)` holds, as [start, end). */
function longestRun(n: number, ok: (i: number) => boolean): [number, number] {
  let best: [number, number] = [0, 0];
  let start = -1;
  for (let i = 0; i <= n; i++) {
    if (i < n && ok(i)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best[1] - best[0]) best = [start, i];
      start = -1;
    }
  }
  return best;
}

/** Options of {@link findContentRect}. */
export interface ContentRectOptions {
  /**
   * When set, rows (columns) are trimmed only if what trimming removes is flat surround: the
   * median share, over the removed rows (columns), of pixels more than `removedPixelThreshold`
   * from the surround's colour must not exceed this. Bars and app chrome are flat but for a few
   * rows of text; a dark sky that a bright sticker leaves looking like "surround", or a pale
   * texture whose edges happen to be uniform within the looser `PIXEL_THRESHOLD`, is not.
   */
  readonly maxRemovedShare?: number;
  /** Luma difference from the surround that counts a removed pixel as not flat. Default 4. */
  readonly removedPixelThreshold?: number;
  /**
   * When set, the rectangle then grows back over each adjacent row (column) whose share of
   * not-flat pixels exceeds this: a pale sky or a lamp's glow at a photo's edge is within
   * `PIXEL_THRESHOLD` of a white surround and so looks like surround, and the median test above
   * cannot see a few such rows among many truly empty ones (a photo in a collage's white cell).
   */
  readonly growShare?: number;
}

/** Median of `share(i)` over the indices of [0, n) outside [start, end); 0 when none are. */
function removedShare(n: number, start: number, end: number, share: (i: number) => number): number {
  const removed: number[] = [];
  for (let i = 0; i < n; i++) if (i < start || i >= end) removed.push(share(i));
  return removed.length === 0 ? 0 : median(removed);
}

/**
 * The rectangle of a luma plane that holds the picture, or the whole plane when there is no
 * uniform surround (or the result would be implausibly small).
 */
export function findContentRect(plane: LumaPlane, options: ContentRectOptions = {}): LumaRegion {
  const { luma, width, height } = plane;
  const whole = { x: 0, y: 0, width, height };
  if (width < 16 || height < 16) return whole;
  const at = (x: number, y: number) => luma[y * width + x]!;
  const sides = [
    Array.from({ length: width }, (_, x) => at(x, 0)),
    Array.from({ length: width }, (_, x) => at(x, height - 1)),
    Array.from({ length: height }, (_, y) => at(0, y)),
    Array.from({ length: height }, (_, y) => at(width - 1, y)),
  ];
  const uniform = sides.map((side) => {
    const m = median(side);
    return side.filter((v) => Math.abs(v - m) <= PIXEL_THRESHOLD).length >= UNIFORM_SIDE * side.length;
  });
  // The surround's colour comes from the uniform sides only: with pillarbox bars the top and
  // bottom edges are photo, and would drag an all-edge median away from the bar colour.
  const bg = median(sides.filter((_, i) => uniform[i]).flat());
  const isPicture = (v: number) => Math.abs(v - bg) > PIXEL_THRESHOLD;
  const notFlat = (v: number) => Math.abs(v - bg) > (options.removedPixelThreshold ?? 4);
  const rowShare = (y: number, x0: number, x1: number, test = isPicture) => {
    let n = 0;
    for (let x = x0; x < x1; x++) if (test(at(x, y))) n++;
    return n / Math.max(1, x1 - x0);
  };
  const colShare = (x: number, y0: number, y1: number, test = isPicture) => {
    let n = 0;
    for (let y = y0; y < y1; y++) if (test(at(x, y))) n++;
    return n / Math.max(1, y1 - y0);
  };
  const uniformRows =
    (uniform[0] && rowShare(0, 0, width) <= 1 - UNIFORM_SIDE) ||
    (uniform[1] && rowShare(height - 1, 0, width) <= 1 - UNIFORM_SIDE);
  const uniformCols =
    (uniform[2] && colShare(0, 0, height) <= 1 - UNIFORM_SIDE) ||
    (uniform[3] && colShare(width - 1, 0, height) <= 1 - UNIFORM_SIDE);
  if (!uniformRows && !uniformCols) return whole;

  const limit = options.maxRemovedShare;
  let [y0, y1] = uniformRows ? longestRun(height, (y) => rowShare(y, 0, width) > ROW_SHARE) : [0, height];
  if (limit !== undefined && removedShare(height, y0, y1, (y) => rowShare(y, 0, width, notFlat)) > limit)
    [y0, y1] = [0, height];
  let [x0, x1] = uniformCols ? longestRun(width, (x) => colShare(x, y0, y1) > COLUMN_SHARE) : [0, width];
  if (limit !== undefined && removedShare(width, x0, x1, (x) => colShare(x, y0, y1, notFlat)) > limit)
    [x0, x1] = [0, width];
  const grow = options.growShare;
  if (grow !== undefined) {
    while (y0 > 0 && rowShare(y0 - 1, x0, x1, notFlat) > grow) y0--;
    while (y1 < height && rowShare(y1, x0, x1, notFlat) > grow) y1++;
    while (x0 > 0 && colShare(x0 - 1, y0, y1, notFlat) > grow) x0--;
    while (x1 < width && colShare(x1, y0, y1, notFlat) > grow) x1++;
  }
  const rect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  if (rect.width < Math.max(16, width * 0.2) || rect.height < Math.max(16, height * 0.1)) return whole;
  return rect;
}
