import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxFilterLine, boxFilterRows4, jaroszWindowSize } from './pdq-box-filter.ts';
import { pdqDownsample, pdqDownsampleLuma } from './pdq-downsample.ts';
import { imageToLuma } from './pdq-luma.ts';
import type { PixelImage } from './pixel-image.ts';

/*
 * The streamed, batched downsampler must equal the reference's straightforward structure
 * bit for bit: full-image luma, then [rows → columns] × 2 with a strided column pass, then
 * decimation. That structure is re-implemented here independently (plain division, one column
 * at a time) and compared on awkward sizes: windows of 1, images narrower or shorter than 64
 * or than 4 rows, and sizes that are not multiples of the 4-row batch.
 */
const f32 = Math.fround;

function referenceBox(
  input: Float32Array,
  output: Float32Array,
  opts: { start: number; n: number; stride: number; w: number },
): void {
  const { start, n, stride, w } = opts;
  const half = Math.floor((w + 2) / 2);
  let sum = 0;
  let count = 0;
  let ri = 0;
  let li = 0;
  let oi = 0;
  const at = (i: number) => start + i * stride;
  for (let i = 0; i < half - 1; i++, count++) sum = f32(sum + input[at(ri++)]!);
  for (let i = 0; i < w - half + 1; i++) {
    sum = f32(sum + input[at(ri++)]!);
    output[at(oi++)] = sum / ++count;
  }
  for (let i = 0; i < n - w; i++) {
    sum = f32(sum + input[at(ri++)]!);
    sum = f32(sum - input[at(li++)]!);
    output[at(oi++)] = sum / count;
  }
  for (let i = 0; i < half - 1; i++) {
    sum = f32(sum - input[at(li++)]!);
    output[at(oi++)] = sum / --count;
  }
}

function referenceDownsample(image: PixelImage): Float32Array {
  const { width, height } = image;
  const a = imageToLuma(image);
  const b = new Float32Array(a.length);
  const wr = jaroszWindowSize(width);
  const wc = jaroszWindowSize(height);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < height; y++) referenceBox(a, b, { start: y * width, n: width, stride: 1, w: wr });
    for (let x = 0; x < width; x++) referenceBox(b, a, { start: x, n: height, stride: width, w: wc });
  }
  const out = new Float32Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    const y = Math.floor(((i + 0.5) * height) / 64);
    for (let j = 0; j < 64; j++) out[i * 64 + j] = a[y * width + Math.floor(((j + 0.5) * width) / 64)]!;
  }
  return out;
}

/** Deterministic pseudo-random pixels with some smooth structure, so sums are not trivial. */
function noiseImage(width: number, height: number, seed: number): PixelImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = Math.floor(i / 3) % width;
    data[i] = ((s >>> 24) * 0.5 + ((x * 7) % 128)) & 255;
  }
  return { data, width, height, channels: 3 };
}

test('streamed downsample equals the reference structure on awkward sizes', () => {
  const sizes: Array<[number, number]> = [
    [1, 1],
    [3, 2],
    [5, 7],
    [63, 65],
    [64, 64],
    [129, 130],
    [300, 37],
    [37, 300],
    [257, 258],
    [1001, 203],
  ];
  for (const [w, h] of sizes) {
    const image = noiseImage(w, h, w * 31 + h);
    assert.deepEqual(pdqDownsample(image), referenceDownsample(image), `${w}x${h}`);
  }
});

test('RGB read a word at a time (aligned bytes) or byte by byte (unaligned) gives the same downsample', () => {
  for (const [w, h] of [
    [5, 7],
    [63, 65],
    [301, 37],
  ] as Array<[number, number]>) {
    const image = noiseImage(w, h, w + h);
    const expected = referenceDownsample(image);
    for (const offset of [1, 2, 3, 4]) {
      const data = new Uint8Array(new ArrayBuffer(image.data.length + offset), offset);
      data.set(image.data);
      assert.deepEqual(pdqDownsample({ ...image, data }), expected, `${w}x${h} at byte offset ${offset}`);
    }
  }
});

test('a 64×64 region of a luma plane (the anchored regions) downsamples like the reference', () => {
  // The 64×64 fast path, at an offset inside a larger plane (stride ≠ 64).
  const image = noiseImage(100, 90, 7);
  const luma = imageToLuma(image);
  for (const [x, y] of [
    [0, 0],
    [36, 26],
    [13, 5],
  ] as const) {
    const region = new Float32Array(64 * 64);
    for (let r = 0; r < 64; r++) region.set(luma.subarray((y + r) * 100 + x, (y + r) * 100 + x + 64), r * 64);
    const grey = new Uint8Array(64 * 64 * 3);
    // The reference from pixels: crop the RGB image to the region.
    for (let r = 0; r < 64; r++)
      grey.set(image.data.subarray(((y + r) * 100 + x) * 3, ((y + r) * 100 + x + 64) * 3), r * 64 * 3);
    const expected = referenceDownsample({ data: grey, width: 64, height: 64, channels: 3 });
    assert.deepEqual(pdqDownsampleLuma(luma, 100, { x, y, width: 64, height: 64 }), expected, `at ${x},${y}`);
  }
});

test('4-row batched box filter equals the single-row filter', () => {
  for (const [n, w] of [
    [1, 1],
    [10, 1],
    [130, 2],
    [999, 8],
    [2000, 16],
  ] as const) {
    const input = Float32Array.from({ length: 4 * n }, (_, i) => f32(((i * 7919) % 256) * 0.999));
    const batched = new Float32Array(4 * n);
    boxFilterRows4(input, batched, n, w);
    for (let r = 0; r < 4; r++) {
      const single = new Float32Array(n);
      boxFilterLine(input.subarray(r * n, (r + 1) * n), single, n, w);
      assert.deepEqual(batched.subarray(r * n, (r + 1) * n), single, `n=${n} w=${w} row ${r}`);
    }
  }
});

test('grey, grey+alpha, RGB and RGBA give the same downsample for grey content', () => {
  const width = 50;
  const height = 40;
  const grey = new Uint8Array(width * height).map((_, i) => (i * 37) & 255);
  const expand = (channels: 2 | 3 | 4) =>
    Uint8Array.from({ length: grey.length * channels }, (_, i) => {
      const c = i % channels;
      const isAlpha = (channels === 2 && c === 1) || (channels === 4 && c === 3);
      return isAlpha ? 255 : grey[Math.floor(i / channels)]!;
    });
  const g = pdqDownsample({ data: grey, width, height, channels: 1 });
  for (const channels of [2, 3, 4] as const) {
    assert.deepEqual(pdqDownsample({ data: expand(channels), width, height, channels }), g, `${channels}`);
  }
  // Channels are inferred from the buffer length when omitted (canvas ImageData is RGBA).
  assert.deepEqual(pdqDownsample({ data: new Uint8ClampedArray(expand(4)), width, height }), g);
});

test('rejects impossible image shapes', () => {
  assert.throws(() => pdqDownsample({ data: new Uint8Array(10), width: 0, height: 5 }), RangeError);
  assert.throws(() => pdqDownsample({ data: new Uint8Array(10), width: 3, height: 3 }), RangeError);
  assert.throws(
    () => pdqDownsample({ data: new Uint8Array(10), width: 3, height: 3, channels: 3 }),
    RangeError,
  );
});
