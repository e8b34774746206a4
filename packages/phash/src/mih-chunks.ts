/*
 * Multi-index hashing splits a 256-bit hash into 16 chunks of 16 bits. Why 16×16: if two
 * hashes are within distance r ≤ 31, the pigeonhole principle puts at least one chunk within
 * distance ⌊r/16⌋ ≤ 1, i.e. 17 look-ups of a 65 536-bucket table per chunk — direct array
 * indexing, no hashing. 32 chunks of 8 bits need only exact matches but their 256 buckets each
 * hold 1/256 of the data; 8 chunks of 32 bits need 5 489 probes each into sparse tables.
 */

/** Chunks per hash. */
export const CHUNKS = 16;
/** Distinct values of a chunk. */
export const CHUNK_VALUES = 65536;
/** 32-bit words per 256-bit hash. */
export const WORDS = 8;

/** Set bits of every 16-bit value: one L2-resident table look-up per chunk distance. */
export const POPCOUNT16 = (() => {
  const t = new Uint8Array(CHUNK_VALUES);
  for (let i = 1; i < CHUNK_VALUES; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

/** Chunk c (0..15) of the hash stored at `words[base..base+8)`: high half of word c/2 first. */
export function chunkAt(words: Uint32Array, base: number, c: number): number {
  const w = words[base + (c >> 1)]!;
  return c & 1 ? w & 0xffff : w >>> 16;
}

/** Packs 32 hash bytes into 8 big-endian 32-bit words at `out[base..base+8)`. */
export function packHashWords(hash: Uint8Array, out: Uint32Array, base: number): void {
  for (let w = 0; w < WORDS; w++) {
    out[base + w] =
      ((hash[4 * w]! << 24) | (hash[4 * w + 1]! << 16) | (hash[4 * w + 2]! << 8) | hash[4 * w + 3]!) >>> 0;
  }
}

/**
 * Candidate filter from the pigeonring principle (Qin et al., VLDB 2018), stronger than
 * pigeonhole at no extra look-ups: when the total distance is ≤ r over 16 chunks arranged in a
 * ring, some chunk c has d(c) ≤ r/16 AND d(c) + d(c+1) ≤ 2r/16. Each bucket entry carries the
 * next chunk's value inline, so a random non-match (≈99% at r = 31) is rejected from the
 * bucket's own sequential memory instead of a cache miss on its full hash.
 */
export interface ProbePlan {
  /** Maximum distance allowed in the probed chunk: ⌊r/16⌋. */
  readonly chunkRadius: number;
  /** Maximum distance allowed over the probed chunk plus the next one: ⌊2r/16⌋. */
  readonly pairBound: number;
}

/** Probe plan for a query radius 0..31. */
export function probePlan(radius: number): ProbePlan {
  return { chunkRadius: Math.floor(radius / CHUNKS), pairBound: Math.floor((2 * radius) / CHUNKS) };
}
