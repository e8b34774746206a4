/**
 * Hashes one file for screening and banks: SHA-256 and MD5 of the bytes (any kind), and for images
 * PDQ plus MMD's crop-resistant sets, for videos vPDQ (one frame per second). Decoding happens in
 * @mmd/media (libvips and ffmpeg, off the event loop already); the pure-JS hashing goes to the
 * thread pool.
 */
import { MediaError, decodeVideoFramesForHashing, fileDigests, inspectMedia, type MediaKind } from '@mmd/media';
import { hash256FromHex, type VpdqFeature } from '@mmd/phash';
import type { ThreadPool } from '../platform/queue/index.ts';
import type { FrameInput, ImageHashResult } from './hash-tasks.ts';
import * as tasks from './hash-tasks.ts';

export type HashTasks = typeof tasks;

export interface FileHashes {
  kind: MediaKind;
  sha256: string;
  md5: string;
  image?: ImageHashResult;
  video?: { frames: VpdqFeature[] };
}

export interface HasherOptions {
  /** Where hashing runs; without one it runs inline (unit tests, the CLI-free bench paths). */
  pool?: ThreadPool<HashTasks>;
  maxPixels: number;
  maxVideoSeconds: number;
  /** Frames hashed per thread task: fewer messages, same total work. */
  framesPerTask?: number;
}

/** A transferable ArrayBuffer holding exactly these bytes (copied only when the Buffer is a view into a larger one). */
function ownBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  return new Uint8Array(b).buffer as ArrayBuffer;
}

export function createHasher(options: HasherOptions) {
  const framesPerTask = options.framesPerTask ?? 4;

  /** Decoded and hashed on the pool thread, so no full-resolution pixels cross to the event loop. */
  async function runImageFile(file: string): Promise<ImageHashResult> {
    const result = options.pool ? await options.pool.run('hashImageFile', [file, options.maxPixels]) : await tasks.hashImageFile(file, options.maxPixels);
    if ('mediaError' in result) throw new MediaError(result.mediaError.code, result.mediaError.message);
    return result;
  }

  function runFrames(frames: FrameInput[]) {
    if (!options.pool) return Promise.resolve(tasks.hashFrames(frames));
    return options.pool.run('hashFrames', [frames], { transfer: frames.map((f) => f.pixels) });
  }


  async function videoFrames(file: string, signal?: AbortSignal): Promise<VpdqFeature[]> {
    const inFlight: Array<Promise<Awaited<ReturnType<typeof runFrames>>>> = [];
    const done: VpdqFeature[] = [];
    const limit = Math.max(2, (options.pool?.size ?? 1) * 2);
    let batch: FrameInput[] = [];
    const flush = async () => {
      if (batch.length > 0) inFlight.push(runFrames(batch));
      batch = [];
      // Bounded: ffmpeg waits while the threads catch up, so memory stays at a few frames.
      while (inFlight.length >= limit) collect(await inFlight.shift()!);
    };
    const collect = (hashed: Awaited<ReturnType<typeof runFrames>>) => {
      for (const h of hashed) done.push({ frameNumber: h.frameNumber, quality: h.quality, hash: hash256FromHex(h.hash), timestampSeconds: h.seconds });
    };
    for await (const f of decodeVideoFramesForHashing(file, { maxSeconds: options.maxVideoSeconds, signal })) {
      batch.push({ pixels: ownBuffer(f.data), width: f.width, height: f.height, seconds: f.seconds, frameNumber: f.frameNumber });
      if (batch.length >= framesPerTask) await flush();
    }
    await flush();
    for (const p of inFlight) collect(await p);
    return done.sort((a, b) => a.frameNumber - b.frameNumber);
  }

  return {
    /**
     * Hashes a file. `kind` when the caller knows it (media processing does), else it is sniffed;
     * audio and documents get only the exact digests.
     */
    async hashFile(file: string, known: { kind?: MediaKind; signal?: AbortSignal } = {}): Promise<FileHashes> {
      const kind = known.kind ?? (await inspectMedia(file, { maxPixels: options.maxPixels, maxVideoSeconds: options.maxVideoSeconds, maxAudioSeconds: options.maxVideoSeconds })).kind;
      const exact = await fileDigests(file);
      if (kind === 'image') {
        return { kind, ...exact, image: await runImageFile(file) };
      }
      if (kind === 'video') return { kind, ...exact, video: { frames: await videoFrames(file, known.signal) } };
      return { kind, ...exact };
    },
  };
}

export type Hasher = ReturnType<typeof createHasher>;
