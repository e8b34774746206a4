/**
 * Profile photos through the media engine: the upload is sniffed and pixel-checked before any
 * decode, cropped to its centred square, made in each of PROFILE_PHOTO_SIZES as WebP and JPEG from
 * the decoded pixels (so no EXIF, GPS or other metadata survives) with a tiny placeholder, and
 * stored under `profile-photos/{photoId}/`. Small and made while the person waits: no job.
 */
import { PROFILE_PHOTO_SIZES, type ProfilePhotoSize } from '@mmd/contracts';
import { isMediaError, processImage } from '@mmd/media';
import { AppError } from '../errors.ts';
import type { BlobStore } from '../platform/blobs/index.ts';

/** What is kept of a processed photo: blob keys by `{size}.{ext}`, and the placeholder. */
export interface StoredProfilePhoto {
  renditions: Record<string, { key: string; mime: string; size: number }>;
  placeholder: string;
  averageColor: string;
}

const EXTENSIONS = { webp: 'webp', jpeg: 'jpg' } as const;

/** Blob prefix of one photo (all its sizes). */
export function profilePhotoPrefix(photoId: string): string {
  return `profile-photos/${photoId}/`;
}

/**
 * Processes and stores one profile photo. Refuses what is not a readable image, or has more than
 * `maxPixels`, as `invalid_image` (nothing is stored then).
 */
export async function storeProfilePhoto(options: { blobs: BlobStore; photoId: string; bytes: Buffer; maxPixels: number }): Promise<StoredProfilePhoto> {
  let processed: Awaited<ReturnType<typeof processImage>>;
  try {
    processed = await processImage({
      input: options.bytes,
      maxPixels: options.maxPixels,
      square: true,
      renditions: Object.entries(PROFILE_PHOTO_SIZES).map(([name, maxSide]) => ({ name, maxSide })),
      formats: ['webp', 'jpeg'],
    });
  } catch (err) {
    if (isMediaError(err) && err.code !== 'binary_missing' && err.code !== 'process_failed') {
      throw new AppError('invalid_image', `not a photo MMD can use: ${err.message}`);
    }
    throw err;
  }
  const prefix = profilePhotoPrefix(options.photoId);
  const renditions: StoredProfilePhoto['renditions'] = {};
  try {
    for (const r of processed.renditions) {
      const name = `${r.name}.${EXTENSIONS[r.format as keyof typeof EXTENSIONS]}`;
      const stored = await options.blobs.put(`${prefix}${name}`, r.bytes, { contentType: r.mime });
      renditions[name] = { key: `${prefix}${name}`, mime: r.mime, size: stored.size };
    }
  } catch (err) {
    await options.blobs.deletePrefix(prefix).catch(() => {});
    throw err;
  }
  return { renditions, placeholder: processed.placeholder?.dataUrl ?? '', averageColor: processed.placeholder?.averageColor ?? '#808080' };
}

/** The stored rendition of `size` the client accepts best (WebP, else JPEG), or null. */
export function pickProfileRendition(renditions: StoredProfilePhoto['renditions'], size: ProfilePhotoSize, accept: string) {
  const order = accept.includes('image/webp') ? ['webp', 'jpg'] : ['jpg', 'webp'];
  for (const ext of order) {
    const r = renditions[`${size}.${ext}`];
    if (r) return r;
  }
  return null;
}
