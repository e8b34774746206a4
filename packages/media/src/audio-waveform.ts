import { type AudioLimits, openAudio } from './audio-source.ts';
import { isMediaError, MediaError } from './errors.ts';
import { fileUrl } from './ffmpeg-args.ts';
import { inputPath, type MediaInput } from './input.ts';
import { runFfmpeg } from './run-ffmpeg.ts';
import { withTempDir } from './temp-dir.ts';
import { transcodeTimeoutMs } from './video-source.ts';

/** Options for {@link audioWaveform}. */
export interface WaveformOptions extends AudioLimits {
  /** Path or bytes of the audio (or video) file. */
  input: MediaInput;
  /** Number of peaks (default 100). */
  count?: number;
  /**
   * `peak` (default): scale so the loudest bar is 1, which keeps quiet voice notes readable;
   * `full_scale`: 1 means digital full scale, comparable across files.
   */
  normalize?: 'peak' | 'full_scale';
  /** Parent of scratch directories. */
  tmpRoot?: string;
}

/** Waveform for a voice-note bubble. */
export interface Waveform {
  /** `count` values in 0..1, evenly spread over the duration. */
  peaks: number[];
  /** Decoded duration in seconds. */
  durationSeconds: number;
}

/** Decoding rate: bars are ≥ 10 ms wide, so 8 kHz mono keeps every visible peak at 1/6 of the data. */
const SAMPLE_RATE = 8000;
/** Samples per block (10 ms); block maxima are kept, not samples, so memory stays small for long files. */
const BLOCK = 80;

/**
 * Decodes the audio to 8 kHz mono 16-bit PCM on a pipe and reduces it to `count` peak amplitudes.
 * @param options input, bar count and normalisation
 */
export async function audioWaveform(options: WaveformOptions): Promise<Waveform> {
  const count = options.count ?? 100;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new MediaError('invalid_options', 'count must be an integer in 1..10000');
  }
  return withTempDir(options.tmpRoot, async (dir) => {
    const path = await inputPath(options.input, dir);
    const source = await openAudio(path, options);
    const blocks: number[] = [];
    let blockMax = 0;
    let inBlock = 0;
    let carry: Buffer | undefined;
    let samples = 0;
    const onStdout = (chunk: Buffer): void => {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const usable = data.length & ~1;
      carry = usable < data.length ? data.subarray(usable) : undefined;
      for (let offset = 0; offset < usable; offset += 2) {
        const value = Math.abs(data.readInt16LE(offset));
        if (value > blockMax) blockMax = value;
        if (++inBlock === BLOCK) {
          blocks.push(blockMax);
          blockMax = 0;
          inBlock = 0;
        }
      }
      samples += usable / 2;
    };
    try {
      await runFfmpeg({
        args: [
          '-i',
          fileUrl(path),
          '-map',
          '0:a:0',
          '-vn',
          '-ac',
          '1',
          '-ar',
          String(SAMPLE_RATE),
          '-t',
          (source.durationSeconds + 1).toFixed(3),
          '-c:a',
          'pcm_s16le',
          '-f',
          's16le',
          'pipe:1',
        ],
        signal: options.signal,
        timeoutMs: transcodeTimeoutMs(source.durationSeconds),
        onStdout,
      });
    } catch (error) {
      if (isMediaError(error, 'process_failed')) {
        throw new MediaError('corrupt_file', 'audio could not be decoded', {
          details: error.details,
          cause: error,
        });
      }
      throw error;
    }
    if (inBlock > 0) blocks.push(blockMax);
    if (blocks.length === 0) throw new MediaError('corrupt_file', 'no audio samples decoded');
    return {
      peaks: bucketPeaks(blocks, count, options.normalize ?? 'peak'),
      durationSeconds: samples / SAMPLE_RATE,
    };
  });
}

/**
 * Reduces block maxima to `count` bars (max per bar) and scales them to 0..1.
 * @param blocks per-10 ms maxima (0..32768)
 * @param count number of bars
 * @param normalize scaling mode
 */
export function bucketPeaks(
  blocks: readonly number[],
  count: number,
  normalize: 'peak' | 'full_scale',
): number[] {
  const bars: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * blocks.length) / count);
    const end = Math.max(start + 1, Math.floor(((i + 1) * blocks.length) / count));
    let max = 0;
    for (let j = start; j < end && j < blocks.length; j++) max = Math.max(max, blocks[j] ?? 0);
    bars.push(max);
  }
  const scale = normalize === 'peak' ? Math.max(...bars) : 32768;
  return bars.map((bar) => (scale > 0 ? Math.round((bar / scale) * 1000) / 1000 : 0));
}
