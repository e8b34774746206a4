import { bytesToHex, hexToBytes } from './hex.ts';

/**
 * A 256-bit perceptual hash as 32 bytes in Meta's hex order: byte 0 is the first two hex digits
 * of the reference tools' output. PDQ bit k (k = 16·row + column of the 16×16 DCT block) is
 * stored in byte `31 - (k >> 3)` at mask `1 << (k & 7)`, so the hex reads as one big-endian
 * 256-bit number whose bit k is PDQ bit k — exactly what the reference prints.
 */
export type Hash256 = Uint8Array;

/** Number of bytes in a {@link Hash256}. */
export const HASH256_BYTES = 32;

/** Returns a zeroed hash. */
export function emptyHash256(): Hash256 {
  return new Uint8Array(HASH256_BYTES);
}

/** Sets PDQ bit k (0..255) of a hash. */
export function setHashBit(hash: Hash256, k: number): void {
  hash[31 - (k >> 3)]! |= 1 << (k & 7);
}

/** Reads PDQ bit k (0..255) of a hash as 0 or 1. */
export function getHashBit(hash: Hash256, k: number): number {
  return (hash[31 - (k >> 3)]! >> (k & 7)) & 1;
}

/** 64-digit lower-case hex, the format Meta's tools and ThreatExchange use. */
export function hash256ToHex(hash: Hash256): string {
  if (hash.length !== HASH256_BYTES) throw new RangeError(`expected 32 bytes, got ${hash.length}`);
  return bytesToHex(hash);
}

/**
 * Parses a 64-digit hex PDQ hash.
 * @throws SyntaxError when the string is not 64 hex digits.
 */
export function hash256FromHex(hex: string): Hash256 {
  if (hex.length !== 64) throw new SyntaxError(`a 256-bit hash needs 64 hex digits, got ${hex.length}`);
  return hexToBytes(hex);
}
