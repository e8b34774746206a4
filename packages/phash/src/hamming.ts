/** Set bits in each byte value, so byte-wise distance is one table look-up per byte. */
const BYTE_POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_POPCOUNT[i] = (i & 1) + BYTE_POPCOUNT[i >> 1]!;

/** Number of set bits in a 32-bit integer (SWAR; JS has no popcount instruction). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Hamming distance between two equal-length byte arrays (e.g. two 256-bit PDQ hashes).
 * @throws RangeError when the lengths differ.
 */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += BYTE_POPCOUNT[a[i]! ^ b[i]!]!;
  return d;
}
