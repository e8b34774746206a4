import { CHUNK_VALUES, CHUNKS, chunkAt, POPCOUNT16 } from './mih-chunks.ts';

/*
 * The bulk of a multi-index: for each of the 16 chunks, every slot sorted by that chunk's value
 * (counting sort), so each 65 536-way bucket is one contiguous run — scanning a bucket is
 * sequential memory, which is what makes MIH fast. Per slot and chunk it stores the slot number
 * (4 bytes) and the next chunk's value (2 bytes) for the pigeonring filter: 96 bytes per hash.
 * Immutable once built; the index adds new hashes to a small delta table and rebuilds this.
 */
export class MihStaticTable {
  /** Number of slots covered (slots 0..count-1). */
  readonly count: number;
  private readonly offsets: Uint32Array;
  private readonly slots: Uint32Array;
  private readonly nextChunks: Uint16Array;

  /** Builds the table over slots 0..count-1 of `words` (8 words per slot). */
  constructor(words: Uint32Array, count: number) {
    this.count = count;
    const offsets = new Uint32Array(CHUNKS * (CHUNK_VALUES + 1));
    const slots = new Uint32Array(CHUNKS * count);
    const nextChunks = new Uint16Array(CHUNKS * count);
    const cursor = new Uint32Array(CHUNK_VALUES);
    // Counting sort per chunk. Keys are gathered into flat arrays first so the passes over
    // them are sequential; only the final scatter writes at random.
    let keys = new Uint16Array(count);
    let nextKeys = new Uint16Array(count);
    for (let s = 0; s < count; s++) keys[s] = chunkAt(words, s * 8, 0);
    for (let c = 0; c < CHUNKS; c++) {
      const next = (c + 1) % CHUNKS;
      for (let s = 0; s < count; s++) nextKeys[s] = chunkAt(words, s * 8, next);
      const o = c * (CHUNK_VALUES + 1);
      for (let s = 0; s < count; s++) offsets[o + keys[s]! + 1]!++;
      for (let v = 0; v < CHUNK_VALUES; v++) offsets[o + v + 1]! += offsets[o + v]!;
      cursor.set(offsets.subarray(o, o + CHUNK_VALUES));
      const e = c * count;
      for (let s = 0; s < count; s++) {
        const at = e + cursor[keys[s]!]!++;
        slots[at] = s;
        nextChunks[at] = nextKeys[s]!;
      }
      [keys, nextKeys] = [nextKeys, keys];
    }
    this.offsets = offsets;
    this.slots = slots;
    this.nextChunks = nextChunks;
  }

  /** Bytes held by the table's arrays. */
  get byteLength(): number {
    return this.offsets.byteLength + this.slots.byteLength + this.nextChunks.byteLength;
  }

  /**
   * Calls `visit(slot)` for every slot whose chunk `c` lies in bucket `key` and that passes the
   * pigeonring filter: `keyDistance` (distance of `key` from the query's chunk) plus the
   * distance of its next chunk from `queryNext` is at most `pairBound`.
   */
  scanBucket(
    c: number,
    probe: { key: number; keyDistance: number; queryNext: number; pairBound: number },
    visit: (slot: number) => void,
  ): void {
    const o = c * (CHUNK_VALUES + 1) + probe.key;
    const base = c * this.count;
    const end = base + this.offsets[o + 1]!;
    const budget = probe.pairBound - probe.keyDistance;
    const { queryNext } = probe;
    const { nextChunks, slots } = this;
    for (let e = base + this.offsets[o]!; e < end; e++) {
      if (POPCOUNT16[nextChunks[e]! ^ queryNext]! <= budget) visit(slots[e]!);
    }
  }
}
