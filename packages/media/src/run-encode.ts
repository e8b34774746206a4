import { isMediaError, MediaError } from './errors.ts';
import { runFfmpeg } from './run-ffmpeg.ts';
import { transcodeTimeoutMs } from './video-source.ts';

/**
 * Runs an encode and converts a failing ffmpeg into `corrupt_file` (the input is the only thing that
 * varies between runs, so that is what a failure points at).
 * @param args ffmpeg arguments
 * @param durationSeconds expected duration for progress
 * @param options progress, abort and timeout
 */
export async function runEncode(
  args: string[],
  durationSeconds: number,
  options: { onProgress?: (f: number) => void; signal?: AbortSignal; timeoutMs?: number; cwd?: string },
): Promise<void> {
  try {
    await runFfmpeg({
      args,
      durationSeconds,
      onProgress: options.onProgress,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? transcodeTimeoutMs(durationSeconds),
      cwd: options.cwd,
    });
  } catch (error) {
    if (isMediaError(error, 'process_failed')) {
      throw new MediaError('corrupt_file', 'ffmpeg could not transcode the input', {
        details: error.details,
        cause: error,
      });
    }
    throw error;
  }
}
