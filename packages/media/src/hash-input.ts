/**
 * Decoding for perceptual hashing (PDQ, vPDQ). Hashes must be comparable with Meta's reference
 * tools and with hashes other platforms share, so this decodes differently from the rendition
 * pipeline: full resolution, the pixels as stored (no EXIF orientation, no video rotation),
 * alpha dropped, 8-bit RGB. Limits and error codes are the library's usual ones.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { locateBinaries } from './binaries.ts';
import { MediaError } from './errors.ts';
import { FFMPEG_BASE_ARGS, fileUrl } from './ffmpeg-args.ts';
import { inputPath, type MediaInput } from './input.ts';
import { inspectMedia } from './inspect.ts';
import { DEFAULT_MAX_IMAGE_PIXELS } from './limits.ts';
import { sharpInputOptions } from './probe-image.ts';
import { sharpError } from './sharp-errors.ts';
import { TEMP_PREFIX } from './temp-dir.ts';
import { closeReadEnds, closeWriteEnds, type FramePipes, FramePool, fifoFrames, openFramePipes, streamFrames } from './raw-frames.ts';
import { openVideo, transcodeTimeoutMs, type VideoSource } from './video-source.ts';

/** Interleaved 8-bit RGB pixels, top row first: what PDQ hashes. */
export interface HashImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

/** Options for {@link decodeImageForHashing}. */
export interface DecodeImageForHashingOptions {
  /** Pixel budget (default 100 MP), enforced before libvips decodes anything. */
  maxPixels?: number;
  /** sharp's pipeline timeout in seconds (default 60). */
  timeoutSeconds?: number;
}

/**
 * Decodes an image to full-resolution RGB as stored: PDQ references (and the hashes other
 * platforms share) hash the stored pixels, so EXIF orientation is deliberately not applied.
 * The content must sniff and decode as an image (never trusting the name); the pixel limit is
 * checked from the header first, as everywhere in this library. Throws `empty_file`,
 * `unsupported_type`, `corrupt_file`, `too_many_pixels` or `timeout`.
 * @param input path or bytes
 * @param options limits
 */
export async function decodeImageForHashing(
  input: MediaInput,
  options: DecodeImageForHashingOptions = {},
): Promise<HashImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const info = await inspectMedia(input, { maxPixels });
  if (info.kind !== 'image') {
    throw new MediaError('unsupported_type', `expected an image, got ${info.mime}`, {
      details: { mime: info.mime },
    });
  }
  try {
    // Same decode as the reference test vectors (sharp defaults: first page, no rotation), plus
    // sRGB so grey, CMYK and 16-bit files also come out as 8-bit RGB.
    const { data, info: out } = await sharp(input, sharpInputOptions(maxPixels))
      .removeAlpha()
      .toColourspace('srgb')
      .timeout({ seconds: options.timeoutSeconds ?? 60 })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== 3)
      throw new MediaError('corrupt_file', `decoded to ${out.channels} channels, not RGB`);
    return { data, width: out.width, height: out.height, channels: 3 };
  } catch (error) {
    throw sharpError(error, 'decoding image for hashing');
  }
}

/** One decoded video frame: RGB (or grey, when asked) pixels plus where it sits in the video. */
export interface HashFrame extends Omit<HashImage, 'channels'> {
  /** 3 (RGB) unless the decode asked for grey. */
  channels: 1 | 3;
  /** Seconds from the start of the video stream. */
  seconds: number;
  /** Index among the sampled frames (0 = the first). */
  frameNumber: number;
}

