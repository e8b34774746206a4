/*
 * A uint32 → uint32 hash map in two typed arrays (open addressing, linear probing,
 * backward-shift deletion so no tombstones accumulate). A JS Map would cost tens of bytes per
 * entry and tops out at 2^24 entries; this costs 16 bytes per entry at its worst load.
 */

const EMPTY = 0xffffffff;

/** Largest key the map accepts; 2^32 − 1 marks empty cells. */
export const MAX_ID = 0xfffffffe;

/** Compact map from caller ids (uint32) to internal slot numbers. */
export class IdSlotMap {
  private keys: Uint32Array;
  private values: Uint32Array;
  private mask: number;
  private count = 0;

  /** @param expected number of entries to size for without growing */
  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Uint32Array(cap).fill(EMPTY);
    this.values = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the map's arrays. */
  get byteLength(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  /** Home cell of a key: Fibonacci hashing spreads sequential ids. */
  private home(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
  }

  /** Value for a key, or -1 when absent. */
  get(key: number): number {
    const { keys, mask } = this;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === EMPTY) return -1;
    }
  }

  /** Inserts or overwrites. Keys must be integers in 0..{@link MAX_ID}. */
  set(key: number, value: number): void {
    if (this.count * 2 >= this.keys.length) this.grow();
    const { keys, mask } = this;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key || k === EMPTY) {
        if (k === EMPTY) this.count++;
        keys[i] = key;
        this.values[i] = value;
        return;
      }
    }
  }

  /** Removes a key; returns whether it was present. */
  delete(key: number): boolean {
    const { keys, values, mask } = this;
    let i = this.home(key);
    while (keys[i] !== key) {
      if (keys[i] === EMPTY) return false;
      i = (i + 1) & mask;
    }
    // Backward-shift: pull later entries of the probe run into the hole when their home
    // position allows, so lookups never need tombstones.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      const h = this.home(keys[j]!);
      const between = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (!between) {
        keys[hole] = keys[j]!;
        values[hole] = values[j]!;
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.count--;
    return true;
  }

  /** Removes everything, keeping the allocation. */
  clear(): void {
    this.keys.fill(EMPTY);
    this.count = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Uint32Array(oldKeys.length * 2).fill(EMPTY);
    this.values = new Uint32Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.set(oldKeys[i]!, oldValues[i]!);
  }
}
