import { MediaError, throwIfAborted } from './errors.ts';
import { DEFAULT_QUALITY, encodeRaw, IMAGE_FORMAT_MIME, type ImageFormat } from './image-encode.ts';
import { type ImagePlaceholder, makePlaceholder } from './image-placeholder.ts';
import type { MediaInput } from './input.ts';
import { inspectMedia } from './inspect.ts';
import { DEFAULT_MAX_IMAGE_PIXELS } from './limits.ts';
import { cropSquareRaw, decodeImage, resizeRaw } from './raw-image.ts';

/** One rendition size: the output fits a `maxSide` × `maxSide` square. */
export interface ImageRenditionSpec {
  /** Name used by storage and clients, e.g. `thumbnail`. */
  name: string;
  /** Longest side in pixels; smaller sources are never upscaled. */
  maxSide: number;
}

/** Default sizes: a chat-bubble thumbnail and a full-screen preview. */
export const DEFAULT_IMAGE_RENDITIONS: readonly ImageRenditionSpec[] = [
  { name: 'thumbnail', maxSide: 320 },
  { name: 'preview', maxSide: 1280 },
];

/** Options for {@link processImage}. */
export interface ProcessImageOptions {
  /** Path or bytes of the uploaded image. */
  input: MediaInput;
  /** Pixel limit, checked before decoding (default 100 MP). */
  maxPixels?: number;
  /** Sizes to produce (default {@link DEFAULT_IMAGE_RENDITIONS}). */
  renditions?: readonly ImageRenditionSpec[];
  /** Formats per size (default AVIF, WebP and JPEG). */
  formats?: readonly ImageFormat[];
  /** Quality per format (defaults in {@link DEFAULT_QUALITY}). */
  quality?: Partial<Record<ImageFormat, number>>;
  /** AVIF encoder effort 0..9 (default 2). */
  avifEffort?: number;
  /**
   * Crop to the centred square first (profile photos), so every rendition is `maxSide` × `maxSide`
   * when the source is large enough (default false).
   */
  square?: boolean;
  /** Also build a tiny placeholder (default true). */
  placeholder?: boolean;
  /** Abort signal, checked between encodes. */
  signal?: AbortSignal;
  /** Called after each step with a 0..1 fraction. */
  onProgress?: (fraction: number) => void;
}

/** One encoded output. */
export interface ImageRendition {
  /** Rendition name from the spec. */
  name: string;
  /** Output format. */
  format: ImageFormat;
  /** MIME type. */
  mime: string;
  /** Pixel width. */
  width: number;
  /** Pixel height. */
  height: number;
  /** Encoded file. */
  bytes: Buffer;
}

/** Result of {@link processImage}. */
export interface ProcessedImage {
  /** MIME type of the source, from content sniffing. */
  sourceMime: string;
  /** Display width of the source after EXIF orientation. */
  width: number;
  /** Display height of the source after EXIF orientation. */
  height: number;
  /** Every size × format, largest size first. */
  renditions: ImageRendition[];
  /** Tiny blurred stand-in, unless disabled. */
  placeholder?: ImagePlaceholder;
}

/**
 * Ingests a still image: verifies type and pixel limit before decoding, decodes once (oriented, sRGB),
 * and encodes every rendition from those pixels so no metadata (EXIF/GPS, XMP, IPTC, ICC) survives.
 * Animated GIF/WebP contribute their first frame.
 * @param options input, limits, sizes and formats
 */
export async function processImage(options: ProcessImageOptions): Promise<ProcessedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const info = await inspectMedia(options.input, { maxPixels, signal: options.signal });
  if (info.kind !== 'image' || !info.image || info.width === undefined || info.height === undefined) {
    throw new MediaError('unsupported_type', `expected an image, got ${info.mime}`, {
      details: { mime: info.mime },
    });
  }
  const specs = [...(options.renditions ?? DEFAULT_IMAGE_RENDITIONS)].sort((a, b) => b.maxSide - a.maxSide);
  const formats = options.formats ?? (['avif', 'webp', 'jpeg'] as const);
  if (specs.some((spec) => !(spec.maxSide >= 1)))
    throw new MediaError('invalid_options', 'maxSide must be >= 1');
  const totalSteps = 1 + specs.length * formats.length + (options.placeholder === false ? 0 : 1);
  let done = 0;
  const step = (): void => {
    done++;
    options.onProgress?.(done / totalSteps);
    throwIfAborted(options.signal);
  };

  throwIfAborted(options.signal);
  // A square crop keeps the short side: decode so that side still reaches the largest size.
  const aspect = options.square ? Math.max(info.width, info.height) / Math.max(1, Math.min(info.width, info.height)) : 1;
  const largest = specs[0] === undefined ? undefined : Math.ceil(specs[0].maxSide * aspect);
  let raw = await decodeImage(
    options.input,
    largest === undefined ? { maxPixels } : { maxPixels, maxSide: largest },
  );
  if (options.square) raw = await cropSquareRaw(raw);
  step();
  const renditions: ImageRendition[] = [];
  for (const spec of specs) {
    // Sizes are processed largest first, so each resize starts from the smallest adequate pixels.
    raw = await resizeRaw(raw, spec.maxSide);
    for (const format of formats) {
      const bytes = await encodeRaw(raw, format, {
        quality: options.quality?.[format] ?? DEFAULT_QUALITY[format],
        avifEffort: options.avifEffort,
      });
      renditions.push({
        name: spec.name,
        format,
        mime: IMAGE_FORMAT_MIME[format],
        width: raw.width,
        height: raw.height,
        bytes,
      });
      step();
    }
  }
  const result: ProcessedImage = {
    sourceMime: info.mime,
    width: info.width,
    height: info.height,
    renditions,
  };
  if (options.placeholder !== false) {
    result.placeholder = await makePlaceholder(raw); // raw is now the smallest rendition's pixels
    step();
  }
  return result;
}
