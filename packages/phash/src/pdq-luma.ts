import type { PixelImage } from './pixel-image.ts';
import { imageChannels } from './pixel-image.ts';

/*
 * Luma is Y = 0.299 R + 0.587 G + 0.114 B evaluated in 32-bit float, operation by operation, in
 * the same order as Meta's Java reference ((R·cR + G·cG) + B·cB). Bit-compatibility with the
 * reference depends on reproducing every float rounding, so each product and sum is rounded
 * with Math.fround (the last one by the Float32Array store). Multiplying is faster than
 * table look-ups here.
 */
const f32 = Math.fround;
const COEFF_R = f32(0.299);
const COEFF_G = f32(0.587);
const COEFF_B = f32(0.114);

/** Grey pixels are treated as R = G = B, which keeps grey and RGB-grey images on one hash. */
const LUMA_GREY = new Float32Array(256);
for (let v = 0; v < 256; v++) LUMA_GREY[v] = f32(f32(COEFF_R * v) + f32(COEFF_G * v)) + f32(COEFF_B * v);

/**
 * Converts one image row to float luma, written into `out[0..width)`.
 * Alpha is ignored, as the reference ignores it.
 */
export function lumaRow(image: PixelImage, channels: number, row: number, out: Float32Array): void {
  const { data, width } = image;
  let p = row * width * channels;
  if (channels >= 3) {
    for (let x = 0; x < width; x++, p += channels) {
      out[x] = f32(f32(COEFF_R * data[p]!) + f32(COEFF_G * data[p + 1]!)) + f32(COEFF_B * data[p + 2]!);
    }
  } else {
    for (let x = 0; x < width; x++, p += channels) out[x] = LUMA_GREY[data[p]!]!;
  }
}
/** Whether typed-array words are little-endian here (every platform Node and browsers run on, in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A 32-bit word view of RGB pixels for {@link lumaRowRgbWords}, or `undefined` when the bytes do
 * not start on a word boundary (or the platform is big-endian): then use {@link lumaRow}.
 */
export function rgbWords(data: PixelImage['data']): Uint32Array | undefined {
  if (!LITTLE_ENDIAN || data.byteOffset % 4 !== 0) return undefined;
  return new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
}

/**
 * {@link lumaRow} for RGB pixels, reading 4 pixels as 3 words (one load per 4 bytes instead of
 * one per byte). The same float operations on the same values, so the same luma.
 */
export function lumaRowRgbWords(words: Uint32Array, data: PixelImage['data'], width: number, row: number, out: Float32Array): void {
  let p = row * width * 3;
  let x = 0;
  // Pixel by pixel up to a word boundary (at most 3), then 4 pixels per 3 words, then the rest.
  for (; x < width && (p & 3) !== 0; x++, p += 3) {
    out[x] = f32(f32(COEFF_R * data[p]!) + f32(COEFF_G * data[p + 1]!)) + f32(COEFF_B * data[p + 2]!);
  }
  let q = p >> 2;
  for (; x + 4 <= width; x += 4, q += 3) {
    // Little-endian bytes: r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3.
    const w0 = words[q]!;
    const w1 = words[q + 1]!;
    const w2 = words[q + 2]!;
    out[x] = f32(f32(COEFF_R * (w0 & 255)) + f32(COEFF_G * ((w0 >>> 8) & 255))) + f32(COEFF_B * ((w0 >>> 16) & 255));
    out[x + 1] = f32(f32(COEFF_R * (w0 >>> 24)) + f32(COEFF_G * (w1 & 255))) + f32(COEFF_B * ((w1 >>> 8) & 255));
    out[x + 2] = f32(f32(COEFF_R * ((w1 >>> 16) & 255)) + f32(COEFF_G * (w1 >>> 24))) + f32(COEFF_B * (w2 & 255));
    out[x + 3] = f32(f32(COEFF_R * ((w2 >>> 8) & 255)) + f32(COEFF_G * ((w2 >>> 16) & 255))) + f32(COEFF_B * (w2 >>> 24));
  }
  for (p = q << 2; x < width; x++, p += 3) {
    out[x] = f32(f32(COEFF_R * data[p]!) + f32(COEFF_G * data[p + 1]!)) + f32(COEFF_B * data[p + 2]!);
  }
}

/** Whole-image float luma (row-major), for callers that want the intermediate. */
export function imageToLuma(image: PixelImage): Float32Array {
  const channels = imageChannels(image);
  const out = new Float32Array(image.width * image.height);
  for (let y = 0; y < image.height; y++) {
    lumaRow(image, channels, y, out.subarray(y * image.width, (y + 1) * image.width));
  }
  return out;
}
