import type { Hash256 } from './hash256.ts';
import { coefficientsMedian, coefficientsToHash } from './pdq-bits.ts';
import { dct64To16 } from './pdq-dct.ts';
import type { DihedralTransform } from './pdq-dihedral.ts';
import { DIHEDRAL_TRANSFORMS, dihedralSignKey, transformCoefficients } from './pdq-dihedral.ts';
import type { LumaRegion } from './pdq-downsample.ts';
import { pdqDownsample, pdqDownsample64InPlace, pdqDownsampleLuma } from './pdq-downsample.ts';
import { pdqQuality } from './pdq-quality.ts';
import type { PixelImage } from './pixel-image.ts';

/** A PDQ hash with its quality (0..100; below 50 is too featureless to match on). */
export interface PdqResult {
  /** 256-bit hash in Meta's byte/hex order. */
  readonly hash: Hash256;
  /** Gradient-based quality, 0..100. */
  readonly quality: number;
}

/** Hashes of all 8 dihedral variants of one image, sharing one quality. */
export interface PdqDihedralResult {
  /** Hash of the image as if transformed by each dihedral transform. */
  readonly hashes: Readonly<Record<DihedralTransform, Hash256>>;
  /** Quality of the image (identical for every variant). */
  readonly quality: number;
}

/**
 * Everything PDQ derives from one image before thresholding; exposed so callers that need
 * both the plain and dihedral hashes pay for the downsample and DCT once.
 */
export interface PdqIntermediate {
  /** 16×16 DCT coefficients (row-major). */
  readonly coefficients: Float32Array;
  /** Quality 0..100. */
  readonly quality: number;
}

/**
 * Runs PDQ up to the DCT: full-resolution luma, Jarosz tent-filter downsample to 64×64,
 * quality, and the 16×16 DCT. Input is hashed at full resolution, as Meta's Java tool and
 * Hasher-Matcher-Actioner do (the C++ tool first shrinks to 512 px, which moves a few bits).
 */
export function pdqIntermediate(image: PixelImage): PdqIntermediate {
  const small = pdqDownsample(image);
  return { coefficients: dct64To16(small), quality: pdqQuality(small) };
}

/**
 * PDQ of a rectangle of a precomputed luma plane (row-major, `stride` wide), e.g. a shrunken
 * working copy of a photo whose many regions are hashed. Same algorithm as {@link pdqHash}
 * from the luma step on.
 */
export function pdqIntermediateFromLuma(
  luma: Float32Array,
  stride: number,
  region: LumaRegion,
): PdqIntermediate {
  const small = pdqDownsampleLuma(luma, stride, region);
  return { coefficients: dct64To16(small), quality: pdqQuality(small) };
}

/**
 * {@link pdqIntermediateFromLuma} of a whole 64×64 plane, which it overwrites (no copy): for
 * regions sampled into a buffer of their own, e.g. blob-anchored regions.
 */
export function pdqIntermediateOf64(plane: Float32Array): PdqIntermediate {
  const small = pdqDownsample64InPlace(plane);
  return { coefficients: dct64To16(small), quality: pdqQuality(small) };
}

/** PDQ hash and quality of an image (RGB, RGBA, grey or grey+alpha pixels). */
export function pdqHash(image: PixelImage): PdqResult {
  const { coefficients, quality } = pdqIntermediate(image);
  return { hash: coefficientsToHash(coefficients), quality };
}

/**
 * PDQ hashes of the 8 rotations/mirrors of an image from a single downsample and DCT; store
 * or query these to catch rotated and mirrored copies.
 */
export function pdqHashDihedral(image: PixelImage): PdqDihedralResult {
  return pdqDihedralFromIntermediate(pdqIntermediate(image));
}

/** Dihedral hashes from an already computed {@link PdqIntermediate}. */
export function pdqDihedralFromIntermediate({ coefficients, quality }: PdqIntermediate): PdqDihedralResult {
  const hashes = {} as Record<DihedralTransform, Hash256>;
  // A transpose only reorders the block, so each of the 4 sign patterns is sorted once, not twice.
  const medians: number[] = [];
  for (const t of DIHEDRAL_TRANSFORMS) {
    const block = transformCoefficients(coefficients, t);
    const key = dihedralSignKey(t);
    medians[key] ??= coefficientsMedian(block);
    hashes[t] = coefficientsToHash(block, medians[key]);
  }
  return { hashes, quality };
}
