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
/** Whole-image float luma (row-major), for callers that want the intermediate. */
export function imageToLuma(image: PixelImage): Float32Array {
  const channels = imageChannels(image);
  const out = new Float32Array(image.width * image.height);
  for (let y = 0; y < image.height; y++) {
    lumaRow(image, channels, y, out.subarray(y * image.width, (y + 1) * image.width));
  }
  return out;
}
