/**
 * The CPU-heavy part of screening, run on worker threads (platform/queue thread pool): PDQ at
 * full resolution plus MMD's crop-resistant hash sets for an image, and PDQ per sampled video
 * frame. Pure JavaScript, so on the event loop a 12-megapixel photo would stall every request for
 * about a second. Inputs are raw RGB pixels moved here by transfer; outputs are small strings.
 */
import { hash256ToHex, pdqHash, pdqIntermediate, robustHashes, robustQueryHashes, type RobustScheme, coefficientsToHash, videoFrameHashes, type VideoFrameHashes, type VideoSignatureRole } from '@mmd/phash';
import type { RobustHashSet } from '@mmd/contracts';
import { decodeImageForHashing, isMediaError, type MediaErrorCode } from '@mmd/media';
import { transfer } from '../platform/queue/thread-transfer.ts';
import { encodeRobust } from './hash-codec.ts';
import { videoRuleOfText } from './video-rule.ts';

export interface ImageHashResult {
  /** Full-resolution PDQ, as Meta's reference and HMA compute it. */
  pdq: string;
  quality: number;
  /** Hashes an upload is checked with (dihedral variants, tilts, 20 anchors). */
  query: RobustHashSet;
  /** Hashes a bank keeps for a known image (40 anchors). */
  reference: RobustHashSet;
  /**
   * Query sets in the older schemes the caller asked for (the banks still hold sets made in
   * them): each bank set is checked with the query of its own scheme.
   */
  olderQueries?: RobustHashSet[];
}

export function hashImage(pixels: ArrayBuffer, width: number, height: number, olderSchemes: readonly RobustScheme[] = []): ImageHashResult {
  return hashPixels(new Uint8Array(pixels), width, height, olderSchemes);
}

/** A MediaError crossing the thread boundary as a value (thrown errors lose their code there). */
export interface TaskMediaError {
  mediaError: { code: MediaErrorCode; message: string };
}

/**
 * Decodes the image file here, on the pool thread, and hashes it: a 100-megapixel picture is
 * 300 MB of pixels, and handing that to a thread costs the event loop seconds (sharp's buffers
 * cannot be transferred, only copied), so the pixels never reach the main thread at all.
 */
export async function hashImageFile(file: string, maxPixels: number, olderSchemes: readonly RobustScheme[] = []): Promise<ImageHashResult | TaskMediaError> {
  let decoded: Awaited<ReturnType<typeof decodeImageForHashing>>;
  try {
    decoded = await decodeImageForHashing(file, { maxPixels });
  } catch (err) {
    if (isMediaError(err)) return { mediaError: { code: err.code, message: err.message } };
    throw err;
  }
  return hashPixels(decoded.data, decoded.width, decoded.height, olderSchemes);
}

function hashPixels(data: Uint8Array, width: number, height: number, olderSchemes: readonly RobustScheme[]): ImageHashResult {
  const image = { data, width, height, channels: 3 as const };
  // One full-resolution PDQ pass serves the plain hash and both robust sets, and the robust sets
  // share their own pass over the pixels.
  const it = pdqIntermediate(image);
  const { query, reference } = robustHashes(image, it);
  return {
    pdq: hash256ToHex(coefficientsToHash(it.coefficients)),
    quality: it.quality,
    query: encodeRobust(query),
    reference: encodeRobust(reference),
    ...(olderSchemes.length > 0 ? { olderQueries: olderSchemes.map((scheme) => encodeRobust(robustQueryHashes(image, it, { scheme }))) } : {}),
  };
}

export interface FrameInput {
  pixels: ArrayBuffer;
  width: number;
  height: number;
  seconds: number;
  frameNumber: number;
}

export function hashFrames(frames: FrameInput[]): Array<{ hash: string; quality: number; seconds: number; frameNumber: number }> {
  return frames.map((f) => {
    const { hash, quality } = pdqHash({ data: new Uint8Array(f.pixels), width: f.width, height: f.height, channels: 3 });
    return { hash: hash256ToHex(hash), quality, seconds: f.seconds, frameNumber: f.frameNumber };
  });
}

export interface SignatureFrameInput {
  pixels: ArrayBuffer;
  width: number;
  height: number;
  channels: 1 | 3;
  seconds: number;
  /** Whether this frame gets anchored regions (videoFrameHasAnchors); default yes. */
  anchors?: boolean;
}

/**
 * MMD's robust video signature of frames decoded at 1/frameScale of the stored size (see
 * @mmd/phash video-signature.ts): `dihedral` adds the rotation/mirror variants of each hash.
 */
export function hashSignatureFrames(frames: SignatureFrameInput[], role: VideoSignatureRole, dihedral: boolean): VideoFrameHashes[] {
  return frames.map((f) => ({
    seconds: f.seconds,
    ...videoFrameHashes({ data: new Uint8Array(f.pixels), width: f.width, height: f.height, channels: f.channels }, role, undefined, { dihedral, anchors: f.anchors ?? true }),
  }));
}

/**
 * A task's result plus the pixel buffers it was given, handed back (by transfer, from a pool
 * thread) so the decoder can read later frames into them instead of into fresh memory.
 */
export interface WithPixels<T> {
  result: T;
  pixels: ArrayBuffer[];
}

/** {@link hashFrames}, handing the frames' pixel buffers back. */
export function hashFramesGivingBack(frames: FrameInput[]): WithPixels<ReturnType<typeof hashFrames>> {
  const pixels = frames.map((f) => f.pixels);
  return transfer({ result: hashFrames(frames), pixels }, pixels);
}

/** {@link hashSignatureFrames}, handing the frames' pixel buffers back. */
export function hashSignatureFramesGivingBack(
  frames: SignatureFrameInput[],
  role: VideoSignatureRole,
  dihedral: boolean,
): WithPixels<VideoFrameHashes[]> {
  const pixels = frames.map((f) => f.pixels);
  return transfer({ result: hashSignatureFrames(frames, role, dihedral), pixels }, pixels);
}

/** MMD's video rule on two written signatures (video-rule.ts), off the event loop. */
export function compareVideoSignatures(queryText: string, referenceText: string, options: { maxDistance: number; thin: boolean }) {
  return videoRuleOfText(queryText, referenceText, options);
}
