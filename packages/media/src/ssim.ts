import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { isMediaError, MediaError } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import { fromRaw, type RawImage } from './raw-image.ts';
import { runFfmpeg } from './run-ffmpeg.ts';
import { withTempDir } from './temp-dir.ts';

/** Options for {@link imageSsim}. */
export interface SsimOptions {
  /** Compare at most at this long side (default 2048) to bound cost on big photos. */
  maxSide?: number;
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/**
 * Luma SSIM (0..1, 1 = identical) of an encoded image against the reference pixels, computed by
 * ffmpeg's `ssim` filter. Both are brought to the reference's size (bounded by `maxSide`), so a
 * candidate that was scaled down is judged as it looks when shown at the original size: the score
 * covers resolution loss as well as compression artefacts.
 * @param reference decoded source pixels (already oriented, sRGB)
 * @param candidate encoded output (JPEG/WebP/AVIF)
 * @param options comparison size and scratch location
 */
export async function imageSsim(
  reference: RawImage,
  candidate: Uint8Array,
  options: SsimOptions = {},
): Promise<number> {
  const maxSide = options.maxSide ?? 2048;
  const scale = Math.min(1, maxSide / Math.max(reference.width, reference.height));
  const width = Math.max(8, Math.round(reference.width * scale));
  const height = Math.max(8, Math.round(reference.height * scale));
  // Both sides go through the same resampler to the same size and are flattened the same way.
  const toRgb = (pipeline: Sharp) =>
    pipeline
      .resize(width, height, { fit: 'fill' })
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .raw()
      .toBuffer();
  const [a, b] = await Promise.all([toRgb(fromRaw(reference)), toRgb(sharp(candidate))]);
  return withTempDir(options.tmpRoot, async (dir) => {
    const refPath = join(dir, 'reference.rgb');
    const candPath = join(dir, 'candidate.rgb');
    await Promise.all([writeFile(refPath, a), writeFile(candPath, b)]);
    const raw = ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`];
    try {
      const { stdout } = await runFfmpeg({
        args: [
          ...raw,
          '-i',
          fileUrl(refPath),
          ...raw,
          '-i',
          fileUrl(candPath),
          '-lavfi',
          '[0:v]format=gray[a];[1:v]format=gray[b];[a][b]ssim=stats_file=-',
          '-f',
          'null',
          '-',
        ],
        timeoutMs: 60_000,
      });
      const match = /All:([\d.]+)/.exec(stdout.toString('utf8'));
      if (!match?.[1]) throw new MediaError('process_failed', 'ssim filter printed no score');
      return Number(match[1]);
    } catch (error) {
      if (isMediaError(error)) throw error;
      throw new MediaError('process_failed', 'ssim failed', { cause: error });
    }
  });
}
