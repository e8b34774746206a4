import { MediaError } from './errors.ts';
import { inspectMedia, type MediaInfo } from './inspect.ts';
import type { AvProbe, VideoStreamInfo } from './probe-av.ts';

/** Limits shared by every video operation. */
export interface VideoLimits {
  /** Longest accepted side in pixels (default 8192). */
  maxVideoSide?: number;
  /** Longest accepted duration in seconds (default 15 min). */
  maxVideoSeconds?: number;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** A verified video: inspection result with the video stream guaranteed present. */
export interface VideoSource {
  /** Full inspection. */
  info: MediaInfo;
  /** ffprobe summary. */
  av: AvProbe;
  /** The video stream. */
  video: VideoStreamInfo;
  /** Duration in seconds (limits already enforced). */
  durationSeconds: number;
}

/**
 * Inspects a local file and insists it is a video within limits. Throws `unsupported_type` for other
 * kinds (including images and documents renamed to .mp4), plus the inspection errors.
 * @param path local file
 * @param limits size and duration limits
 */
export async function openVideo(path: string, limits: VideoLimits = {}): Promise<VideoSource> {
  const info = await inspectMedia(path, limits);
  if (info.kind !== 'video' || !info.av?.video || info.durationSeconds === undefined) {
    throw new MediaError('unsupported_type', `expected a video, got ${info.mime}`, {
      details: { mime: info.mime },
    });
  }
  return { info, av: info.av, video: info.av.video, durationSeconds: info.durationSeconds };
}

/**
 * Default wall-clock limit for a transcode: generous (20× real time plus a minute) because CI
 * machines are slow, but finite, so a decoder stuck on a hostile file is eventually killed.
 * @param durationSeconds media duration
 */
export function transcodeTimeoutMs(durationSeconds: number): number {
  return 60_000 + Math.ceil(durationSeconds * 20_000);
}
