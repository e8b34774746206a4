import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hammingDistance } from './hamming.ts';
import { pdqHash, pdqHashDihedral } from './pdq.ts';
import { DIHEDRAL_TRANSFORMS } from './pdq-dihedral.ts';
import type { PixelImage } from './pixel-image.ts';

/** A smooth synthetic scene: a few overlapping blobs, enough structure for quality 100. */
function scene(width: number, height: number): PixelImage & { channels: 3 } {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const value =
        128 + 60 * Math.sin(9 * u + 3 * v) + 40 * Math.cos(17 * v * v - 5 * u) + 25 * Math.sin(25 * u * v);
      const p = (y * width + x) * 3;
      data[p] = value;
      data[p + 1] = 255 - value;
      data[p + 2] = (value * 0.5) & 255;
    }
  }
  return { data, width, height, channels: 3 };
}

/** Applies a pixel-coordinate mapping (destination → source) to make a transformed copy. */
function remap(
  img: PixelImage & { channels: 3 },
  transpose: boolean,
  map: (x: number, y: number) => [number, number],
) {
  const width = transpose ? img.height : img.width;
  const height = transpose ? img.width : img.height;
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = map(x, y);
      data.set(
        img.data.subarray((sy * img.width + sx) * 3, (sy * img.width + sx) * 3 + 3),
        (y * width + x) * 3,
      );
    }
  }
  return { data, width, height, channels: 3 as const };
}

test('quality is 0 for a flat image, low for gentle gradients, 100 for busy texture', () => {
  const flat = { data: new Uint8Array(100 * 80 * 3).fill(128), width: 100, height: 80, channels: 3 as const };
  assert.equal(pdqHash(flat).quality, 0);
  assert.ok(pdqHash(scene(200, 150)).quality < 50);
  const busy = new Uint8Array(200 * 150 * 3).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 255);
  assert.equal(pdqHash({ data: busy, width: 200, height: 150, channels: 3 }).quality, 100);
});

test('each dihedral hash matches the hash of the physically transformed pixels', () => {
  // At 64×64 the box window is 1 pixel and the decimation grid is every pixel, so transforming
  // the pixels transforms the downsample exactly (larger images are not mirror-symmetric: the
  // box window reaches one pixel further forward than back, and the sample grid is off-centre).
  const img = scene(64, 64);
  const n = 64;
  const physical = {
    original: remap(img, false, (x, y) => [x, y]),
    rotate90: remap(img, true, (x, y) => [n - 1 - y, x]),
    rotate180: remap(img, false, (x, y) => [n - 1 - x, n - 1 - y]),
    rotate270: remap(img, true, (x, y) => [y, n - 1 - x]),
    flipX: remap(img, false, (x, y) => [x, n - 1 - y]),
    flipY: remap(img, false, (x, y) => [n - 1 - x, y]),
    flipPlus1: remap(img, true, (x, y) => [y, x]),
    flipMinus1: remap(img, true, (x, y) => [n - 1 - y, n - 1 - x]),
  };
  const { hashes } = pdqHashDihedral(img);
  for (const t of DIHEDRAL_TRANSFORMS) {
    // Float running sums round differently when traversed backwards; allow a coefficient that
    // sits on the median to flip.
    assert.ok(hammingDistance(hashes[t], pdqHash(physical[t]).hash) <= 2, t);
  }
  assert.deepEqual(hashes.original, pdqHash(img).hash);
});

test('tiny images hash without error', () => {
  for (const [w, h] of [
    [1, 1],
    [2, 3],
    [5, 5],
    [64, 1],
  ] as const) {
    const r = pdqHash({
      data: new Uint8Array(w * h * 3).map((_, i) => i * 13),
      width: w,
      height: h,
      channels: 3,
    });
    assert.equal(r.hash.length, 32);
  }
});
