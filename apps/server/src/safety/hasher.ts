/**
 * Hashes one file for screening and banks: SHA-256 and MD5 of the bytes (any kind), and for images
 * PDQ plus MMD's crop-resistant sets, for videos vPDQ (one frame per second, for exchange with
 * other platforms) plus MMD's robust video signature (small grey frames: crops, bars, mirrors,
 * speed changes). Decoding happens in @mmd/media (libvips and ffmpeg, off the event loop
 * already); the pure-JS hashing goes to the thread pool.
 */
import { MediaError, decodeVideoOutputs, fileDigests, type HashFrame, inspectMedia, type MediaKind } from '@mmd/media';
import { hash256FromHex, mergeFrames, VIDEO_SIGNATURE_PARAMS, videoFrameHasAnchors, videoSampledFrameCount, videoSampleRate, type VideoFrameHashes, type VideoSignature, type VideoSignatureRole, type VpdqFeature, type RobustScheme } from '@mmd/phash';
import type { ThreadPool } from '../platform/queue/index.ts';
import type { FrameInput, ImageHashResult, SignatureFrameInput } from './hash-tasks.ts';
import * as tasks from './hash-tasks.ts';

export type HashTasks = typeof tasks;

export interface FileHashes {
  kind: MediaKind;
  sha256: string;
  md5: string;
  image?: ImageHashResult;
  /**
   * vPDQ frames, and the robust signature: a dense query with rotation/mirror variants for an
   * upload (they are dropped when it is stored), a sparse reference for a bank entry.
   */
  video?: { frames: VpdqFeature[]; signature: VideoSignature };
}

export interface HasherOptions {
  /** Where hashing runs; without one it runs inline (unit tests, the CLI-free bench paths). */
  pool?: ThreadPool<HashTasks>;
  maxPixels: number;
  maxVideoSeconds: number;
  /** Frames hashed per thread task: fewer messages, same total work. */
  framesPerTask?: number;
}

/** Hands a hashed frame's pixels back to the decoder for reuse (decodeVideoOutputs). */
type Recycle = (pixels: ArrayBuffer) => void;

/** A transferable ArrayBuffer holding exactly these bytes (copied only when the Buffer is a view into a larger one). */
function ownBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  return new Uint8Array(b).buffer as ArrayBuffer;
}