/** Options for {@link decodeVideoFramesForHashing}. */
export interface DecodeVideoFramesOptions {
  /** Frames sampled per second (default 1, as the vPDQ reference). */
  fps?: number;
  /** Stop after this many frames (ffmpeg is stopped too). */
  maxFrames?: number;
  /** Refuse longer videos with `too_long` (default 15 min, the library's video limit). */
  maxSeconds?: number;
  /** Refuse frames with a longer side, as `too_many_pixels` (default 8192). */
  maxVideoSide?: number;
  /** Kills ffmpeg and rejects with `aborted`. */
  signal?: AbortSignal;
  /** Kill ffmpeg after this long (default: 1 min plus 20× the video's duration). */
  timeoutMs?: number;
  /** Parent of the scratch directory used when the input is bytes. */
  tmpRoot?: string;
  /**
   * Threads ffmpeg decodes and filters with (default 1; 0 = ffmpeg's choice). Frame threading
   * buys wall time with CPU time: on the bench's 1-minute upload one thread decoded with 10–16 %
   * less CPU (the same frames, bit for bit), and screening is budgeted in CPU-seconds while the
   * server hashes on its own pool beside the decode (docs/benchmarks.md, "One decoding thread").
   */
  decodeThreads?: number;
}

/** How much of ffmpeg's stderr to keep for the error message. */
const STDERR_TAIL = 4096;

/**
 * Decodes a video's frames for vPDQ: `fps` frames per second (ffmpeg's `fps` filter, set up to
 * pick the frames the reference's one-frame-per-second sampling picks) at the stored resolution,
 * without rotation, as RGB24 streamed from ffmpeg's stdout. Frames are produced on demand, so
 * at most one frame is buffered here (ffmpeg waits while the caller hashes); ffmpeg is killed
 * when the caller stops early, on abort and on timeout. The input is verified as a video within
 * the size and duration limits first. Throws `unsupported_type`, `corrupt_file`, `too_long`,
 * `too_many_pixels`, `timeout`, `aborted`, `binary_missing` or `invalid_options`.
 * @param input path or bytes
 * @param options sampling rate, limits and abort signal
 */
export async function* decodeVideoFramesForHashing(
  input: MediaInput,
  options: DecodeVideoFramesOptions = {},
): AsyncGenerator<HashFrame, void, undefined> {
  const fps = checkFps(options.fps ?? 1);
  const maxFrames = options.maxFrames;
  if (maxFrames !== undefined && !(Number.isSafeInteger(maxFrames) && maxFrames > 0)) {
    throw new MediaError('invalid_options', `maxFrames must be a positive integer, got ${maxFrames}`);
  }
  const { path, video, durationSeconds, release } = await openVideoInput(input, options);
  try {
    const { ffmpeg } = await locateBinaries();
    const args = [
      ...FFMPEG_BASE_ARGS,
      ...threadArgs(options.decodeThreads),
      // Hash the stored frames, as the reference does; players rotate for display only.
      '-noautorotate',
      '-i',
      fileUrl(path),
      // `V`: the first real video stream, not cover art.
      '-map',
      '0:V:0',
      '-an',
      '-sn',
      '-dn',
      // round=up makes slot k the last frame at or before k/fps seconds: for whole frame rates
      // exactly the frames the vPDQ reference hashes (0, 30, 60, … at 30 fps). The default
      // (round=near) would take the frame half a slot later.
      '-vf',
      `fps=${fps}:round=up`,
      ...(maxFrames === undefined ? [] : ['-frames:v', String(maxFrames)]),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ];
    const pipes = await openFramePipes(1, options.tmpRoot);
    const child = spawnWithPipes(ffmpeg, args, pipes, 1);
    yield* readFrames(child, {
      // ffprobe's width/height are the decoded (stored, cropped) size that rawvideo emits.
      width: video.width,
      height: video.height,
      channels: 3,
      fps,
      maxFrames: maxFrames ?? Number.POSITIVE_INFINITY,
      durationSeconds,
      timeoutMs: options.timeoutMs ?? transcodeTimeoutMs(durationSeconds),
      signal: options.signal,
      source: pipes ? { fd: pipes.readFds[0]! } : { stream: child.stdout },
    });
  } finally {
    await release();
  }
}

/** A video input as a local file, verified and probed; `release` removes the scratch copy, if any. */
interface OpenedVideoInput extends VideoSource {
  path: string;
  release: () => Promise<void>;
}

