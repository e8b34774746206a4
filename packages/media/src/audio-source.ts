import { MediaError } from './errors.ts';
import { inspectMedia } from './inspect.ts';
import { DEFAULT_MAX_AUDIO_SECONDS, DEFAULT_MAX_VIDEO_SECONDS } from './limits.ts';
import type { AudioStreamInfo } from './probe-av.ts';

/** Limits shared by audio operations. */
export interface AudioLimits {
  /** Longest accepted duration in seconds (default 1 h for audio, 15 min when the input is a video). */
  maxAudioSeconds?: number;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** A verified input with an audio stream. */
export interface AudioSource {
  /** The audio stream. */
  audio: AudioStreamInfo;
  /** Duration in seconds. */
  durationSeconds: number;
  /** Whether the file also has video (its audio track is what we use). */
  isVideo: boolean;
}

/**
 * Inspects a local file and insists it has an audio stream (an audio file, or a video with sound).
 * @param path local file
 * @param limits duration limit and abort signal
 */
export async function openAudio(path: string, limits: AudioLimits = {}): Promise<AudioSource> {
  const info = await inspectMedia(path, {
    signal: limits.signal,
    maxAudioSeconds: limits.maxAudioSeconds ?? DEFAULT_MAX_AUDIO_SECONDS,
    maxVideoSeconds: limits.maxAudioSeconds ?? DEFAULT_MAX_VIDEO_SECONDS,
  });
  if (
    (info.kind !== 'audio' && info.kind !== 'video') ||
    !info.av?.audio ||
    info.durationSeconds === undefined
  ) {
    throw new MediaError('unsupported_type', `expected audio, got ${info.mime}`, {
      details: { mime: info.mime },
    });
  }
  return { audio: info.av.audio, durationSeconds: info.durationSeconds, isVideo: info.kind === 'video' };
}
