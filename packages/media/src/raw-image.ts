import sharp, { type Sharp } from 'sharp';
import type { MediaInput } from './input.ts';
import { sharpInputOptions } from './probe-image.ts';
import { sharpError } from './sharp-errors.ts';

/** Decoded 8-bit sRGB pixels, the shared starting point for every encode of one upload. */
export interface RawImage {
  /** Interleaved pixel bytes. */
  data: Buffer;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: 3 | 4;
}

/** Options for {@link decodeImage}. */
export interface DecodeImageOptions {
  /** Pixel limit passed to libvips. */
  maxPixels: number;
  /** Shrink to fit a square of this side (never enlarging); omit for full size. */
  maxSide?: number;
  /** sharp's per-pipeline timeout in seconds (default 60). */
  timeoutSeconds?: number;
}

/**
 * Decodes once, applying EXIF orientation, converting any ICC profile / CMYK / 16-bit data to 8-bit
 * sRGB, and shrinking to the largest size we will need (JPEG shrink-on-load makes this much faster
 * than a full decode). Metadata does not survive raw pixels, so every encode from here is clean.
 * @param input path or bytes
 * @param options limits and target size
 */
export async function decodeImage(input: MediaInput, options: DecodeImageOptions): Promise<RawImage> {
  let pipeline = sharp(input, { ...sharpInputOptions(options.maxPixels), autoOrient: true });
  if (options.maxSide !== undefined) {
    pipeline = pipeline.resize({
      width: options.maxSide,
      height: options.maxSide,
      fit: 'inside',
      withoutEnlargement: true,
    });
  }
  try {
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .timeout({ seconds: options.timeoutSeconds ?? 60 })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels === 4 ? 4 : 3 };
  } catch (error) {
    throw sharpError(error, 'decoding image');
  }
}

/**
 * Starts a sharp pipeline from raw pixels.
 * @param raw decoded pixels
 */
export function fromRaw(raw: RawImage): Sharp {
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
}

/**
 * Resizes raw pixels to fit a square of `maxSide` (never enlarging) and returns new raw pixels.
 * @param raw decoded pixels
 * @param maxSide longest side of the result
 */
export async function resizeRaw(raw: RawImage, maxSide: number): Promise<RawImage> {
  if (Math.max(raw.width, raw.height) <= maxSide) return raw;
  const { data, info } = await fromRaw(raw)
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: raw.channels };
}

/**
 * The centred square of raw pixels (side = the shorter side), as new raw pixels.
 * @param raw decoded pixels
 */
export async function cropSquareRaw(raw: RawImage): Promise<RawImage> {
  const side = Math.min(raw.width, raw.height);
  if (raw.width === raw.height) return raw;
  const { data, info } = await fromRaw(raw)
    .extract({ left: Math.floor((raw.width - side) / 2), top: Math.floor((raw.height - side) / 2), width: side, height: side })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: raw.channels };
}
