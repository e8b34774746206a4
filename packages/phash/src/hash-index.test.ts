import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flipBits, randomHash, rng } from '../test/random-hashes.ts';
import { hammingDistance } from './hamming.ts';
import { HashIndex } from './hash-index.ts';
import type { Hash256 } from './hash256.ts';
import { IdSlotMap } from './id-slot-map.ts';

/** Independent brute force over a plain id → hash map, nearest first. */
function bruteForce(stored: Map<number, Hash256>, query: Hash256, radius: number) {
  const out: Array<{ id: number; distance: number }> = [];
  for (const [id, h] of stored) {
    const distance = hammingDistance(h, query);
    if (distance <= radius) out.push({ id, distance });
  }
  return out.sort((a, b) => a.distance - b.distance || a.id - b.id);
}

test('finds exactly what a linear scan finds, at every radius 0..31, on random and near-duplicate data', () => {
  const next = rng(1);
  const index = new HashIndex();
  const stored = new Map<number, Hash256>();
  const queries: Hash256[] = [];
  for (let i = 0; i < 20000; i++) {
    const h = randomHash(next);
    index.add(i, h);
    stored.set(i, h);
  }
  // Near-duplicates at every distance around 0..40 of some stored hashes, plus their queries.
  let id = 100000;
  for (let q = 0; q < 40; q++) {
    const base = stored.get(q * 7)!;
    for (let bits = 0; bits <= 40; bits += 1 + (q % 3)) {
      const h = flipBits(base, bits, next);
      index.add(id, h);
      stored.set(id++, h);
    }
    queries.push(flipBits(base, q % 20, next), randomHash(next));
  }
  index.compact();
  for (const query of queries) {
    const all = bruteForce(stored, query, 31);
    assert.deepEqual(
      index.searchLinear(query, 31),
      all.filter((m) => m.distance <= 31),
    );
    for (let radius = 0; radius <= 31; radius++) {
      assert.deepEqual(
        index.search(query, radius),
        all.filter((m) => m.distance <= radius),
        `radius ${radius}`,
      );
    }
  }
});

test('stays exact on clustered data (many hashes near one another)', () => {
  const next = rng(2);
  const index = new HashIndex({ rebuildThreshold: 500 });
  const stored = new Map<number, Hash256>();
  const centres = Array.from({ length: 5 }, () => randomHash(next));
  for (let i = 0; i < 3000; i++) {
    const h = flipBits(centres[i % 5]!, Math.floor(next() * 24), next);
    index.add(i, h);
    stored.set(i, h);
  }
  for (const c of centres) {
    const query = flipBits(c, 6, next);
    for (const radius of [10, 20, 31]) {
      const expected = bruteForce(stored, query, radius);
      assert.ok(expected.length > 100);
      assert.deepEqual(index.search(query, radius), expected);
    }
  }
});

test('adds and removes are visible immediately, before and after rebuilds', () => {
  const next = rng(3);
  const index = new HashIndex({ rebuildThreshold: 64 });
  const stored = new Map<number, Hash256>();
  const anchor = randomHash(next);
  for (let step = 0; step < 3000; step++) {
    const r = next();
    if (r < 0.6 || stored.size === 0) {
      const id = Math.floor(next() * 1e9);
      if (stored.has(id)) continue;
      const h = next() < 0.3 ? flipBits(anchor, Math.floor(next() * 40), next) : randomHash(next);
      index.add(id, h);
      stored.set(id, h);
    } else {
      const ids = [...stored.keys()];
      const id = ids[Math.floor(next() * ids.length)]!;
      assert.equal(index.remove(id), true);
      stored.delete(id);
      assert.equal(index.remove(id), false);
    }
    if (step % 50 === 0) {
      assert.equal(index.size, stored.size);
      const query = flipBits(anchor, step % 12, next);
      assert.deepEqual(index.search(query, 31), bruteForce(stored, query, 31), `step ${step}`);
    }
  }
  // A removed id can be added again.
  const [someId, someHash] = [...stored][0]!;
  index.remove(someId);
  index.add(someId, someHash);
  assert.deepEqual(
    index
      .search(someHash, 0)
      .map((m) => m.id)
      .includes(someId),
    true,
  );
});

test('radii above 31 fall back to a linear scan; bad input is rejected', () => {
  const next = rng(4);
  const index = new HashIndex();
  const stored = new Map<number, Hash256>();
  for (let i = 0; i < 500; i++) {
    const h = randomHash(next);
    index.add(i, h);
    stored.set(i, h);
  }
  const q = randomHash(next);
  assert.deepEqual(index.search(q, 110), bruteForce(stored, q, 110));
  assert.throws(() => index.add(1, q), /already/);
  assert.throws(() => index.add(-1, q), RangeError);
  assert.throws(() => index.add(2 ** 32 - 1, q), RangeError);
  assert.throws(() => index.add(1e6, q.subarray(1)), RangeError);
  assert.throws(() => index.search(q, -1), RangeError);
  assert.equal(index.has(3), true);
  assert.equal(index.has(9999), false);
});

test('IdSlotMap behaves like a Map under random inserts and deletes', () => {
  const next = rng(5);
  const map = new IdSlotMap(4);
  const ref = new Map<number, number>();
  for (let i = 0; i < 20000; i++) {
    const key = Math.floor(next() * 3000) * 977;
    if (next() < 0.6) {
      map.set(key, i);
      ref.set(key, i);
    } else {
      assert.equal(map.delete(key), ref.delete(key));
    }
  }
  assert.equal(map.size, ref.size);
  for (let k = 0; k < 3000 * 977; k += 977) assert.equal(map.get(k), ref.get(k) ?? -1);
});
