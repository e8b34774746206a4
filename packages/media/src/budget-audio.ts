import type { AudioTarget } from './accept.ts';
import { AUDIO_FORMATS } from './audio-formats.ts';
import { type TranscodedAudio, transcodeAudio } from './audio-transcode.ts';
import { throwIfAborted } from './errors.ts';

/** Options for {@link fitAudioToBudget}. */
export interface AudioBudgetSearchOptions {
  /** Byte budget. */
  maxBytes: number;
  /** Source duration in seconds. */
  durationSeconds: number;
  /** Parent of scratch directories. */
  tmpRoot?: string;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** Outcome of a successful search. */
export interface AudioBudgetFit extends TranscodedAudio {
  /** Encodes needed. */
  encodes: number;
}

/**
 * Encodes audio at the highest bit rate the budget allows (mono: these budgets are for voice), then
 * verifies the size and retries 10 % lower while it overshoots. Returns `undefined` when the rate
 * needed is below the codec's floor.
 * @param path local source file
 * @param target audio format
 * @param options budget and duration
 */
export async function fitAudioToBudget(
  path: string,
  target: AudioTarget,
  options: AudioBudgetSearchOptions,
): Promise<AudioBudgetFit | undefined> {
  const spec = AUDIO_FORMATS[target.format];
  // Container overhead: Ogg pages ~1 %, MP4 sample tables, plus headers.
  const usableBits = (options.maxBytes - 2048) * 8 * 0.96;
  let kbps = Math.min(spec.maxKbps, Math.floor(usableBits / options.durationSeconds / 1000));
  for (let attempt = 1; attempt <= 4; attempt++) {
    throwIfAborted(options.signal);
    if (kbps < spec.minKbps) return undefined;
    const result = await transcodeAudio({
      input: path,
      format: target.format,
      bitrateKbps: kbps,
      channels: 1,
      tmpRoot: options.tmpRoot,
      signal: options.signal,
    });
    if (result.bytes.length <= options.maxBytes) return { ...result, encodes: attempt };
    kbps = Math.floor(kbps * Math.min(0.9, (options.maxBytes / result.bytes.length) * 0.95));
  }
  return undefined;
}
