import { popcount32 } from './hamming.ts';
import type { Hash256 } from './hash256.ts';
import { IdSlotMap, MAX_ID } from './id-slot-map.ts';
import { CHUNKS, chunkAt, packHashWords, probePlan, WORDS } from './mih-chunks.ts';
import { MihDeltaTable } from './mih-delta-table.ts';
import { MihStaticTable } from './mih-static-table.ts';

/** One search result. */
export interface HashMatch {
  /** Caller's id of the stored hash. */
  readonly id: number;
  /** Hamming distance from the query. */
  readonly distance: number;
}

/** Tuning for {@link HashIndex}. */
export interface HashIndexOptions {
  /** Hashes to allocate for up front. */
  readonly initialCapacity?: number;
  /**
   * Rebuild the static table once this many hashes sit in the delta table. Default
   * max(65 536, size / 8): small enough to keep the delta fast, and proportional so that bulk
   * loading costs O(n) amortised.
   */
  readonly rebuildThreshold?: number;
}

/** Largest radius answered by multi-index look-up; larger radii fall back to a linear scan. */
export const MIH_MAX_RADIUS = 31;

/**
 * Near-duplicate index for 256-bit hashes (PDQ): exact Hamming-radius search by multi-index
 * hashing, with results identical to a linear scan. Hashes live in typed arrays (about 150
 * bytes per hash: 32 for the hash, 96 for the 16 chunk tables, the rest ids and the id map),
 * never one JS object per hash. Look-ups touch 272 buckets (16 chunks × 17 probes); uniformly
 * random data spreads evenly over them, real PDQ data clusters and fills some buckets more,
 * so expect slower look-ups on skewed collections (see scripts/index-speed.ts --skewed).
 *
 * Adds go to a small linked-list delta table and are searchable immediately; removes mark the
 * slot dead. Both are folded in by a rebuild once the delta grows (see
 * {@link HashIndexOptions.rebuildThreshold}) or on {@link HashIndex.compact}.
 */
export class HashIndex {
  private words: Uint32Array;
  private ids: Uint32Array;
  private alive: Uint8Array;
  private slotCount = 0;
  private liveCount = 0;
  private readonly idToSlot: IdSlotMap;
  private table: MihStaticTable;
  private delta: MihDeltaTable;
  private readonly fixedThreshold: number | undefined;

  /** Creates an empty index. */
  constructor(options: HashIndexOptions = {}) {
    const capacity = Math.max(1024, options.initialCapacity ?? 0);
    this.words = new Uint32Array(capacity * WORDS);
    this.ids = new Uint32Array(capacity);
    this.alive = new Uint8Array(capacity);
    this.idToSlot = new IdSlotMap(options.initialCapacity ?? 1024);
    this.fixedThreshold = options.rebuildThreshold;
    this.table = new MihStaticTable(this.words, 0);
    this.delta = new MihDeltaTable(0);
  }

  /** Number of hashes stored. */
  get size(): number {
    return this.liveCount;
  }

  /** Bytes held in typed arrays (hashes, ids, id map and both tables). */
  get byteLength(): number {
    return (
      this.words.byteLength +
      this.idToSlot.byteLength +
      this.ids.byteLength +
      this.alive.byteLength +
      this.table.byteLength +
      this.delta.byteLength
    );
  }

  /** Whether a hash is stored under this id. */
  has(id: number): boolean {
    return this.idToSlot.get(id) >= 0;
  }

  /**
   * Stores a hash under a caller-chosen id (an integer 0..2^32 − 2, e.g. a database row id).
   * @throws RangeError for a bad id or hash length; Error when the id is already present.
   */
  add(id: number, hash: Hash256): void {
    const slot = this.store(id, hash);
    this.delta.add(this.words, slot);
    const threshold = this.fixedThreshold ?? Math.max(65536, this.liveCount >> 3);
    if (this.delta.size >= threshold) this.compact();
  }

  /**
   * Adds many hashes with a single rebuild at the end — the fast way to load an index
   * (incremental {@link HashIndex.add} pays for periodic rebuilds). Same checks as `add`; on
   * error, the entries before the bad one are kept.
   */
  addMany(entries: Iterable<readonly [id: number, hash: Hash256]>): void {
    try {
      for (const [id, hash] of entries) this.store(id, hash);
    } finally {
      this.compact();
    }
  }

