import type { Hash256 } from './hash256.ts';
import { pdqHash } from './pdq.ts';
import type { PixelImage } from './pixel-image.ts';

/*
 * vPDQ (Meta's video PDQ) is a bag of per-frame PDQ hashes. Decoding video is the caller's job
 * (ffmpeg, WebCodecs, …) so this module stays platform-neutral. The reference hashes one frame
 * per second by default (every ⌊fps⌋-th frame; `-vf fps=1` in ffmpeg is the usual stand-in) at the
 * video's own resolution, RGB24.
 */

/** One hashed video frame, as in the reference's `frame,quality,hash,seconds` output. */
export interface VpdqFeature {
  /** Index of the frame in the decoded stream (0-based). */
  readonly frameNumber: number;
  /** PDQ quality 0..100; frames under 50 are ignored when matching. */
  readonly quality: number;
  /** PDQ hash of the frame. */
  readonly hash: Hash256;
  /** Presentation time of the frame in seconds. */
  readonly timestampSeconds: number;
}

/** A decoded frame handed to {@link vpdqHashFrames}. */
export interface DecodedFrame {
  /** Frame pixels. */
  readonly image: PixelImage;
  /** Presentation time in seconds. */
  readonly timestampSeconds: number;
}

/** PDQ-hashes one decoded frame into a vPDQ feature. */
export function vpdqHashFrame(frame: DecodedFrame, frameNumber: number): VpdqFeature {
  const { hash, quality } = pdqHash(frame.image);
  return { frameNumber, quality, hash, timestampSeconds: frame.timestampSeconds };
}

/**
 * Hashes a stream of decoded frames, in order. Accepts sync or async iterables so frames can
 * be hashed as a decoder produces them, without holding the whole video in memory.
 */
export async function vpdqHashFrames(
  frames: Iterable<DecodedFrame> | AsyncIterable<DecodedFrame>,
): Promise<VpdqFeature[]> {
  const out: VpdqFeature[] = [];
  for await (const frame of frames) out.push(vpdqHashFrame(frame, out.length));
  return out;
}
