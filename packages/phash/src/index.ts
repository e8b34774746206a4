/**
 * @mmd/phash — perceptual and exact hashing for MMD's trust & safety, in pure TypeScript with
 * no platform imports: it runs the same in Node, browsers and workers. Callers decode media
 * to raw pixels themselves.
 *
 * - PDQ (Meta's image hash), bit-compatible with the reference at full resolution, with the
 *   8 dihedral variants from one DCT.
 * - vPDQ video matching over per-frame PDQ hashes.
 * - SHA-256 (Web Crypto) and MD5 for exact-file matching.
 * - A multi-index near-duplicate index over 256-bit hashes.
 * - Crop/layout-robust matching built from many PDQ hashes per image.
 * - MMD's own robust video signature and matcher (borders, dihedral variants, regions, and a
 *   timeline tolerant of trims, intros and speed changes), beside plain vPDQ.
 */

export type { BlobAnchor, BlobAnchorOptions } from './blob-anchors.ts';
export { findBlobAnchors } from './blob-anchors.ts';
export { findContentRect } from './content-rect.ts';
export { hammingDistance, popcount32 } from './hamming.ts';
export type { HashIndexOptions, HashMatch } from './hash-index.ts';
export { HashIndex, MIH_MAX_RADIUS } from './hash-index.ts';
export type { Hash256 } from './hash256.ts';
export {
  emptyHash256,
  getHashBit,
  HASH256_BYTES,
  hash256FromHex,
  hash256ToHex,
  setHashBit,
} from './hash256.ts';
export { bytesToHex, hexToBytes } from './hex.ts';
export { IdSlotMap, MAX_ID } from './id-slot-map.ts';
export { boxBlur } from './luma-blur.ts';
export { rotatedRegion } from './luma-rotate.ts';
export { Md5, md5, md5Hex } from './md5.ts';
export type { PdqDihedralResult, PdqIntermediate, PdqResult } from './pdq.ts';
export {
  pdqDihedralFromIntermediate,
  pdqHash,
  pdqHashDihedral,
  pdqIntermediate,
  pdqIntermediateFromLuma,
} from './pdq.ts';
export { coefficientsToHash } from './pdq-bits.ts';
export { dct64To16 } from './pdq-dct.ts';
export type { DihedralTransform } from './pdq-dihedral.ts';
export { DIHEDRAL_TRANSFORMS, transformCoefficients } from './pdq-dihedral.ts';
export type { LumaRegion } from './pdq-downsample.ts';
export {
  PDQ_DOWNSAMPLE_SIZE,
  PDQ_MAX_DIMENSION,
  pdqDownsample,
  pdqDownsampleLuma,
} from './pdq-downsample.ts';
export { imageToLuma } from './pdq-luma.ts';
export { pdqQuality } from './pdq-quality.ts';
export type { PixelImage } from './pixel-image.ts';
export { imageChannels } from './pixel-image.ts';
export type { AnchorHash, AnchorPart, RobustHashes, RobustHashOptions, RobustScheme } from './robust-hashes.ts';
export { ROBUST_PARAMS, ROBUST_SCHEMES, ROBUST_SET_MAX_ANCHORS, robustHashes, robustQueryHashes, robustReferenceHashes, robustSchemeOf, robustSetVersion } from './robust-hashes.ts';
export type { RobustMatch, RobustMatchOptions } from './robust-match.ts';
export { matchRobust, matchRoute, queryPlainHashes, wholeMatchBeyondPlain } from './robust-match.ts';
export { sha256, sha256Hex } from './sha256.ts';
export type { VideoMatch, VideoMatchOptions } from './video-match.ts';
export { matchVideo } from './video-match.ts';
export type { VideoFrameHashes, VideoSignature, VideoSignatureRole } from './video-signature.ts';
export {
  mergeFrames,
  VIDEO_SIGNATURE_PARAMS,
  videoFrameHashes,
  videoFrameHasAnchors,
  referenceFromQuery,
  videoSampleRate,
  videoSampledFrameCount,
  videoSignature,
  withoutVariants,
} from './video-signature.ts';
export {
  decodeVideoSignature,
  encodeVideoSignature,
  MAX_SIGNATURE_ENTRIES,
  MAX_SIGNATURE_FRAMES,
  videoSignatureIndexHashes,
} from './video-signature-format.ts';
export type { DecodedFrame, VpdqFeature } from './vpdq.ts';
export { vpdqHashFrame, vpdqHashFrames } from './vpdq.ts';
export { formatVpdq, parseVpdq } from './vpdq-format.ts';
export type { VpdqDecisionOptions, VpdqMatchOptions, VpdqMatchResult } from './vpdq-match.ts';
export { isVpdqMatch, matchVpdq } from './vpdq-match.ts';
export type { LumaPlane } from './working-image.ts';
export { shrinkLuma, shrinkPlane, workingLuma } from './working-image.ts';
