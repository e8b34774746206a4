import type { LumaPlane } from './working-image.ts';

/**
 * Contrast-limited adaptive histogram equalisation (CLAHE) of a luma plane (0–255 floats): each
 * of `grid × grid` tiles gets its own tone curve (its histogram clipped at `clip` times the mean
 * bin, the excess spread evenly, then equalised), and every pixel's value is interpolated
 * bilinearly between the curves of the four nearest tile centres. A dark picture's own structure
 * is stretched to the full range while a flat area (a white app bar) stays flat: the clip keeps
 * a spike from becoming a steep curve. Development probe (ROBUST_PARAMS.equalise), off by default.
 */
export function equaliseLocally(p: LumaPlane, grid = 8, clip = 3): LumaPlane {
  const { width, height, luma } = p;
  const gx = Math.max(1, Math.min(grid, Math.floor(width / 8)));
  const gy = Math.max(1, Math.min(grid, Math.floor(height / 8)));
  const bins = 256;
  const curves = new Float32Array(gx * gy * bins);
  for (let ty = 0; ty < gy; ty++) {
    const y0 = Math.floor((ty * height) / gy);
    const y1 = Math.floor(((ty + 1) * height) / gy);
    for (let tx = 0; tx < gx; tx++) {
      const x0 = Math.floor((tx * width) / gx);
      const x1 = Math.floor(((tx + 1) * width) / gx);
      const hist = new Float64Array(bins);
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) hist[Math.min(255, Math.max(0, Math.round(luma[y * width + x]!)))]!++;
      const n = (y1 - y0) * (x1 - x0);
      const limit = Math.max(1, (clip * n) / bins);
      let excess = 0;
      for (let b = 0; b < bins; b++)
        if (hist[b]! > limit) {
          excess += hist[b]! - limit;
          hist[b] = limit;
        }
      const add = excess / bins;
      let cdf = 0;
      const base = (ty * gx + tx) * bins;
      for (let b = 0; b < bins; b++) {
        cdf += hist[b]! + add;
        curves[base + b] = (255 * cdf) / n;
      }
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = ((y + 0.5) * gy) / height - 0.5;
    const ty0 = Math.max(0, Math.min(gy - 1, Math.floor(fy)));
    const ty1 = Math.min(gy - 1, ty0 + 1);
    const wy = Math.max(0, Math.min(1, fy - ty0));
    for (let x = 0; x < width; x++) {
      const fx = ((x + 0.5) * gx) / width - 0.5;
      const tx0 = Math.max(0, Math.min(gx - 1, Math.floor(fx)));
      const tx1 = Math.min(gx - 1, tx0 + 1);
      const wx = Math.max(0, Math.min(1, fx - tx0));
      const b = Math.min(255, Math.max(0, Math.round(luma[y * width + x]!)));
      const c00 = curves[(ty0 * gx + tx0) * bins + b]!;
      const c01 = curves[(ty0 * gx + tx1) * bins + b]!;
      const c10 = curves[(ty1 * gx + tx0) * bins + b]!;
      const c11 = curves[(ty1 * gx + tx1) * bins + b]!;
      out[y * width + x] = (1 - wy) * ((1 - wx) * c00 + wx * c01) + wy * ((1 - wx) * c10 + wx * c11);
    }
  }
  return { luma: out, width, height };
}
