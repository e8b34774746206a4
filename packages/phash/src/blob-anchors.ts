import { boxBlurInto } from './luma-blur.ts';
import type { LumaPlane } from './working-image.ts';

/** A blob centre found by {@link findBlobAnchors}, with sub-pixel position. */
export interface BlobAnchor {
  /** Column of the centre (pixel units, sub-pixel). */
  readonly x: number;
  /** Row of the centre. */
  readonly y: number;
  /** |difference of Gaussians| at the centre: how pronounced the blob is. */
  readonly strength: number;
}

/** Options for {@link findBlobAnchors}. */
export interface BlobAnchorOptions {
  /** How many anchors to return, strongest first. */
  readonly count: number;
  /** Anchors closer than this to any edge are skipped (so a region around them fits). */
  readonly margin: number;
  /** Blur radii of the difference of Gaussians (inner, outer). */
  readonly radii?: readonly [number, number];
  /**
   * Spread the choice over a `cells`×`cells` grid of the search rectangle: the strongest anchor
   * of every cell first, then the second strongest of every cell, and so on (default 1: the
   * strongest overall). An overlay that adds strong blobs in one place — a sticker, an emoji —
   * then takes the slots of its own cells only.
   */
  readonly cells?: number;
  /** With `cells`: this many strongest anchors are taken first whatever their cell. */
  readonly strongest?: number;
  /** Only centres inside this rectangle count (default: the whole plane). */
  readonly within?: {
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
  };
}

/**
 * Four planes of blur scratch, kept between calls: a video's frames all have one size, and
 * allocating ~1.6 MB per frame of a 426×240 plane cost more in zeroing and collection than the
 * blurs. Module state is per thread (each worker has its own), and nothing here awaits, so no
 * two calls share it at once.
 */
type Scratch = [Float32Array, Float32Array, Float32Array, Float32Array];
let scratch: Scratch | undefined;
function scratchPlanes(n: number): Scratch {
  if (!scratch || scratch[0].length < n)
    scratch = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  return scratch;
}

/** SIFT's edge test with curvature ratio 10: (r + 1)² / r. */
const EDGE_RATIO_LIMIT = 12.1;

/*
 * Crop-robust matching needs regions that land on the same content in an image and in a crop of
 * it, without knowing the crop. Blob centres — extrema of a difference of Gaussians, as in
 * SIFT's detector — are a property of the content around them, so they move with it; with a
 * parabola fit they are located to a fraction of a pixel, which PDQ needs (a 1 % shift of a
 * region already flips ~40 bits). Fixed blur radii mean regions are the same size only when
 * the pixel scale is the same, which is the case for plain crops.
 */
export function findBlobAnchors(plane: LumaPlane, options: BlobAnchorOptions): BlobAnchor[] {
  const { blobs, area } = findBlobs(plane, options);
  return chooseBlobAnchors(blobs, { ...options, area });
}