/**
 * Makes the input a local file (ffmpeg needs a seekable one: MP4 indexes can sit at the end, so
 * bytes go to a scratch directory first) and verifies it as a video within the limits. The
 * scratch copy is already removed when this throws; otherwise the caller calls `release`.
 */
async function openVideoInput(
  input: MediaInput,
  options: Pick<DecodeVideoFramesOptions, 'maxSeconds' | 'maxVideoSide' | 'signal' | 'tmpRoot'>,
): Promise<OpenedVideoInput> {
  const dir =
    typeof input === 'string' ? undefined : await mkdtemp(join(options.tmpRoot ?? tmpdir(), TEMP_PREFIX));
  const release = async (): Promise<void> => {
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    const path = await inputPath(input, dir ?? '');
    const source = await openVideo(path, {
      maxVideoSeconds: options.maxSeconds,
      maxVideoSide: options.maxVideoSide,
      signal: options.signal,
    });
    return { ...source, path, release };
  } catch (error) {
    await release();
    throw error;
  }
}

interface ReadFramesOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  fps: number;
  maxFrames: number;
  /** The container's stated duration (0 = unknown): a stream that runs well past it is refused. */
  durationSeconds: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** A FIFO's read end (read straight into frames) or the child's pipe stream. */
  source: { fd: number } | { stream: NodeJS.ReadableStream | null };
  /** Where frame buffers come from; handed-back ones are reused (default: a pool nobody refills). */
  pool?: FramePool;
}

/**
 * Spawns ffmpeg with its frame outputs on fd 1, 3, 4, …: the FIFOs' write ends when there are
 * FIFOs (closed here once the child holds them, or its exit would never read as end of file),
 * else pipes. stdin is closed, stderr a pipe.
 */
function spawnWithPipes(ffmpeg: string, args: string[], pipes: FramePipes | undefined, outputs: number): ChildProcess {
  const out = (i: number): number | 'pipe' => (pipes ? pipes.writeFds[i]! : 'pipe');
  const stdio: Array<number | 'ignore' | 'pipe'> = ['ignore', out(0), 'pipe'];
  for (let i = 1; i < outputs; i++) stdio.push(out(i));
  try {
    return spawn(ffmpeg, args, { stdio, windowsHide: true });
  } catch (error) {
    if (pipes) closeReadEnds(pipes.readFds);
    throw error;
  } finally {
    if (pipes) closeWriteEnds(pipes);
  }
}

/** ffmpeg's decoder and filter-graph thread counts (input options, so before `-i`). */
function threadArgs(threads = 1): string[] {
  if (!(Number.isSafeInteger(threads) && threads >= 0 && threads <= 64)) {
    throw new MediaError('invalid_options', `decodeThreads must be a whole number in [0, 64] (0 = ffmpeg's choice), got ${threads}`);
  }
  const n = String(threads);
  return ['-filter_threads', n, '-filter_complex_threads', n, '-threads', n];
}

/** A sampling rate ffmpeg's fps filter takes here, else `invalid_options`. */
function checkFps(fps: number): number {
  if (!(Number.isFinite(fps) && fps > 0 && fps <= 240)) {
    throw new MediaError('invalid_options', `fps must be in (0, 240], got ${fps}`);
  }
  return fps;
}

/** One of the frame streams {@link decodeVideoOutputs} produces from a single decode. */
export interface DecodeOutput {
  /** Frames sampled per second (default 1). */
  fps?: number;
  /** Chooses the rate from the probed duration instead; wins over `fps`. */
  fpsForDuration?: (durationSeconds: number) => number;
  /** Frames shrunk by this whole factor (area average); default 1. */
  divisor?: number;
  /** One grey sample per pixel instead of RGB. */
  grey?: boolean;
}

