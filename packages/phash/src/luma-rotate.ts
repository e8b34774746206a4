import type { LumaRegion } from './pdq-downsample.ts';
import type { LumaPlane } from './working-image.ts';

/**
 * Samples a region of a luma plane as if the plane had first been rotated by `degrees`
 * (counter-clockwise, about the region's centre), with bilinear interpolation; samples from
 * outside the plane are clamped to its edge. Used to undo small tilts before hashing.
 */
export function rotatedRegion(plane: LumaPlane, region: LumaRegion, degrees: number): LumaPlane {
  const { luma, width: pw, height: ph } = plane;
  const { width, height } = region;
  const cx = region.x + width / 2;
  const cy = region.y + height / 2;
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const out = new Float32Array(width * height);
  if (degrees === 0) return shiftedRegion(plane, region, out);
  for (let v = 0; v < height; v++) {
    const dy = v + 0.5 - height / 2;
    for (let u = 0; u < width; u++) {
      const dx = u + 0.5 - width / 2;
      // Inverse mapping: output pixel → source position (rotate back by −θ).
      const sx = Math.min(pw - 1, Math.max(0, cx + dx * cos - dy * sin - 0.5));
      const sy = Math.min(ph - 1, Math.max(0, cy + dx * sin + dy * cos - 0.5));
      const x0 = Math.min(pw - 2, Math.floor(sx));
      const y0 = Math.min(ph - 2, Math.floor(sy));
      const fx = sx - x0;
      const fy = sy - y0;
      const i = y0 * pw + x0;
      const top = luma[i]! + (luma[i + 1]! - luma[i]!) * fx;
      const bottom = luma[i + pw]! + (luma[i + pw + 1]! - luma[i + pw]!) * fx;
      out[v * width + u] = top + (bottom - top) * fy;
    }
  }
  return { luma: out, width, height };
}

/**
 * {@link rotatedRegion} at 0°: a sub-pixel shift (blob-anchored regions are sampled this way by
 * the dozen per frame). The rotation terms vanish exactly (cos 0 = 1, sin 0 = 0), so each
 * output is the same bilinear mix of the same four samples with the same weights: identical
 * values, with the per-row and per-column work hoisted out of the inner loop.
 */
function shiftedRegion(plane: LumaPlane, region: LumaRegion, out: Float32Array): LumaPlane {
  const { luma, width: pw, height: ph } = plane;
  const { width, height } = region;
  const cx = region.x + width / 2;
  const cy = region.y + height / 2;
  const x0s = new Int32Array(width);
  const fxs = new Float64Array(width);
  for (let u = 0; u < width; u++) {
    const sx = Math.min(pw - 1, Math.max(0, cx + (u + 0.5 - width / 2) - 0.5));
    x0s[u] = Math.min(pw - 2, Math.floor(sx));
    fxs[u] = sx - x0s[u]!;
  }
  for (let v = 0; v < height; v++) {
    const sy = Math.min(ph - 1, Math.max(0, cy + (v + 0.5 - height / 2) - 0.5));
    const y0 = Math.min(ph - 2, Math.floor(sy));
    const fy = sy - y0;
    const rowAt = y0 * pw;
    const o = v * width;
    for (let u = 0; u < width; u++) {
      const i = rowAt + x0s[u]!;
      const fx = fxs[u]!;
      const top = luma[i]! + (luma[i + 1]! - luma[i]!) * fx;
      const bottom = luma[i + pw]! + (luma[i + pw + 1]! - luma[i + pw]!) * fx;
      out[o + u] = top + (bottom - top) * fy;
    }
  }
  return { luma: out, width, height };
}
