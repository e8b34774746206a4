import { fromRaw, type RawImage, resizeRaw } from './raw-image.ts';

/** A tiny stand-in shown while the real rendition loads. */
export interface ImagePlaceholder {
  /** `data:image/webp;base64,…` of at most {@link PLACEHOLDER_SIDE} px on the long side (~100-300 bytes). */
  dataUrl: string;
  /** Placeholder width in pixels. */
  width: number;
  /** Placeholder height in pixels. */
  height: number;
  /** Average colour as `#rrggbb`, for clients that cannot render data URLs (or a background). */
  averageColor: string;
}

/** Long side of the placeholder; clients upscale it with blur, so more pixels only cost bytes. */
export const PLACEHOLDER_SIDE = 16;

/**
 * Builds the placeholder from already-decoded pixels (no second decode). WebP because every client
 * that can show the AVIF/WebP renditions can decode it, and it is half the size of a tiny JPEG.
 * @param raw decoded pixels (any size)
 */
export async function makePlaceholder(raw: RawImage): Promise<ImagePlaceholder> {
  const tiny = await resizeRaw(raw, PLACEHOLDER_SIDE);
  const webp = await fromRaw(tiny).webp({ quality: 40, effort: 6 }).toBuffer();
  return {
    dataUrl: `data:image/webp;base64,${webp.toString('base64')}`,
    width: tiny.width,
    height: tiny.height,
    averageColor: averageColor(tiny),
  };
}

function averageColor(raw: RawImage): string {
  const sums = [0, 0, 0];
  const pixels = raw.width * raw.height;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) sums[c] = (sums[c] ?? 0) + (raw.data[i * raw.channels + c] ?? 0);
  }
  return `#${sums
    .map((sum) =>
      Math.round(sum / Math.max(1, pixels))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}
