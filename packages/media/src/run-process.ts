import { spawn } from 'node:child_process';
import { MediaError } from './errors.ts';

/** Default wall-clock limit for one helper process. Long transcodes should pass their own. */
export const DEFAULT_PROCESS_TIMEOUT_MS = 120_000;

/** How much of stderr to keep for error messages; ffmpeg can print megabytes on broken input. */
const STDERR_TAIL_BYTES = 16 * 1024;

/** Options for {@link runProcess}. */
export interface RunProcessOptions {
  /** Absolute path of the executable. */
  command: string;
  /** Arguments, passed as an array: never through a shell, so file names cannot inject commands. */
  args: readonly string[];
  /** Kill the process after this many milliseconds (default {@link DEFAULT_PROCESS_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Kill the process when this signal aborts. */
  signal?: AbortSignal;
  /** Working directory. */
  cwd?: string;
  /** Bytes to write to stdin (stdin is closed otherwise, so ffmpeg never waits for a keypress). */
  stdin?: Uint8Array;
  /** Stream stdout to this callback instead of collecting it. */
  onStdout?: (chunk: Buffer) => void;
  /** Called for each complete stdout line (in addition to collection); used for `-progress pipe:1`. */
  onStdoutLine?: (line: string) => void;
  /** Fail with `too_large` when collected stdout exceeds this many bytes (default 256 MiB). */
  maxStdoutBytes?: number;
}

/** Outcome of a process that exited with status 0. */
export interface RunProcessResult {
  /** Collected stdout (empty when `onStdout` was given). */
  stdout: Buffer;
  /** Last part of stderr, decoded as UTF-8. */
  stderr: string;
}

/**
 * Spawns a helper (ffmpeg/ffprobe) with an argument array, a timeout and abort support.
 * Rejects with a {@link MediaError}: `timeout`, `aborted`, `binary_missing` (spawn failed), `too_large`
 * (stdout over the cap) or `process_failed` (non-zero exit or killed by a signal, stderr tail in
 * `details.stderr`). Callers translate `process_failed` into input-specific codes such as `corrupt_file`.
 * @param options what to run and how
 */
export function runProcess(options: RunProcessOptions): Promise<RunProcessResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS;
  const maxStdout = options.maxStdoutBytes ?? 256 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new MediaError('aborted', 'operation aborted before start'));
      return;
    }
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let lineBuffer = '';
    let failure: MediaError | undefined;
    let settled = false;

    // SIGKILL rather than SIGTERM: a process stuck in a decoder loop on hostile input may not poll signals.
    const kill = (error: MediaError): void => {
      if (failure === undefined) failure = error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => kill(new MediaError('timeout', `process exceeded ${timeoutMs} ms`, { details: { timeoutMs } })),
      timeoutMs,
    );
    const onAbort = (): void => kill(new MediaError('aborted', 'operation aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (error: MediaError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve({ stdout: Buffer.concat(stdoutChunks), stderr: stderrTail.toString('utf8') });
    };

    child.stdout?.on('data', (chunk: Buffer) => {
      if (options.onStdoutLine) {
        lineBuffer += chunk.toString('utf8');
        const lines = lineBuffer.split('\n');
        lineBuffer = lines.pop() ?? '';
        for (const line of lines) options.onStdoutLine(line.trimEnd());
      }
      if (options.onStdout) {
        options.onStdout(chunk);
        return;
      }
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        kill(new MediaError('too_large', `process output exceeded ${maxStdout} bytes`));
        return;
      }
      stdoutChunks.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(-STDERR_TAIL_BYTES);
    });
    if (options.stdin && child.stdin) {
      // EPIPE is expected when the process exits before reading all input (e.g. it rejected the header).
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }

    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(
        new MediaError('binary_missing', `cannot run ${options.command}: ${error.code ?? error.message}`, {
          cause: error,
        }),
      );
    });
    child.on('close', (code, signal) => {
      if (options.onStdoutLine && lineBuffer) options.onStdoutLine(lineBuffer.trimEnd());
      if (failure) return finish(failure);
      if (code === 0) return finish(undefined);
      const stderr = stderrTail.toString('utf8');
      finish(
        new MediaError('process_failed', `process exited with ${signal ?? `code ${code}`}`, {
          details: { exitCode: code, signal, stderr: stderr.slice(-2000) },
        }),
      );
    });
  });
}
