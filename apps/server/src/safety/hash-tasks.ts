/**
 * The CPU-heavy part of screening, run on worker threads (platform/queue thread pool): PDQ at
 * full resolution plus MMD's crop-resistant hash sets for an image, and PDQ per sampled video
 * frame. Pure JavaScript, so on the event loop a 12-megapixel photo would stall every request for
 * about a second. Inputs are raw RGB pixels moved here by transfer; outputs are small strings.
 */
import { hash256ToHex, pdqHash, pdqIntermediate, robustQueryHashes, robustReferenceHashes, coefficientsToHash } from '@mmd/phash';
import type { RobustHashSet } from '@mmd/contracts';
import { encodeRobust } from './hash-codec.ts';

export interface ImageHashResult {
  /** Full-resolution PDQ, as Meta's reference and HMA compute it. */
  pdq: string;
  quality: number;
  /** Hashes an upload is checked with (dihedral variants, tilts, 20 anchors). */
  query: RobustHashSet;
  /** Hashes a bank keeps for a known image (40 anchors). */
  reference: RobustHashSet;
}

export function hashImage(pixels: ArrayBuffer, width: number, height: number): ImageHashResult {
  const image = { data: new Uint8Array(pixels), width, height, channels: 3 as const };
  // One full-resolution pass serves the plain hash and both robust sets.
  const it = pdqIntermediate(image);
  return {
    pdq: hash256ToHex(coefficientsToHash(it.coefficients)),
    quality: it.quality,
    query: encodeRobust(robustQueryHashes(image, it)),
    reference: encodeRobust(robustReferenceHashes(image, it)),
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