  /** Validates and appends a hash to the slot arrays (not yet to any table); returns its slot. */
  private store(id: number, hash: Hash256): number {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID)
      throw new RangeError(`id must be an integer 0..${MAX_ID}`);
    if (hash.length !== 32) throw new RangeError(`expected a 32-byte hash, got ${hash.length}`);
    if (this.idToSlot.get(id) >= 0) throw new Error(`id ${id} is already in the index`);
    if (this.slotCount === this.ids.length) this.grow();
    const slot = this.slotCount++;
    packHashWords(hash, this.words, slot * WORDS);
    this.ids[slot] = id;
    this.alive[slot] = 1;
    this.idToSlot.set(id, slot);
    this.liveCount++;
    return slot;
  }

  /** Removes the hash stored under an id; returns whether there was one. */
  remove(id: number): boolean {
    const slot = this.idToSlot.get(id);
    if (slot < 0) return false;
    this.idToSlot.delete(id);
    this.alive[slot] = 0;
    this.liveCount--;
    // Dead slots still occupy the tables; reclaim them once they are a quarter of all slots.
    if (this.slotCount - this.liveCount > Math.max(65536, this.slotCount >> 2)) this.compact();
    return true;
  }

  /**
   * All stored hashes within Hamming distance `maxDistance` (default 31, PDQ's match
   * threshold) of the query, nearest first (ties by id). Exact: the same set a linear scan
   * finds. Radii above 31 are answered by a linear scan.
   */
  search(query: Hash256, maxDistance = MIH_MAX_RADIUS): HashMatch[] {
    if (!Number.isInteger(maxDistance) || maxDistance < 0)
      throw new RangeError('maxDistance must be a non-negative integer');
    if (maxDistance > MIH_MAX_RADIUS) return this.searchLinear(query, maxDistance);
    const q = new Uint32Array(WORDS);
    packHashWords(query, q, 0);
    const { chunkRadius, pairBound } = probePlan(maxDistance);
    const found: number[] = [];
    const { words, alive } = this;
    // Candidates are verified straight away; the few true matches reached through more than
    // one chunk are de-duplicated at the end, which is cheaper than touching a per-slot
    // "seen" array (one more cache miss) for every candidate.
    const visit = (slot: number): void => {
      const b = slot * WORDS;
      let d = 0;
      for (let w = 0; w < WORDS; w++) d += popcount32(words[b + w]! ^ q[w]!);
      if (d <= maxDistance && alive[slot]) found.push(slot, d);
    };
    const hasDelta = this.delta.size > 0;
    for (let c = 0; c < CHUNKS; c++) {
      const key = chunkAt(q, 0, c);
      const probe = { key, keyDistance: 0, queryNext: chunkAt(q, 0, (c + 1) % CHUNKS), pairBound };
      this.table.scanBucket(c, probe, visit);
      if (hasDelta) this.delta.scanBucket(words, c, probe, visit);
      if (chunkRadius === 1) {
        probe.keyDistance = 1;
        for (let bit = 0; bit < 16; bit++) {
          probe.key = key ^ (1 << bit);
          this.table.scanBucket(c, probe, visit);
          if (hasDelta) this.delta.scanBucket(words, c, probe, visit);
        }
      }
    }
    const matches: HashMatch[] = [];
    for (let i = 0; i < found.length; i += 2)
      matches.push({ id: this.ids[found[i]!]!, distance: found[i + 1]! });
    matches.sort(byDistanceThenId);
    return matches.filter((m, i) => i === 0 || m.id !== matches[i - 1]!.id);
  }

  /** Reference linear scan over every stored hash; same contract as {@link HashIndex.search}. */
  searchLinear(query: Hash256, maxDistance = MIH_MAX_RADIUS): HashMatch[] {
    const q = new Uint32Array(WORDS);
    packHashWords(query, q, 0);
    const [q0, q1, q2, q3, q4, q5, q6, q7] = q as unknown as number[];
    const { words, alive, ids } = this;
    const matches: HashMatch[] = [];
    for (let s = 0, b = 0; s < this.slotCount; s++, b += WORDS) {
      const d =
        popcount32(words[b]! ^ q0!) +
        popcount32(words[b + 1]! ^ q1!) +
        popcount32(words[b + 2]! ^ q2!) +
        popcount32(words[b + 3]! ^ q3!) +
        popcount32(words[b + 4]! ^ q4!) +
        popcount32(words[b + 5]! ^ q5!) +
        popcount32(words[b + 6]! ^ q6!) +
        popcount32(words[b + 7]! ^ q7!);
      if (d <= maxDistance && alive[s]) matches.push({ id: ids[s]!, distance: d });
    }
    return matches.sort(byDistanceThenId);
  }

  /**
   * Folds the delta table into the static table and drops removed hashes. Runs automatically;
   * call it after a bulk load to make the following searches as fast as possible.
   */
  compact(): void {
    let live = 0;
    for (let s = 0; s < this.slotCount; s++) {
      if (!this.alive[s]) continue;
      if (live !== s) {
        this.words.copyWithin(live * WORDS, s * WORDS, (s + 1) * WORDS);
        this.ids[live] = this.ids[s]!;
        this.alive[live] = 1;
      }
      live++;
    }
    this.alive.fill(0, live, this.slotCount);
    this.slotCount = live;
    this.idToSlot.clear();
    for (let s = 0; s < live; s++) this.idToSlot.set(this.ids[s]!, s);
    this.table = new MihStaticTable(this.words, live);
    this.delta = new MihDeltaTable(live);
  }

  private grow(): void {
    const capacity = this.ids.length * 2;
    const words = new Uint32Array(capacity * WORDS);
    words.set(this.words);
    const ids = new Uint32Array(capacity);
    ids.set(this.ids);
    const alive = new Uint8Array(capacity);
    alive.set(this.alive);
    this.words = words;
    this.ids = ids;
    this.alive = alive;
  }
}

function byDistanceThenId(a: HashMatch, b: HashMatch): number {
  return a.distance - b.distance || a.id - b.id;
}
