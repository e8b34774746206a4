import type { Hash256 } from './hash256.ts';
import { emptyHash256, setHashBit } from './hash256.ts';

/**
 * Thresholds 16×16 DCT coefficients at their median: bit k = 16·row + column is 1 when that
 * coefficient is strictly greater than the median. The median is the 128th smallest value (the
 * lower median), which is what the reference's Torben selection returns for 256 values; ties
 * at the median therefore become 0 bits.
 */
export function coefficientsToHash(coeffs: Float32Array, median = coefficientsMedian(coeffs)): Hash256 {
  const hash = emptyHash256();
  for (let k = 0; k < 256; k++) if (coeffs[k]! > median) setHashBit(hash, k);
  return hash;
}

/**
 * The lower median of the 256 coefficients, {@link coefficientsToHash}'s threshold: the same for
 * any reordering of them (a transposed block), so callers hashing several orderings sort once.
 */
export function coefficientsMedian(coeffs: Float32Array): number {
  return coeffs.slice(0, 256).sort()[127]!;
}
