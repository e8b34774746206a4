/** Test/benchmark helpers: deterministic random 256-bit hashes and near-duplicates. */
import type { Hash256 } from '../src/hash256.ts';

/** Small seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random hash. */
export function randomHash(next: () => number): Hash256 {
  const h = new Uint8Array(32);
  for (let i = 0; i < 32; i++) h[i] = Math.floor(next() * 256);
  return h;
}

/** A copy of `hash` with exactly `bits` distinct bits flipped. */
export function flipBits(hash: Hash256, bits: number, next: () => number): Hash256 {
  const out = Uint8Array.from(hash);
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Math.floor(next() * 256));
  for (const k of chosen) out[k >> 3]! ^= 1 << (k & 7);
  return out;
}
