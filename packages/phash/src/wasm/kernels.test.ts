import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { DATA_DIR } from '../../test/data.ts';
import { pdqHash } from '../pdq.ts';
import { dct64To16, dct64To16Js } from '../pdq-dct.ts';
import { pdqDownsample, pdqDownsampleLuma } from '../pdq-downsample.ts';
import type { PixelImage } from '../pixel-image.ts';
import { robustQueryHashes } from '../robust-hashes.ts';
import { pdqKernels, usePdqKernels } from './kernels.ts';

/*
 * The WebAssembly kernels must give exactly what the JavaScript gives — every float, bit for bit
 * (hashes stored before stay comparable, and vPDQ stays the reference's) — and must really run
 * here: a module that failed to load would fall back silently and cost the speed it was made for.
 */

/** A deterministic pseudo-random generator (xorshift32), so a failure can be replayed. */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function noiseImage(width: number, height: number, channels: 1 | 3, seed: number): PixelImage {
  const next = random(seed);
  const data = new Uint8Array(width * height * channels);
  // Smooth gradients plus noise: long runs of near-equal values are where float rounding drifts.
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = Math.min(255, Math.floor(((x + y) * 97) / (width + height) + next() * 160));
  return { data, width, height, channels };
}

/** Both results as raw bits, so -0, NaN and every rounding difference count. */
function sameBits(a: Float32Array, b: Float32Array, what: string) {
  assert.equal(a.length, b.length, `${what}: lengths`);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
}

function both<T>(fn: () => T): { js: T; wasm: T } {
  usePdqKernels(false);
  try {
    const js = fn();
    usePdqKernels(true);
    return { js, wasm: fn() };
  } finally {
    usePdqKernels(true);
  }
}

describe('PDQ WebAssembly kernels', () => {
  after(() => usePdqKernels(true));

  it('load on this Node.js (WebAssembly SIMD), so hashing takes the fast path', () => {
    assert.ok(pdqKernels(), 'the kernels loaded');
  });

  it('the committed module is what pdq-kernels.wat assembles to', async () => {
    const { assemble, moduleText } = await import('../../scripts/build-wasm.ts');
    const committed = readFileSync(new URL('./pdq-kernels.wasm.ts', import.meta.url), 'utf8');
    assert.equal(committed, moduleText(await assemble()), 'run node --import tsx packages/phash/scripts/build-wasm.ts');
  });

  it('downsample exactly as the JavaScript on awkward sizes, grey and colour, windows 1 to 32', () => {
    // Widths not a multiple of 4 (the column kernel's scalar tail), heights not a multiple of the
    // 4-row batch, sides under 64, a 1-pixel side, and sides wide enough for windows over 8.
    const sizes: Array<[number, number]> = [
      [1, 1],
      [3, 70],
      [67, 53],
      [64, 64],
      [129, 257],
      [426, 240],
      [1280, 720],
      [4001, 17],
      [13, 4099],
    ];
    let seed = 1;
    for (const [w, h] of sizes) {
      for (const channels of [1, 3] as const) {
        const image = noiseImage(w, h, channels, seed++);
        const { js, wasm } = both(() => pdqDownsample(image));
        sameBits(wasm, js, `${w}×${h}×${channels}`);
      }
    }
  });

  it('downsample regions of a luma plane exactly as the JavaScript, a big one after small ones', () => {
    const next = random(7);
    const stride = 3000;
    const luma = new Float32Array(stride * 2000);
    for (let i = 0; i < luma.length; i++) luma[i] = next() * 255;
    for (const region of [
      { x: 5, y: 9, width: 97, height: 61 },
      { x: 0, y: 0, width: 64, height: 64 },
      { x: 100, y: 3, width: 2900, height: 1997 },
      { x: 1, y: 1, width: 7, height: 5 },
    ]) {
      const { js, wasm } = both(() => pdqDownsampleLuma(luma, stride, region));
      sameBits(wasm, js, JSON.stringify(region));
    }
  });

  it('compute the DCT exactly as the JavaScript', () => {
    const next = random(11);
    for (let round = 0; round < 50; round++) {
      const a = new Float32Array(64 * 64);
      const scale = [1, 255, 1e-3, 1e6][round % 4]!;
      for (let i = 0; i < a.length; i++) a[i] = (next() - 0.5) * scale;
      sameBits(dct64To16(a), dct64To16Js(a), `round ${round}`);
    }
  });

  it('give the same PDQ and robust hashes of real photos as the JavaScript', async () => {
    for (const name of ['photos/Dune.jpg', 'photos/Storm.jpg', 'photos-more/retina.jpg', 'photos-more/page.png']) {
      const { data, info } = await sharp(join(DATA_DIR, name)).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const image: PixelImage = { data, width: info.width, height: info.height, channels: 3 };
      const { js, wasm } = both(() => ({ pdq: pdqHash(image), robust: robustQueryHashes(image) }));
      assert.deepEqual(wasm.pdq, js.pdq, `${name}: PDQ`);
      assert.deepEqual(wasm.robust, js.robust, `${name}: robust hashes`);
    }
  });
});
