import { MediaError } from './errors.ts';

/** Default pixel budget for still images (width × height after decoding): 100 megapixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000;

/** Default longest side accepted for video frames; 8192 covers 8K phones and rejects absurd headers. */
export const DEFAULT_MAX_VIDEO_SIDE = 8192;

/** Default longest video accepted, in seconds (15 minutes). */
export const DEFAULT_MAX_VIDEO_SECONDS = 15 * 60;

/** Default longest audio accepted, in seconds (1 hour of voice notes/podcast clips). */
export const DEFAULT_MAX_AUDIO_SECONDS = 60 * 60;

/**
 * Throws `too_many_pixels` when a stated size exceeds the budget. Zero or negative sizes are
 * `corrupt_file`: no valid header states them.
 * @param width stated width
 * @param height stated height
 * @param maxPixels budget for width × height
 * @param maxSide optional cap on either side
 */
export function assertPixels(width: number, height: number, maxPixels: number, maxSide?: number): void {
  if (!(width > 0 && height > 0)) {
    throw new MediaError('corrupt_file', `invalid dimensions ${width}×${height}`, {
      details: { width, height },
    });
  }
  if (width * height > maxPixels || (maxSide !== undefined && Math.max(width, height) > maxSide)) {
    throw new MediaError('too_many_pixels', `${width}×${height} exceeds the limit`, {
      details: { width, height, maxPixels, ...(maxSide === undefined ? {} : { maxSide }) },
    });
  }
}

/**
 * Throws `too_long` when a duration exceeds the limit, and `corrupt_file` when it is missing or
 * not finite (we refuse to start an unbounded transcode).
 * @param seconds stated duration
 * @param maxSeconds limit
 */
export function assertDuration(seconds: number | undefined, maxSeconds: number): asserts seconds is number {
  if (seconds === undefined || !Number.isFinite(seconds)) {
    throw new MediaError('corrupt_file', 'duration is missing or invalid');
  }
  if (seconds > maxSeconds) {
    throw new MediaError('too_long', `duration ${seconds.toFixed(1)} s exceeds ${maxSeconds} s`, {
      details: { durationSeconds: seconds, maxSeconds },
    });
  }
}
