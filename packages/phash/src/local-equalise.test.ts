import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equaliseLocally } from './local-equalise.ts';
import { pdqQuality } from './pdq-quality.ts';

function plane(width: number, height: number, f: (x: number, y: number) => number) {
  const luma = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) luma[y * width + x] = f(x, y);
  return { luma, width, height };
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
