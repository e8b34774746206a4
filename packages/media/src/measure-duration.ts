import { locateBinaries } from './binaries.ts';
import { FFMPEG_BASE_ARGS, fileUrl } from './ffmpeg-args.ts';
import { isMediaError, MediaError } from './errors.ts';
import { runProcess } from './run-process.ts';

/** Options for {@link measureDuration}. */
export interface MeasureDurationOptions {
  /** Stop reading past this many seconds: the answer is then "longer than the limit", not exact. */
  maxSeconds: number;
  /** Abort signal. */
  signal?: AbortSignal;
  /** Kill ffmpeg after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

/**
 * Measures a file's duration by reading every packet (stream copy to the null muxer: no decoding).
 * For containers that state no duration, above all WebM from browsers' MediaRecorder, which writes
 * its header before it knows how long the recording will be and never comes back to fix it.
 * Reading stops a second past `maxSeconds`, so a hostile file cannot make this unbounded.
 * @param path local file
 * @param options limit, abort signal, timeout
 * @returns seconds up to the last packet's timestamp, or undefined when there are none
 */
export async function measureDuration(path: string, options: MeasureDurationOptions): Promise<number | undefined> {
  const { ffmpeg } = await locateBinaries();
  let lastMicros: number | undefined;
  try {
    await runProcess({
      command: ffmpeg,
      args: [
        ...FFMPEG_BASE_ARGS,
        '-progress',
        'pipe:1',
        '-nostats',
        '-i',
        fileUrl(path),
        '-map',
        '0:v?',
        '-map',
        '0:a?',
        '-c',
        'copy',
        '-t',
        String(Math.ceil(options.maxSeconds) + 1),
        '-f',
        'null',
        '-',
      ],
      timeoutMs: options.timeoutMs ?? 60_000,
      signal: options.signal,
      maxStdoutBytes: 4 * 1024 * 1024,
      onStdoutLine: (line) => {
        // `out_time_us` (newer ffmpeg) and `out_time_ms` (older; microseconds despite the name).
        const match = /^out_time_(?:us|ms)=(\d+)$/.exec(line.trim());
        if (match) lastMicros = Number(match[1]);
      },
    });
  } catch (error) {
    if (isMediaError(error, 'process_failed')) {
      throw new MediaError('corrupt_file', 'the file could not be read to its end', { details: error.details, cause: error });
    }
    throw error;
  }
  return lastMicros !== undefined && lastMicros > 0 ? lastMicros / 1e6 : undefined;
}
