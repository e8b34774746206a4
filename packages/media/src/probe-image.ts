import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { MediaError } from './errors.ts';
import { readHeaderDimensions } from './image-header.ts';
import { type MediaInput, readHead } from './input.ts';
import { assertPixels, DEFAULT_MAX_IMAGE_PIXELS } from './limits.ts';
import { sharpError } from './sharp-errors.ts';
import { SNIFF_BYTES, sniffBytes } from './sniff.ts';

/** What the image decoder reports before decoding pixels. */
export interface ImageProbe {
  /** libvips loader name, e.g. `jpeg`, `png`, `webp`, `gif`, `heif`. */
  format: string;
  /** Width as displayed, i.e. after EXIF orientation. */
  width: number;
  /** Height as displayed, i.e. after EXIF orientation. */
  height: number;
  /** Stored width before orientation. */
  storedWidth: number;
  /** Stored height before orientation. */
  storedHeight: number;
  /** EXIF orientation tag 1..8 (1 when absent). */
  orientation: number;
  /** Number of frames (animated GIF/WebP); only the first is used for renditions. */
  pages: number;
  /** Whether an alpha channel is present. */
  hasAlpha: boolean;
}

/** Options for {@link probeImage}. */
export interface ProbeImageOptions {
  /** Refuse images with more pixels than this (default {@link DEFAULT_MAX_IMAGE_PIXELS}). */
  maxPixels?: number;
}

// libvips caches opened files by name; upload paths get reused (and bytes replaced) by callers, so a
// cached decode could hand back a previous upload's pixels. Memory/operation caching stays on.
sharp.cache({ files: 0 });

/**
 * sharp options shared by every decode: the pixel limit is enforced by libvips itself as a second
 * line of defence, and `failOn: 'warning'` turns truncated or damaged data into errors instead of
 * silently grey-filled pictures.
 * @param maxPixels pixel limit
 */
export function sharpInputOptions(maxPixels: number): SharpOptions {
  return { limitInputPixels: maxPixels, failOn: 'warning', sequentialRead: true };
}

/**
 * Reads an image's dimensions and orientation without decoding pixels, enforcing the pixel limit
 * first from our own header parse (so a 50 000 × 50 000 PNG never reaches libpng) and then from
 * libvips' header read.
 * @param input path or bytes
 * @param options limits
 */
export async function probeImage(input: MediaInput, options: ProbeImageOptions = {}): Promise<ImageProbe> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const head = await readHead(input, SNIFF_BYTES);
  const format = sniffBytes(head)?.format;
  const stated = format ? readHeaderDimensions(head, format) : undefined;
  if (stated) assertPixels(stated.width, stated.height, maxPixels);
  let metadata: Metadata;
  try {
    metadata = await sharp(input, sharpInputOptions(maxPixels)).metadata();
  } catch (error) {
    throw sharpError(error, 'reading image header');
  }
  const { width, height } = metadata;
  if (!width || !height) throw new MediaError('corrupt_file', 'image header has no dimensions');
  assertPixels(width, height, maxPixels);
  const orientation = metadata.orientation ?? 1;
  // Orientations 5-8 swap the axes (90° or 270° rotations, optionally mirrored).
  const swapped = orientation >= 5 && orientation <= 8;
  return {
    format: metadata.format ?? 'unknown',
    width: swapped ? height : width,
    height: swapped ? width : height,
    storedWidth: width,
    storedHeight: height,
    orientation,
    pages: metadata.pages ?? 1,
    hasAlpha: metadata.hasAlpha ?? false,
  };
}
