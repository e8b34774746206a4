import { locateBinaries } from './binaries.ts';
import { FFMPEG_BASE_ARGS } from './ffmpeg-args.ts';
import { FfmpegProgressParser } from './ffmpeg-progress.ts';
import { type RunProcessResult, runProcess } from './run-process.ts';

/** Options for {@link runFfmpeg}. */
export interface RunFfmpegOptions {
  /** Arguments after the common base flags (inputs, filters, outputs). */
  args: readonly string[];
  /** Expected output duration, to turn timestamps into fractions. */
  durationSeconds?: number;
  /** Progress callback (0..1). */
  onProgress?: (fraction: number) => void;
  /** Abort signal; kills ffmpeg. */
  signal?: AbortSignal;
  /** Wall-clock limit in milliseconds. */
  timeoutMs?: number;
  /** Working directory (HLS output names are relative to it). */
  cwd?: string;
  /** Maximum stdout to collect when the output goes to `pipe:1`. */
  maxStdoutBytes?: number;
  /** Stream stdout (raw media on `pipe:1`) instead of collecting it. */
  onStdout?: (chunk: Buffer) => void;
}

/**
 * Runs ffmpeg with the common safety flags and, when a progress callback is given, `-progress pipe:1`
 * (machine-readable key=value blocks on stdout). Progress and piped media cannot share stdout, so
 * callers that read media from stdout must not ask for progress.
 * @param options arguments and plumbing
 */
export async function runFfmpeg(options: RunFfmpegOptions): Promise<RunProcessResult> {
  const { ffmpeg } = await locateBinaries();
  const parser = options.onProgress
    ? new FfmpegProgressParser(options.durationSeconds ?? 0, options.onProgress)
    : undefined;
  const progressArgs = parser ? ['-progress', 'pipe:1', '-nostats'] : [];
  return runProcess({
    command: ffmpeg,
    args: [...FFMPEG_BASE_ARGS, ...progressArgs, ...options.args],
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    cwd: options.cwd,
    maxStdoutBytes: options.maxStdoutBytes,
    onStdout: options.onStdout,
    ...(parser ? { onStdoutLine: (line: string) => parser.push(line) } : {}),
  });
}
