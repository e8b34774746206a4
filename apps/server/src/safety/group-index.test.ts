import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hammingDistance } from '@mmd/phash';
import { GroupIndex } from './group-index.ts';

function random(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
const hash = (next: () => number) => Uint8Array.from({ length: 32 }, () => Math.floor(next() * 256));
function flip(h: Uint8Array, bits: number, next: () => number) {
  const out = Uint8Array.from(h);
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Math.floor(next() * 256));
  for (const b of chosen) out[b >> 3]! ^= 1 << (b & 7);
  return out;
}

test('finds each group whose hashes come near any query hash, with its best distance, like a scan', () => {
  const next = random(7);
  const index = new GroupIndex();
  const groups = new Map<number, Uint8Array[]>();
  for (let g = 1; g <= 300; g++) groups.set(g * 3, Array.from({ length: 1 + (g % 30) }, () => hash(next)));
  index.addMany([...groups]);
  assert.equal(index.size, 300);
  for (let trial = 0; trial < 50; trial++) {
    const [group, hashes] = [...groups][Math.floor(next() * groups.size)]!;
    const queries = [flip(hashes[Math.floor(next() * hashes.length)]!, Math.floor(next() * 32), next), hash(next)];
    const found = index.search(queries, 31);
    const expected = new Map<number, number>();
    for (const [g, hs] of groups) {
      const best = Math.min(...hs.flatMap((h) => queries.map((q) => hammingDistance(h, q))));
      if (best <= 31) expected.set(g, best);
    }
    assert.deepEqual([...found].sort(), [...expected].sort());
    assert.ok(found.has(group));
  }
});

test('removed groups are no longer found; incremental adds are found at once', () => {
  const next = random(11);
  const index = new GroupIndex();
  const a = [hash(next), hash(next)];
  const b = [hash(next)];
  index.add(1, a);
  index.add(2, b);
  index.add(2, [hash(next)]);
  assert.equal(index.hashCount, 3, 'a group added twice keeps its first hashes');
  assert.deepEqual([...index.search([a[1]!], 0)], [[1, 0]]);
  assert.equal(index.remove(1), true);
  assert.equal(index.remove(1), false);
  assert.equal(index.search([a[1]!], 31).size, 0);
  assert.deepEqual([...index.search([flip(b[0]!, 5, next)], 31)], [[2, 5]]);
});
