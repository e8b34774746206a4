import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equaliseLocally } from './local-equalise.ts';
import { pdqQuality } from './pdq-quality.ts';
import type { LumaPlane } from './working-image.ts';

function plane(width: number, height: number, f: (x: number, y: number) => number) {
  const luma = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) luma[y * width + x] = f(x, y);
  return { luma, width, height };
}

/** The first, plain implementation (one histogram pass per tile, Math.round per lookup). */
function referenceEqualise(p: LumaPlane, grid = 8, clip = 3): LumaPlane {
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

const range = (a: Float32Array) => Math.max(...a) - Math.min(...a);

test('a flat area stays flat: a white app bar does not become noise', () => {
  const out = equaliseLocally(plane(64, 64, () => 240), 4, 3);
  assert.equal(range(out.luma), 0);
});

test("a dark picture's structure is stretched, but no more than the clip allows", () => {
  // A dim gradient with texture: luma 10–40.
  const dim = plane(64, 64, (x, y) => 10 + (x * 25) / 63 + ((x + y) % 4 === 0 ? 5 : 0));
  const out = equaliseLocally(dim, 4, 3);
  assert.ok(range(out.luma) > 1.5 * range(dim.luma), `range ${range(dim.luma)} → ${range(out.luma)}`);
  // The clip bounds every tile curve's slope to about 3 levels per level.
  assert.ok(range(out.luma) <= 3.1 * range(dim.luma) + 1, `range ${range(out.luma)}`);
  // PDQ's quality (gradient energy) of the dim picture rises with it.
  assert.ok(pdqQuality(out.luma) > pdqQuality(dim.luma));
});

test('one tile: the tone curve keeps the order of the values', () => {
  const p = plane(32, 32, (x, y) => (x * 7 + y * 13) % 97);
  const out = equaliseLocally(p, 1, 3);
  const pairs = Array.from(p.luma, (v, i) => [v, out.luma[i]!] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < pairs.length; i++) assert.ok(pairs[i]![1] >= pairs[i - 1]![1]);
});

test('the fast implementation gives exactly what the plain one gives', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (const [w, h, grid, clip] of [
    [64, 64, 4, 3],
    [64, 64, 2, 3],
    [100, 37, 8, 2],
    [9, 300, 8, 4],
  ] as const) {
    // Values a little outside 0–255 too: a blurred or interpolated plane can overshoot.
    const p = plane(w, h, (x, y) => (random() < 0.1 ? -3 + random() * 262 : ((x * 3 + y * 5) % 200) * 0.7 + random() * 20));
    const fast = equaliseLocally(p, grid, clip);
    const plain = referenceEqualise(p, grid, clip);
    assert.deepEqual(fast.luma, plain.luma, `${w}x${h} grid ${grid}`);
  }
});
