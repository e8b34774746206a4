/**
 * A near-duplicate index over groups of hashes: one group per bank signal or stored upload (an
 * image brings ~25 hashes for crop-resistant matching, a video a sample of frames). Built on
 * @mmd/phash's HashIndex (multi-index hashing, exact to distance 31); hash ids are handed out
 * here, consecutively per group, so a group is two numbers and owners are one typed array.
 */
import { type Hash256, HashIndex } from '@mmd/phash';

/** Hashes per group at most: the range of ids a group owns is kept as start·GROUP_SPAN + count. */
const GROUP_SPAN = 256;

export class GroupIndex {
  private readonly index = new HashIndex();
  /** hash id → group id. */
  private owners = new Uint32Array(4096);
  /** group id → start·GROUP_SPAN + count. */
  private readonly groups = new Map<number, number>();
  private nextHashId = 0;

  /** Groups stored. */
  get size(): number {
    return this.groups.size;
  }

  /** Hashes stored. */
  get hashCount(): number {
    return this.index.size;
  }

  has(group: number): boolean {
    return this.groups.has(group);
  }

  /** Stores a group's hashes (at most 256; more are ignored). A group already present is left alone. */
  add(group: number, hashes: readonly Hash256[]): void {
    const ids = this.allot(group, hashes);
    for (const [id, hash] of ids) this.index.add(id, hash);
  }

  /** Adds many groups with one index rebuild: the fast way to load at start. */
  addMany(entries: Iterable<readonly [group: number, hashes: readonly Hash256[]]>): void {
    const self = this;
    this.index.addMany(
      (function* () {
        for (const [group, hashes] of entries) yield* self.allot(group, hashes);
      })(),
    );
  }

  remove(group: number): boolean {
    const packed = this.groups.get(group);
    if (packed === undefined) return false;
    this.groups.delete(group);
    const start = Math.floor(packed / GROUP_SPAN);
    for (let id = start, end = start + (packed % GROUP_SPAN); id < end; id++) this.index.remove(id);
    return true;
  }

  /** Every group with a hash within `maxDistance` (≤ 31) of any query hash, with its best distance. */
  search(queries: Iterable<Hash256>, maxDistance: number): Map<number, number> {
    const found = new Map<number, number>();
    for (const q of queries) {
      for (const m of this.index.search(q, maxDistance)) {
        const group = this.owners[m.id]!;
        const best = found.get(group);
        if (best === undefined || m.distance < best) found.set(group, m.distance);
      }
    }
    return found;
  }

  private allot(group: number, hashes: readonly Hash256[]): Array<[number, Hash256]> {
    if (this.groups.has(group) || hashes.length === 0) return [];
    const list = hashes.slice(0, GROUP_SPAN - 1);
    const start = this.nextHashId;
    this.nextHashId += list.length;
    while (this.owners.length < this.nextHashId) {
      const grown = new Uint32Array(this.owners.length * 2);
      grown.set(this.owners);
      this.owners = grown;
    }
    this.owners.fill(group, start, start + list.length);
    this.groups.set(group, start * GROUP_SPAN + list.length);
    return list.map((h, k) => [start + k, h]);
  }
}
