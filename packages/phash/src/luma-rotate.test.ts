import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rotatedRegion } from './luma-rotate.ts';

/** Bilinear sample at (sx, sy), clamped to the plane as rotatedRegion clamps. */
function sample(luma: Float32Array, w: number, h: number, sx: number, sy: number): number {
  const x = Math.min(w - 1, Math.max(0, sx));
  const y = Math.min(h - 1, Math.max(0, sy));
  const x0 = Math.min(w - 2, Math.floor(x));
  const y0 = Math.min(h - 2, Math.floor(y));
  const at = (i: number, j: number) => luma[j * w + i]!;
  const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * (x - x0);
  const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * (x - x0);
  return Math.fround(top + (bottom - top) * (y - y0));
}

test('an unrotated region is the plane shifted by a sub-pixel offset, edges clamped', () => {
  const w = 40;
  const h = 30;
  const luma = Float32Array.from({ length: w * h }, (_, i) => ((i * 37) % 251) + (i % w) * 0.25);
  // Inside, straddling the left/top edges, and past the right/bottom edges.
  for (const [x, y] of [
    [5.25, 3.75],
    [-2.5, -1.125],
    [30.6, 22.3],
  ] as const) {
    const region = rotatedRegion({ luma, width: w, height: h }, { x, y, width: 16, height: 12 }, 0);
    for (let v = 0; v < 12; v++) {
      for (let u = 0; u < 16; u++) {
        assert.equal(region.luma[v * 16 + u], sample(luma, w, h, x + u, y + v), `(${x}, ${y}) at ${u},${v}`);
      }
    }
  }
});

test('a region turned by 90° samples the plane turned back', () => {
  const w = 20;
  const h = 20;
  const luma = Float32Array.from({ length: w * h }, (_, i) => i);
  const region = rotatedRegion({ luma, width: w, height: h }, { x: 6, y: 6, width: 8, height: 8 }, 90);
  // Output column u, row v comes from source (cx − dy, cy + dx): moving right in the output
  // moves down in the source.
  const at = (u: number, v: number) => region.luma[v * 8 + u]!;
  assert.ok(Math.abs(at(1, 0) - at(0, 0) - w) < 1e-3);
  assert.ok(Math.abs(at(0, 1) - at(0, 0) + 1) < 1e-3);
});