/**
 * Several frame streams from one decode of a video: ffmpeg decodes the file once and splits the
 * frames into each output's rate, size and pixel format (e.g. vPDQ's full-size RGB at 1 fps and
 * a small grey stream at 4 fps), written to one pipe each. Decoding is most of the cost of
 * hashing a video, so this halves it against two decodes. `onFrame` is awaited per frame (ffmpeg
 * waits while an output's consumer is busy; outputs are drained independently, so a slow one
 * never starves the other). Same verification, limits and errors as
 * {@link decodeVideoFramesForHashing}.
 *
 * Each frame has a buffer of its own, which the caller may keep. A caller done with a frame's
 * pixels may hand its ArrayBuffer back with `recycle` (also after a round trip through a worker
 * thread by transfer): a later frame of that output is then read into it instead of into fresh
 * memory, which spares the allocation and the garbage collection. After `recycle` the caller must
 * not touch those bytes again.
 */
export async function decodeVideoOutputs(
  input: MediaInput,
  outputs: readonly DecodeOutput[],
  onFrame: (output: number, frame: HashFrame, recycle: (pixels: ArrayBuffer) => void) => Promise<void> | void,
  options: Omit<DecodeVideoFramesOptions, 'fps' | 'fpsForDuration' | 'divisor' | 'grey' | 'maxFrames'> = {},
): Promise<void> {
  if (outputs.length < 1 || outputs.length > 4)
    throw new MediaError('invalid_options', 'between 1 and 4 outputs');
  const checked = outputs.map((o) => {
    const divisor = o.divisor ?? 1;
    if (!(Number.isSafeInteger(divisor) && divisor >= 1 && divisor <= 64)) {
      throw new MediaError('invalid_options', `divisor must be a whole number in [1, 64], got ${divisor}`);
    }
    return { ...o, divisor };
  });
  for (const o of checked) if (!o.fpsForDuration) checkFps(o.fps ?? 1);
  const { path, video, durationSeconds, release } = await openVideoInput(input, options);
  try {
    const plans = checked.map((o) => ({
      fps: checkFps(o.fpsForDuration ? o.fpsForDuration(durationSeconds) : (o.fps ?? 1)),
      width: Math.max(1, Math.floor(video.width / o.divisor)),
      height: Math.max(1, Math.floor(video.height / o.divisor)),
      divisor: o.divisor,
      channels: (o.grey ? 1 : 3) as 1 | 3,
    }));
    const graph = [
      `[0:V:0]split=${plans.length}${plans.map((_, i) => `[s${i}]`).join('')}`,
      ...plans.map(
        (p, i) =>
          `[s${i}]fps=${p.fps}:round=up${p.divisor > 1 ? `,scale=${p.width}:${p.height}:flags=area` : ''}[o${i}]`,
      ),
    ].join(';');
    // Output i on fd 1, then 3, 4, … (fd 2 is stderr).
    const fds = plans.map((_, i) => (i === 0 ? 1 : i + 2));
    const { ffmpeg } = await locateBinaries();
    const args = [
      ...FFMPEG_BASE_ARGS,
      ...threadArgs(options.decodeThreads),
      '-noautorotate',
      '-i',
      fileUrl(path),
      '-filter_complex',
      graph,
      ...plans.flatMap((p, i) => [
        '-map',
        `[o${i}]`,
        '-an',
        '-sn',
        '-dn',
        '-f',
        'rawvideo',
        '-pix_fmt',
        p.channels === 1 ? 'gray' : 'rgb24',
        `pipe:${fds[i]}`,
      ]),
    ];
    const pipes = await openFramePipes(plans.length, options.tmpRoot);
    const child = spawnWithPipes(ffmpeg, args, pipes, plans.length);
    const timeoutMs = options.timeoutMs ?? transcodeTimeoutMs(durationSeconds);
    await Promise.all(
      plans.map(async (p, i) => {
        const pool = new FramePool(p.width * p.height * p.channels);
        const recycle = (pixels: ArrayBuffer): void => pool.give(pixels);
        const frames = readFrames(child, {
          width: p.width,
          height: p.height,
          channels: p.channels,
          fps: p.fps,
          maxFrames: Number.POSITIVE_INFINITY,
          durationSeconds,
          timeoutMs,
          signal: options.signal,
          source: pipes ? { fd: pipes.readFds[i]! } : { stream: child.stdio[fds[i]!] as NodeJS.ReadableStream },
          pool,
        });
        for await (const f of frames) await onFrame(i, f, recycle);
      }),
    ).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
  } finally {
    await release();
  }
}