export function createHasher(options: HasherOptions) {
  const framesPerTask = options.framesPerTask ?? 4;

  /** Decoded and hashed on the pool thread, so no full-resolution pixels cross to the event loop. */
  async function runImageFile(file: string, olderSchemes: readonly RobustScheme[]): Promise<ImageHashResult> {
    const result = options.pool
      ? await options.pool.run('hashImageFile', [file, options.maxPixels, olderSchemes])
      : await tasks.hashImageFile(file, options.maxPixels, olderSchemes);
    if ('mediaError' in result) throw new MediaError(result.mediaError.code, result.mediaError.message);
    return result;
  }

  /** Hashes on the pool (pixels moved there and back) or inline; the pixels go back to the decoder. */
  async function runFrames(frames: FrameInput[], recycle: Recycle) {
    const { result, pixels } = options.pool
      ? await options.pool.run('hashFramesGivingBack', [frames], { transfer: frames.map((f) => f.pixels) })
      : tasks.hashFramesGivingBack(frames);
    for (const p of pixels) recycle(p);
    return result;
  }


  /** vPDQ: full-size RGB frames at 1 fps, hashed on the pool in batches as they arrive. */
  function vpdqSink() {
    const inFlight: Array<Promise<Awaited<ReturnType<typeof runFrames>>>> = [];
    const done: VpdqFeature[] = [];
    const limit = Math.max(2, (options.pool?.size ?? 1) * 2);
    let batch: FrameInput[] = [];
    const collect = (hashed: Awaited<ReturnType<typeof runFrames>>) => {
      for (const h of hashed) done.push({ frameNumber: h.frameNumber, quality: h.quality, hash: hash256FromHex(h.hash), timestampSeconds: h.seconds });
    };
    // The decoder's hand-back (the same for every frame of the output), known from the first push.
    let recycle: Recycle = () => {};
    const flush = async () => {
      if (batch.length > 0) inFlight.push(runFrames(batch, recycle));
      batch = [];
      // Bounded: ffmpeg waits while the threads catch up, so memory stays at a few frames.
      while (inFlight.length >= limit) collect(await inFlight.shift()!);
    };
    return {
      async push(f: HashFrame, giveBack: Recycle) {
        recycle = giveBack;
        batch.push({ pixels: ownBuffer(f.data), width: f.width, height: f.height, seconds: f.seconds, frameNumber: f.frameNumber });
        if (batch.length >= framesPerTask) await flush();
      },
      async finish(): Promise<VpdqFeature[]> {
        await flush();
        for (const p of inFlight) collect(await p);
        return done.sort((a, b) => a.frameNumber - b.frameNumber);
      },
      /** After a failed decode: waits for the hashing still in flight, so no rejection goes unhandled. */
      abandon: () => Promise.allSettled(inFlight.splice(0)),
    };
  }

  async function runSignatureFrames(frames: SignatureFrameInput[], role: VideoSignatureRole, recycle: Recycle): Promise<VideoFrameHashes[]> {
    const { result, pixels } = options.pool
      ? await options.pool.run('hashSignatureFramesGivingBack', [frames, role, true], { transfer: frames.map((f) => f.pixels) })
      : tasks.hashSignatureFramesGivingBack(frames, role, true);
    for (const p of pixels) recycle(p);
    return result;
  }

  /**
   * The robust signature, from small grey frames. A query (an upload) is sampled densely at
   * videoSampleRate; a reference (a bank entry) sparsely, each sample merged with its neighbours
   * 1/12 s either side (decoded at 12 fps, only the samples and their neighbours hashed), as the
   * evaluation builds them. Rotation/mirror variants on both: an upload's are used fresh and
   * dropped when it is stored; a bank reference keeps them for searching stored uploads
   * (videoRule uses one side's only).
   */
  function signatureSink(role: VideoSignatureRole) {
    const p = VIDEO_SIGNATURE_PARAMS;
    const neighbours = role === 'reference' ? p.referenceNeighbours : 1;
    const half = neighbours >> 1;
    let step = 1;
    // The query's frame count as every signature builder derives it from the probed duration
    // (videoSampledFrameCount): short queries carry anchored regions on every frame.
    let frameCount = 0;
    const wanted = (i: number) => {
      if (neighbours === 1) return true;
      const r = (((i - half) % step) + step) % step;
      return Math.min(r, step - r) <= half;
    };
    const inFlight: Array<Promise<VideoFrameHashes[]>> = [];
    const hashed: VideoFrameHashes[] = [];
    const indexes: number[] = [];
    const limit = Math.max(2, (options.pool?.size ?? 1) * 2);
    let batch: SignatureFrameInput[] = [];
    let decoded = 0;
    let recycle: Recycle = () => {};
    const flush = async () => {
      if (batch.length > 0) inFlight.push(runSignatureFrames(batch, role, recycle));
      batch = [];
      while (inFlight.length >= limit) hashed.push(...(await inFlight.shift()!));
    };
    return {
      /** The decode rate for a video of this duration (called once, before any frame). */
      rateFor(duration: number): number {
        const fps = videoSampleRate(role, duration);
        frameCount = videoSampledFrameCount(role, duration);
        if (neighbours === 1) return fps;
        step = Math.max(1, Math.round(p.neighbourFps / fps));
        return p.neighbourFps;
      },
      async push(f: HashFrame, giveBack: Recycle) {
        recycle = giveBack;
        const i = decoded++;
        if (!wanted(i)) return giveBack(ownBuffer(f.data));
        indexes.push(i);
        // Query frames of a long upload carry anchored regions on every few frames only (the library's rule).
        const anchors = videoFrameHasAnchors(role, i, frameCount);
        batch.push({ pixels: ownBuffer(f.data), width: f.width, height: f.height, channels: f.channels, seconds: f.seconds, anchors });
        if (batch.length >= framesPerTask * 4) await flush();
      },
      async finish(): Promise<VideoSignature> {
        await flush();
        for (const pending of inFlight) hashed.push(...(await pending));
        if (neighbours === 1) return { role, frames: hashed };
        // Each sample (decoded index half, half + step, …) merged with its neighbours.
        const byIndex = new Map(indexes.map((index, k) => [index, hashed[k]!]));
        const frames: VideoFrameHashes[] = [];
        for (let c = half; c < decoded; c += step) {
          const group: VideoFrameHashes[] = [];
          for (let k = c - half; k <= c + half; k++) {
            const h = byIndex.get(k);
            if (h) group.push(h);
          }
          if (group.length > 0) frames.push(mergeFrames(group));
        }
        return { role, frames };
      },
      abandon: () => Promise.allSettled(inFlight.splice(0)),
    };
  }

  /** vPDQ and the robust signature from one decode (decoding is most of the cost). */
  async function hashVideo(file: string, role: VideoSignatureRole, signal?: AbortSignal): Promise<{ frames: VpdqFeature[]; signature: VideoSignature }> {
    const vpdq = vpdqSink();
    const signature = signatureSink(role);
    try {
      await decodeVideoOutputs(
        file,
        [{ fps: 1 }, { fpsForDuration: (d) => signature.rateFor(d), divisor: VIDEO_SIGNATURE_PARAMS.frameScale, grey: true }],
        (output, frame, recycle) => (output === 0 ? vpdq.push(frame, recycle) : signature.push(frame, recycle)),
        { maxSeconds: options.maxVideoSeconds, signal },
      );
    } catch (err) {
      await Promise.all([vpdq.abandon(), signature.abandon()]);
      throw err;
    }
    return { frames: await vpdq.finish(), signature: await signature.finish() };
  }

  return {
    /**
     * Hashes a file. `kind` when the caller knows it (media processing does), else it is sniffed;
     * audio and documents get only the exact digests.
     */
    async hashFile(
      file: string,
      known: {
        kind?: MediaKind;
        signal?: AbortSignal;
        role?: VideoSignatureRole;
        /** Older robust schemes to make an image's query set in too (the banks hold sets made in them). */
        olderSchemes?: readonly RobustScheme[];
      } = {},
    ): Promise<FileHashes> {
      const kind = known.kind ?? (await inspectMedia(file, { maxPixels: options.maxPixels, maxVideoSeconds: options.maxVideoSeconds, maxAudioSeconds: options.maxVideoSeconds })).kind;
      const exact = await fileDigests(file);
      if (kind === 'image') {
        return { kind, ...exact, image: await runImageFile(file, known.olderSchemes ?? []) };
      }
      if (kind === 'video') {
        return { kind, ...exact, video: await hashVideo(file, known.role ?? 'query', known.signal) };
      }
      return { kind, ...exact };
    },
  };
}

export type Hasher = ReturnType<typeof createHasher>;
