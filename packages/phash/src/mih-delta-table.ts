import { CHUNK_VALUES, CHUNKS, chunkAt, POPCOUNT16 } from './mih-chunks.ts';

/*
 * Recently added hashes, searchable at once with O(1) insertion: per chunk, 65 536 bucket
 * heads and a "next" link per slot (singly linked lists in typed arrays). Linked lists mean a
 * cache miss per entry, so this only stays fast while small; the index folds it into the
 * static table (a rebuild) once it grows.
 */
export class MihDeltaTable {
  private readonly heads = new Int32Array(CHUNKS * CHUNK_VALUES).fill(-1);
  private links = new Int32Array(CHUNKS * 1024);
  private capacity = 1024;
  private count = 0;

  /** @param firstSlot slot number of the first hash this table holds */
  constructor(readonly firstSlot: number) {}

  /** Number of slots held. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table's arrays. */
  get byteLength(): number {
    return this.heads.byteLength + this.links.byteLength;
  }

  /** Adds the next slot (must be `firstSlot + size`), whose hash is already in `words`. */
  add(words: Uint32Array, slot: number): void {
    if (slot !== this.firstSlot + this.count) throw new Error('delta slots must be added in order');
    if (this.count === this.capacity) {
      // Links are laid out chunk-major, so growing re-spaces each chunk's run.
      const grown = new Int32Array(CHUNKS * this.capacity * 2);
      for (let c = 0; c < CHUNKS; c++) {
        grown.set(this.links.subarray(c * this.capacity, (c + 1) * this.capacity), c * this.capacity * 2);
      }
      this.links = grown;
      this.capacity *= 2;
    }
    const local = this.count++;
    for (let c = 0; c < CHUNKS; c++) {
      const h = c * CHUNK_VALUES + chunkAt(words, slot * 8, c);
      this.links[c * this.capacity + local] = this.heads[h]!;
      this.heads[h] = local;
    }
  }

  /** Same contract as {@link MihStaticTable.scanBucket}, reading next chunks from `words`. */
  scanBucket(
    words: Uint32Array,
    c: number,
    probe: { key: number; keyDistance: number; queryNext: number; pairBound: number },
    visit: (slot: number) => void,
  ): void {
    const budget = probe.pairBound - probe.keyDistance;
    const next = (c + 1) % CHUNKS;
    const linkBase = c * this.capacity;
    for (
      let local = this.heads[c * CHUNK_VALUES + probe.key]!;
      local >= 0;
      local = this.links[linkBase + local]!
    ) {
      const slot = this.firstSlot + local;
      if (POPCOUNT16[chunkAt(words, slot * 8, next) ^ probe.queryNext]! <= budget) visit(slot);
    }
  }
}
