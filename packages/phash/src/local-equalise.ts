import type { LumaPlane } from './working-image.ts';

const BINS = 256;
/** Scratch buffers reused between calls (the robust scheme equalises hundreds of 64×64 planes). */
let binScratch = new Uint8Array(0);
let histScratch = new Float64Array(0);
let curveScratch = new Float32Array(0);

/**
 * Contrast-limited adaptive histogram equalisation (CLAHE) of a luma plane (0–255 floats): each
 * of `grid × grid` tiles gets its own tone curve (its histogram clipped at `clip` times the mean
 * bin, the excess spread evenly, then equalised), and every pixel's value is interpolated
 * bilinearly between the curves of the four nearest tile centres. A dark picture's own structure
 * is stretched to the full range while a flat area (a white app bar) stays flat: the clip keeps
 * a spike from becoming a steep curve. Robust scheme 2 equalises each window's and region's
 * 64×64 PDQ downsample with it (robust-hashes.ts RobustScheme).
 *
 * Each pixel is binned once and the interpolation weights of each column are worked out once, so
 * a 64×64 plane costs a few tens of microseconds.
 */
export function equaliseLocally(p: LumaPlane, grid = 8, clip = 3): LumaPlane {
  const { width, height, luma } = p;
  const gx = Math.max(1, Math.min(grid, Math.floor(width / 8)));
  const gy = Math.max(1, Math.min(grid, Math.floor(height / 8)));
  const size = width * height;
  if (binScratch.length < size) binScratch = new Uint8Array(size);
  if (histScratch.length < BINS) histScratch = new Float64Array(BINS);
  if (curveScratch.length < gx * gy * BINS) curveScratch = new Float32Array(gx * gy * BINS);
  const bin = binScratch;
  const hist = histScratch;
  const curves = curveScratch;
  for (let i = 0; i < size; i++) {
    const v = luma[i]!;
    // Math.round then clamp, as (v + 0.5) | 0 is for 0 ≤ v < 2^31; a negative value is bin 0.
    bin[i] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
  }
  for (let ty = 0; ty < gy; ty++) {
    const y0 = Math.floor((ty * height) / gy);
    const y1 = Math.floor(((ty + 1) * height) / gy);
    for (let tx = 0; tx < gx; tx++) {
      const x0 = Math.floor((tx * width) / gx);
      const x1 = Math.floor(((tx + 1) * width) / gx);
      hist.fill(0, 0, BINS);
      for (let y = y0; y < y1; y++) {
        const row = y * width;
        for (let x = x0; x < x1; x++) hist[bin[row + x]!]!++;
      }
      const n = (y1 - y0) * (x1 - x0);
      const limit = Math.max(1, (clip * n) / BINS);
      let excess = 0;
      for (let b = 0; b < BINS; b++)
        if (hist[b]! > limit) {
          excess += hist[b]! - limit;
          hist[b] = limit;
        }
      const add = excess / BINS;
      let cdf = 0;
      const base = (ty * gx + tx) * BINS;
      for (let b = 0; b < BINS; b++) {
        cdf += hist[b]! + add;
        curves[base + b] = (255 * cdf) / n;
      }
    }
  }
  // Per column: the two nearest tile columns (as offsets into `curves`) and the weight between them.
  const col0 = new Int32Array(width);
  const col1 = new Int32Array(width);
  const wxs = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const fx = ((x + 0.5) * gx) / width - 0.5;
    const tx0 = Math.max(0, Math.min(gx - 1, Math.floor(fx)));
    col0[x] = tx0 * BINS;
    col1[x] = Math.min(gx - 1, tx0 + 1) * BINS;
    wxs[x] = Math.max(0, Math.min(1, fx - tx0));
  }
  const out = new Float32Array(size);
  for (let y = 0; y < height; y++) {
    const fy = ((y + 0.5) * gy) / height - 0.5;
    const ty0 = Math.max(0, Math.min(gy - 1, Math.floor(fy)));
    const ty1 = Math.min(gy - 1, ty0 + 1);
    const wy = Math.max(0, Math.min(1, fy - ty0));
    const r0 = ty0 * gx * BINS;
    const r1 = ty1 * gx * BINS;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const b = bin[row + x]!;
      const wx = wxs[x]!;
      const c00 = curves[r0 + col0[x]! + b]!;
      const c01 = curves[r0 + col1[x]! + b]!;
      const c10 = curves[r1 + col0[x]! + b]!;
      const c11 = curves[r1 + col1[x]! + b]!;
      out[row + x] = (1 - wy) * ((1 - wx) * c00 + wx * c01) + wy * ((1 - wx) * c10 + wx * c11);
    }
  }
  return { luma: out, width, height };
}
