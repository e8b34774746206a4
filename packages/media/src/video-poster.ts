import sharp from 'sharp';
import { isMediaError, MediaError } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import { inputPath, type MediaInput } from './input.ts';
import { runFfmpeg } from './run-ffmpeg.ts';
import { withTempDir } from './temp-dir.ts';
import { fitInside, scaleFilter } from './video-geometry.ts';
import { openVideo, type VideoLimits } from './video-source.ts';

/** Options for {@link extractPoster}. */
export interface ExtractPosterOptions extends VideoLimits {
  /** Path or bytes of the video. */
  input: MediaInput;
  /** Output format (default `jpeg`). */
  format?: 'jpeg' | 'webp';
  /** Quality 1..100 (default 80). */
  quality?: number;
  /** Longest side of the poster (default 1280; never upscaled). */
  maxSide?: number;
  /** Time to grab in seconds (default: 1 s, or a third of the clip if shorter, avoiding black fade-ins). */
  atSeconds?: number;
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/** A still frame for the message bubble before playback. */
export interface VideoPoster {
  /** Encoded image. */
  bytes: Buffer;
  /** `image/jpeg` or `image/webp`. */
  mime: string;
  /** Pixel width (display orientation). */
  width: number;
  /** Pixel height (display orientation). */
  height: number;
  /** Timestamp the frame was taken from. */
  atSeconds: number;
}

/**
 * Grabs one frame (display orientation, square pixels) and encodes it with sharp, so the poster carries
 * no metadata. ffmpeg emits lossless PNG on stdout; nothing is written to disk except a buffer input.
 * @param options input, format and size
 */
export async function extractPoster(options: ExtractPosterOptions): Promise<VideoPoster> {
  return withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(options.input, dir);
    const source = await openVideo(path, options);
    const size = fitInside(
      { width: source.video.displayWidth, height: source.video.displayHeight },
      options.maxSide ?? 1280,
      options.maxSide ?? 1280,
    );
    const at = Math.max(
      0,
      Math.min(options.atSeconds ?? Math.min(1, source.durationSeconds / 3), source.durationSeconds),
    );
    let png = await grabFrame(path, at, scaleFilter(size), options.signal);
    // Some files cannot seek (or the stated duration is longer than the stream): fall back to frame one.
    if (png.length === 0 && at > 0) png = await grabFrame(path, 0, scaleFilter(size), options.signal);
    if (png.length === 0) throw new MediaError('corrupt_file', 'no video frame could be decoded');
    const format = options.format ?? 'jpeg';
    const pipeline = sharp(png);
    const bytes = await (format === 'webp'
      ? pipeline.webp({ quality: options.quality ?? 80 })
      : pipeline.jpeg({ quality: options.quality ?? 80, mozjpeg: true })
    ).toBuffer();
    return { bytes, mime: `image/${format}`, width: size.width, height: size.height, atSeconds: at };
  });
}

async function grabFrame(path: string, at: number, filter: string, signal?: AbortSignal): Promise<Buffer> {
  try {
    const { stdout } = await runFfmpeg({
      // -ss before -i: fast keyframe seek, then exact decode to the timestamp.
      args: [
        '-ss',
        at.toFixed(3),
        '-i',
        fileUrl(path),
        '-map',
        '0:v:0',
        '-frames:v',
        '1',
        '-an',
        '-sn',
        '-dn',
        '-vf',
        filter.replace(',format=yuv420p', ''),
        '-c:v',
        'png',
        '-f',
        'image2pipe',
        'pipe:1',
      ],
      signal,
      timeoutMs: 60_000,
      maxStdoutBytes: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    if (isMediaError(error, 'process_failed')) {
      throw new MediaError('corrupt_file', 'the video frame could not be decoded', {
        details: error.details,
        cause: error,
      });
    }
    throw error;
  }
}