/** A rectangle of plane pixels. */
export interface BlobArea {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Every blob centre of a plane that {@link findBlobAnchors} could choose, strongest first, and
 * the rectangle searched (`within` less the margin): one pass of blurs for several choices.
 */
export function findBlobs(
  plane: LumaPlane,
  options: Pick<BlobAnchorOptions, 'margin' | 'radii' | 'within'>,
): { blobs: BlobAnchor[]; area: BlobArea } {
  const { width, height } = plane;
  const [r1, r2] = options.radii ?? [3, 6];
  // Tent (two-pass box) kernels: a difference of tents finds the same blobs as a difference of
  // Gaussians for this purpose at two thirds of the cost.
  const n = width * height;
  const [s0, s1, s2, s3] = scratchPlanes(n);
  const a = boxBlurInto(plane.luma, width, height, r1, { passes: 2, scratch: [s0, s1] });
  const b = boxBlurInto(plane.luma, width, height, r2, { passes: 2, scratch: [s2, s3] });
  // The difference overwrites the first blur (same values as into a fresh array).
  const dog = a;
  for (let i = 0; i < n; i++) dog[i] = a[i]! - b[i]!;
  const m = Math.max(2, Math.ceil(options.margin));
  const w = options.within ?? { x: 0, y: 0, width, height };
  const found: BlobAnchor[] = [];
  for (let y = Math.max(m, w.y); y < Math.min(height - m, w.y + w.height); y++) {
    for (let x = Math.max(m, w.x); x < Math.min(width - m, w.x + w.width); x++) {
      const i = y * width + x;
      const v = dog[i]!;
      const mag = Math.abs(v);
      if (mag < 1) continue;
      const l = dog[i - 1]!;
      const r = dog[i + 1]!;
      const u = dog[i - width]!;
      const d = dog[i + width]!;
      // Most pixels fail against a direct neighbour; test those before the full 5×5 window.
      if (v > 0 ? l >= v || r >= v || u >= v || d >= v : l <= v || r <= v || u <= v || d <= v) continue;
      let extremum = true;
      for (let dy = -2; dy <= 2 && extremum; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          if (dx === 0 && dy === 0) continue;
          const w = dog[i + dy * width + dx]!;
          if (v > 0 ? w >= v : w <= v) {
            extremum = false;
            break;
          }
        }
      }
      if (!extremum) continue;
      // Blobs stretched along an edge are located well across it but not along it; reject
      // them as SIFT does, by the ratio of the Hessian's principal curvatures.
      const dxx = l - 2 * v + r;
      const dyy = u - 2 * v + d;
      const dxy = (dog[i + width + 1]! - dog[i + width - 1]! - dog[i - width + 1]! + dog[i - width - 1]!) / 4;
      const det = dxx * dyy - dxy * dxy;
      if (det <= 0 || ((dxx + dyy) * (dxx + dyy)) / det > EDGE_RATIO_LIMIT) continue;
      // Parabola through the centre and its two neighbours, per axis.
      const ox = (l - r) / (2 * (l - 2 * v + r));
      const oy = (u - d) / (2 * (u - 2 * v + d));
      found.push({
        x: x + (Number.isFinite(ox) ? Math.max(-0.5, Math.min(0.5, ox)) : 0),
        y: y + (Number.isFinite(oy) ? Math.max(-0.5, Math.min(0.5, oy)) : 0),
        strength: mag,
      });
    }
  }
  found.sort((p, q) => q.strength - p.strength);
  const x0 = Math.max(m, w.x);
  const y0 = Math.max(m, w.y);
  const area = { x: x0, y: y0, width: Math.min(width - m, w.x + w.width) - x0, height: Math.min(height - m, w.y + w.height) - y0 };
  return { blobs: found, area };
}

/**
 * Chooses anchors from blobs sorted strongest first ({@link findBlobs}): the `count` strongest,
 * or spread over a `cells`×`cells` grid of `area` after the `strongest` first.
 */
export function chooseBlobAnchors(
  found: readonly BlobAnchor[],
  options: Pick<BlobAnchorOptions, 'count' | 'cells' | 'strongest'> & { readonly area: BlobArea },
): BlobAnchor[] {
  const cells = options.cells ?? 1;
  if (cells <= 1) return found.slice(0, options.count);
  const first = Math.min(options.strongest ?? 0, options.count);
  // Rank of each anchor within its cell; stable sort by rank keeps strength order within a rank.
  const seen = new Map<number, number>();
  const { x: x0, y: y0 } = options.area;
  const cw = Math.max(1, options.area.width / cells);
  const ch = Math.max(1, options.area.height / cells);
  const ranked = found.slice(first).map((a) => {
    const cell =
      Math.min(cells - 1, Math.floor((a.y - y0) / ch)) * cells +
      Math.min(cells - 1, Math.floor((a.x - x0) / cw));
    const rank = seen.get(cell) ?? 0;
    seen.set(cell, rank + 1);
    return { a, rank };
  });
  ranked.sort((p, q) => p.rank - q.rank);
  return [...found.slice(0, first), ...ranked.slice(0, options.count - first).map((r) => r.a)];
}
