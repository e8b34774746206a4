/**
 * Reading ffmpeg's raw frames (rawvideo on a pipe) into whole-frame buffers, as cheaply as Node
 * allows. A pipe stream hands over its bytes in fresh 64 KB chunks that must then be copied into
 * the frame: for a minute of 720p that is ~3,000 chunk allocations and 190 MB of copying, and the
 * external memory they add makes V8 collect garbage dozens of times. So where the platform has
 * named pipes, ffmpeg writes into a FIFO whose read end is a socket with a user buffer
 * (`onread`): every read lands straight in the frame being filled, and frames come from a small
 * pool the consumer may hand buffers back to. Elsewhere (no `mkfifo`, e.g. Windows) the pipe
 * stream is read as before. Both produce the same bytes.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMP_PREFIX } from './temp-dir.ts';

/** Frame buffers of one size, reused once their consumer hands them back. */
export class FramePool {
  private readonly free: ArrayBuffer[] = [];

  /**
   * @param frameBytes size of every frame
   * @param capacity buffers kept for reuse at most (more are left to the garbage collector)
   */
  constructor(
    readonly frameBytes: number,
    private readonly capacity = 4,
  ) {}

  /** A buffer of `frameBytes` with its own ArrayBuffer (so it can be transferred); contents undefined. */
  take(): Buffer {
    const reused = this.free.pop();
    // allocUnsafeSlow: never a slice of Node's shared pool, so `.buffer` is exactly this frame.
    return reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(this.frameBytes);
  }

  /** Hands a frame's pixels back; anything not exactly one whole, attached frame buffer is ignored. */
  give(pixels: ArrayBuffer): void {
    if (pixels.byteLength !== this.frameBytes || this.free.length >= this.capacity) return;
    if (this.free.includes(pixels)) return;
    this.free.push(pixels);
  }
}

/** Whether FIFOs are tried (tests turn them off to cover the pipe-stream path). */
let fifosEnabled = process.platform !== 'win32';

/** For tests: read ffmpeg's output through plain pipe streams (false) or FIFOs where possible. */
export function setFifosEnabled(enabled: boolean): void {
  fifosEnabled = enabled && process.platform !== 'win32';
}

/** Read ends ready for {@link fifoFrames} and write ends to hand to ffmpeg as stdio. */
export interface FramePipes {
  /** Non-blocking read ends, one per output. */
  readFds: number[];
  /** Blocking write ends, one per output: pass them in `stdio`, then {@link closeWriteEnds}. */
  writeFds: number[];
}

/**
 * Opens `count` FIFOs (in a private scratch directory, removed before this returns: open ends
 * keep a FIFO working after its name is gone), or `undefined` when the platform has none. The read
 * end is opened first and non-blocking, so opening the write end does not wait for a reader.
 */
export async function openFramePipes(count: number, tmpRoot?: string): Promise<FramePipes | undefined> {
  if (!fifosEnabled) return undefined;
  // Any failure here only costs the faster path: the pipe streams read the same bytes.
  const dir = await mkdtemp(join(tmpRoot ?? tmpdir(), TEMP_PREFIX)).catch(() => undefined);
  if (!dir) return undefined;
  const readFds: number[] = [];
  const writeFds: number[] = [];
  try {
    const names = Array.from({ length: count }, (_, i) => join(dir, `frames-${i}`));
    const made = await new Promise<boolean>((resolve) => {
      execFile('mkfifo', ['-m', '600', ...names], { windowsHide: true }, (error) => {
        // No mkfifo here: do not try again on every video.
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') fifosEnabled = false;
        resolve(!error);
      });
    });
    if (!made) return undefined;
    for (const name of names) {
      readFds.push(openSync(name, constants.O_RDONLY | constants.O_NONBLOCK));
      writeFds.push(openSync(name, constants.O_WRONLY));
    }
    return { readFds, writeFds };
  } catch {
    for (const fd of [...readFds, ...writeFds]) closeSync(fd);
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Closes the parent's write ends once ffmpeg has its copies, so its exit reads as end of file. */
export function closeWriteEnds(pipes: FramePipes): void {
  for (const fd of pipes.writeFds.splice(0)) closeSync(fd);
}

/** Closes read ends no reader took over yet (spawning threw, so no socket owns them). */
export function closeReadEnds(fds: readonly number[]): void {
  for (const fd of fds) closeSync(fd);
}

/**
 * Whole frames from a FIFO's read end, read by the kernel straight into pooled frame buffers.
 * At most one finished frame waits here: reading stops until the consumer asks for the next one
 * (so ffmpeg waits too). Returns the bytes of a trailing partial frame (0 when the stream ended
 * on a frame boundary). Owns `fd` and closes it.
 */
export async function* fifoFrames(fd: number, pool: FramePool): AsyncGenerator<Buffer, number, undefined> {
  const frameBytes = pool.frameBytes;
  let frame = pool.take();
  let filled = 0;
  const ready: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const socket = new Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      // Asked before every read: the rest of the frame being filled, so no read crosses frames.
      buffer: () => frame.subarray(filled),
      callback: (bytes: number) => {
        filled += bytes;
        if (filled < frameBytes) return true;
        ready.push(frame);
        frame = pool.take();
        filled = 0;
        notify();
        return false; // pause until this frame is taken
      },
    },
  });
  socket.on('end', () => {
    ended = true;
    notify();
  });
  socket.on('close', () => {
    ended = true;
    notify();
  });
  socket.on('error', (error) => {
    failure ??= error;
    notify();
  });
  try {
    for (;;) {
      const next = ready.shift();
      if (next) {
        yield next;
        socket.resume();
        continue;
      }
      if (failure) throw failure;
      if (ended) return filled;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    socket.destroy();
  }
}

/**
 * Whole frames from a pipe stream (the portable path): its chunks are copied into pooled frame
 * buffers. Returns the bytes of a trailing partial frame.
 */
export async function* streamFrames(
  stream: NodeJS.ReadableStream,
  pool: FramePool,
): AsyncGenerator<Buffer, number, undefined> {
  const frameBytes = pool.frameBytes;
  let frame = pool.take();
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let offset = 0; offset < chunk.length; ) {
      const n = chunk.copy(frame, filled, offset, Math.min(chunk.length, offset + frameBytes - filled));
      filled += n;
      offset += n;
      if (filled < frameBytes) continue;
      yield frame;
      frame = pool.take();
      filled = 0;
    }
  }
  return filled;
}
