import type { PixelImage } from './pixel-image.ts';
import { imageChannels } from './pixel-image.ts';

/** A luma plane (row-major, values 0..255). */
export interface LumaPlane {
  /** Luma values, `width × height`. */
  readonly luma: Float32Array;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/**
 * Luma shrunk by an integer factor with area averaging, so the longer side is at most
 * `maxSide`. Robust matching hashes dozens of regions; doing that on a ~512 px copy instead of a
 * 12-megapixel original costs milliseconds, and PDQ reduces every region to 64×64 anyway.
 * One pass over the pixels, no float-exactness concerns (these hashes are MMD's own, not
 * compared with Meta's tools).
 */
export function workingLuma(image: PixelImage, maxSide = 512): LumaPlane {
  return shrinkLuma(image, Math.max(1, Math.ceil(Math.max(image.width, image.height) / maxSide)));
}

/**
 * Luma shrunk by a given integer factor with area averaging (partial edge blocks dropped).
 * With `into` (at least the output's size; every value is overwritten) the plane is a view of
 * it instead of fresh memory: for callers that shrink frame after frame and keep none.
 */
export function shrinkLuma(image: PixelImage, factor: number, into?: Float32Array): LumaPlane {
  const channels = imageChannels(image);
  const { data } = image;
  const width = Math.max(1, Math.floor(image.width / factor));
  const height = Math.max(1, Math.floor(image.height / factor));
  const blockWidth = Math.min(factor, image.width);
  const luma =
    into && into.length >= width * height ? into.subarray(0, width * height) : new Float32Array(width * height);
  // Grey at factor 1 (video frames decoded at the signature's size): the general path computes
  // 1024·v / 1024 = v exactly (a power-of-two scale), so copying the bytes gives the same plane.
  if (factor === 1 && channels === 1) {
    for (let i = 0; i < luma.length; i++) luma[i] = data[i]!;
    return { luma, width, height };
  }
  const sums = new Float64Array(width);
  // Integer luma weights ×1024 (0.299, 0.587, 0.114): integer arithmetic is ~2× faster here
  // and the rounding is far below what PDQ can see.
  const norm = 1 / (factor * factor * 1024);
  const rowBytes = image.width * channels;
  const step = factor * channels;
  for (let oy = 0; oy < height; oy++) {
    sums.fill(0);
    const yEnd = Math.min(image.height, (oy + 1) * factor);
    for (let y = oy * factor; y < yEnd; y++) {
      // Output column by output column, so there is no division per input pixel.
      let p = y * rowBytes;
      for (let ox = 0; ox < width; ox++, p += step) {
        let s = 0;
        if (channels >= 3) {
          for (let q = p, k = 0; k < blockWidth; k++, q += channels)
            s += 306 * data[q]! + 601 * data[q + 1]! + 117 * data[q + 2]!;
        } else {
          for (let q = p, k = 0; k < blockWidth; k++, q += channels) s += 1024 * data[q]!;
        }
        sums[ox]! += s;
      }
    }
    for (let x = 0; x < width; x++) luma[oy * width + x] = sums[x]! * norm;
  }
  return { luma, width, height };
}

/** A luma plane shrunk further by an integer factor with area averaging. */
export function shrinkPlane(plane: LumaPlane, factor: number): LumaPlane {
  if (factor === 1) return plane;
  const width = Math.max(1, Math.floor(plane.width / factor));
  const height = Math.max(1, Math.floor(plane.height / factor));
  const luma = new Float32Array(width * height);
  const norm = 1 / (factor * factor);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * plane.width + x * factor;
        for (let dx = 0; dx < factor; dx++) sum += plane.luma[row + dx] ?? 0;
      }
      luma[y * width + x] = sum * norm;
    }
  }
  return { luma, width, height };
}

/** Per output index: the first source index and the weights of the source pixels it covers. */
function areaWeights(from: number, to: number): Array<{ start: number; weights: number[] }> {
  const scale = from / to;
  const out: Array<{ start: number; weights: number[] }> = [];
  for (let o = 0; o < to; o++) {
    if (scale >= 1) {
      // Shrinking: average the source interval the output pixel covers (exact area weights).
      const a = o * scale;
      const b = Math.min(from, a + scale);
      const start = Math.floor(a);
      const weights: number[] = [];
      for (let i = start; i < b; i++) weights.push((Math.min(b, i + 1) - Math.max(a, i)) / scale);
      out.push({ start, weights });
    } else {
      // Enlarging: linear interpolation between the two nearest source pixels.
      const s = Math.max(0, Math.min(from - 1, (o + 0.5) * scale - 0.5));
      const start = Math.min(from - 2, Math.floor(s));
      const f = s - start;
      out.push(from < 2 ? { start: 0, weights: [1] } : { start, weights: [1 - f, f] });
    }
  }
  return out;
}

/**
 * A luma plane resampled to any size: area averaging where it shrinks (no aliasing, and the
 * same content gives the same values whatever size it arrived at), linear interpolation where
 * it enlarges. Separable, rows then columns.
 */
export function resizePlane(plane: LumaPlane, width: number, height: number): LumaPlane {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const xs = areaWeights(plane.width, w);
  const ys = areaWeights(plane.height, h);
  const rows = new Float32Array(w * plane.height);
  for (let y = 0; y < plane.height; y++) {
    const base = y * plane.width;
    for (let x = 0; x < w; x++) {
      const { start, weights } = xs[x]!;
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k]! * plane.luma[base + start + k]!;
      rows[y * w + x] = s;
    }
  }
  const luma = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const { start, weights } = ys[y]!;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k]! * rows[(start + k) * w + x]!;
      luma[y * w + x] = s;
    }
  }
  return { luma, width: w, height: h };
}
