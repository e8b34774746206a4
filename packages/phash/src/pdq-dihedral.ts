/*
 * Hashes of an image's 8 rotations/mirrors come almost free from one DCT. Mirroring a signal
 * of length 64 multiplies its k-th DCT-II coefficient by (-1)^k; PDQ keeps k = 1..16, stored at
 * index k - 1, so a mirror negates the coefficients at even indices. Transposing the image
 * transposes the coefficient block. Rotations are a mirror plus a transpose.
 */

/** Meta's names for the 8 dihedral transforms, in the reference's output order. */
export const DIHEDRAL_TRANSFORMS = [
  'original',
  'rotate90',
  'rotate180',
  'rotate270',
  'flipX',
  'flipY',
  'flipPlus1',
  'flipMinus1',
] as const;

/** One of the 8 dihedral transforms (rotations by 90° steps, mirrors, diagonal flips). */
export type DihedralTransform = (typeof DIHEDRAL_TRANSFORMS)[number];

interface Recipe {
  /** Image mirrored top↔bottom: negate coefficients whose row index is even. */
  readonly mirrorRows: boolean;
  /** Image mirrored left↔right: negate coefficients whose column index is even. */
  readonly mirrorCols: boolean;
  /** Then transpose the block. */
  readonly transpose: boolean;
}

// Meta's "flipX" mirrors top↔bottom (about the x axis) and "flipY" left↔right; the rotations
// are counter-clockwise in the reference's naming. Checked against dihedral-reference.csv.
const RECIPES: Record<DihedralTransform, Recipe> = {
  original: { mirrorRows: false, mirrorCols: false, transpose: false },
  rotate90: { mirrorRows: false, mirrorCols: true, transpose: true },
  rotate180: { mirrorRows: true, mirrorCols: true, transpose: false },
  rotate270: { mirrorRows: true, mirrorCols: false, transpose: true },
  flipX: { mirrorRows: true, mirrorCols: false, transpose: false },
  flipY: { mirrorRows: false, mirrorCols: true, transpose: false },
  flipPlus1: { mirrorRows: false, mirrorCols: false, transpose: true },
  flipMinus1: { mirrorRows: true, mirrorCols: true, transpose: true },
};

/** The 16×16 coefficient block of the transformed image, from the original's block. */
export function transformCoefficients(coeffs: Float32Array, transform: DihedralTransform): Float32Array {
  const { mirrorRows, mirrorCols, transpose } = RECIPES[transform];
  const out = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      const negate = (mirrorRows && (i & 1) === 0) !== (mirrorCols && (j & 1) === 0);
      const v = coeffs[i * 16 + j]!;
      out[transpose ? j * 16 + i : i * 16 + j] = negate ? -v : v;
    }
  }
  return out;
}

/**
 * Which coefficients a transform negates, as a key: transforms with the same key (a transform
 * and its transpose) hold the same values in another order, so they share a median.
 */
export function dihedralSignKey(transform: DihedralTransform): number {
  const { mirrorRows, mirrorCols } = RECIPES[transform];
  return (mirrorRows ? 2 : 0) + (mirrorCols ? 1 : 0);
}