/** Cuts ffmpeg's raw output into frames, supervising the process (timeout, abort, exit status). */
/**
 * Why a decode's ffmpeg was killed, for every output reading it: the other outputs of
 * {@link decodeVideoOutputs} then report that reason, not the exit status the kill caused.
 */
const killReasons = new WeakMap<ChildProcess, MediaError>();

async function* readFrames(child: ChildProcess, o: ReadFramesOptions): AsyncGenerator<HashFrame, void, undefined> {
  let failure: MediaError | undefined;
  // SIGKILL: a decoder stuck on hostile input may never look at SIGTERM.
  const kill = (error: MediaError): void => {
    failure ??= error;
    if (!killReasons.has(child)) killReasons.set(child, error);
    child.kill('SIGKILL');
  };
  const timer = setTimeout(
    () =>
      kill(
        new MediaError('timeout', `decoding frames exceeded ${o.timeoutMs} ms`, {
          details: { timeoutMs: o.timeoutMs },
        }),
      ),
    o.timeoutMs,
  );
  const onAbort = (): void => kill(new MediaError('aborted', 'operation aborted'));
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });

  // Without a pool of its own every frame gets a fresh buffer: the caller may keep the previous one.
  const pool = o.pool ?? new FramePool(o.width * o.height * o.channels, 0);
  const frames = 'fd' in o.source ? fifoFrames(o.source.fd, pool) : streamFrames(o.source.stream!, pool);
  let partial = 0;
  let produced = 0;
  try {
    try {
      for (;;) {
        const next = await frames.next();
        if (next.done) {
          partial = next.value;
          break;
        }
        // The sampling rate, the frame caps and the time limits downstream all trust the stated
        // duration; a stream running well past it is a crafted or broken file (players show it
        // wrong too), refused rather than decoded and hashed without bound.
        if (o.durationSeconds > 0 && produced >= Math.ceil(o.durationSeconds * o.fps) * 1.25 + 8) {
          kill(
            new MediaError('corrupt_file', 'the video stream runs longer than its container states', {
              details: { statedSeconds: o.durationSeconds, framesExpected: Math.ceil(o.durationSeconds * o.fps) },
            }),
          );
          break;
        }
        yield {
          data: next.value,
          width: o.width,
          height: o.height,
          channels: o.channels,
          seconds: produced / o.fps,
          frameNumber: produced,
        };
        produced++;
        if (produced >= o.maxFrames) return;
      }
    } catch (error) {
      // A killed process can break the pipe; the reason for the kill is the real error.
      if (!failure && !killReasons.has(child)) throw error;
    }
    const { code, error } = await exited;
    const reason = failure ?? killReasons.get(child);
    if (reason) throw reason;
    if (error)
      throw new MediaError('binary_missing', `cannot run ffmpeg: ${error.message}`, { cause: error });
    if (code !== 0) {
      throw new MediaError('corrupt_file', 'ffmpeg could not decode the video', {
        details: { exitCode: code, stderr: stderr.slice(-2000) },
      });
    }
    // A partial frame means the decoded size is not the probed one: every frame would be garbage.
    if (partial > 0) throw new MediaError('corrupt_file', 'decoded frames do not match the probed size');
    if (produced === 0) throw new MediaError('corrupt_file', 'no video frame could be decoded');
  } finally {
    // Stops reading (and closes a FIFO's read end) when the caller stopped early.
    await frames.return(0);
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    // Still running when the caller stopped early or something failed: nothing will read it.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * SHA-256 and MD5 of a file in one streaming pass (the exact hashes hash banks share), so a large
 * video is never held in memory.
 */
export async function fileDigests(file: string): Promise<{ sha256: string; md5: string }> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of createReadStream(file)) {
    sha256.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}
