/**
 * Benchmark (not a test): multi-index search vs a linear scan over many 256-bit hashes.
 *
 *   node --import tsx packages/phash/scripts/index-speed.ts [--size 1000000] [--queries 2000]
 *        [--linear-queries 40] [--skewed]
 *
 * Builds `size` random hashes plus, for every query, 8 planted near-duplicates at distances
 * spread over 0..31, then times `search(q, 31)` for the queries and a linear scan for a few of
 * them (checking both return the same matches). Prints one JSON object.
 *
 * Random hashes are MIH's easy case: buckets are evenly filled. Real PDQ hashes are not
 * uniform (similar scenes share chunk values), so buckets are uneven and look-ups slower;
 * `--skewed` simulates that by drawing every hash 48 bits away from one of 1 000 prototypes.
 */
import { HashIndex } from '../src/hash-index.ts';
import { flipBits, randomHash, rng } from '../test/random-hashes.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const size = arg('size', 1_000_000);
const queryCount = arg('queries', 2000);
const linearCount = arg('linear-queries', 40);
const skewed = process.argv.includes('--skewed');
const next = rng(42);
const prototypes = Array.from({ length: 1000 }, () => randomHash(next));
const draw = () =>
  skewed ? flipBits(prototypes[Math.floor(next() * prototypes.length)]!, 48, next) : randomHash(next);

/** Fast bulk source: xorshift words into one reused buffer (addMany copies it at once). */
function* bulk(count: number): Generator<readonly [number, Uint8Array]> {
  const buf = new Uint8Array(32);
  const words = new Uint32Array(buf.buffer);
  let x = 2463534242;
  for (let i = 0; i < count; i++) {
    if (skewed) {
      buf.set(draw());
    } else {
      for (let w = 0; w < 8; w++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[w] = x;
      }
    }
    yield [i, buf];
  }
}

const index = new HashIndex({ initialCapacity: size + queryCount * 8 + 10000 });
let t = performance.now();
const queries: Uint8Array[] = [];
const planted: Array<readonly [number, Uint8Array]> = [];
let id = size;
for (let q = 0; q < queryCount; q++) {
  const base = draw();
  for (let k = 0; k < 8; k++) planted.push([id++, flipBits(base, Math.floor((k * 31) / 7), next)]);
  // Half the queries sit on planted clusters, half are fresh hashes (mostly misses).
  queries.push(q % 2 === 0 ? flipBits(base, 3, next) : draw());
}
index.addMany(
  (function* () {
    yield* bulk(size);
    yield* planted;
  })(),
);
const buildSeconds = (performance.now() - t) / 1000;

function time(run: (q: Uint8Array) => unknown, qs: Uint8Array[]) {
  const lat: number[] = [];
  let found = 0;
  const start = performance.now();
  for (const q of qs) {
    const t0 = performance.now();
    found += (run(q) as unknown[]).length;
    lat.push(performance.now() - t0);
  }
  const total = performance.now() - start;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => Number(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(4));
  return {
    lookupsPerSecond: Math.round((qs.length * 1000) / total),
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    matches: found,
  };
}

// Warm up the JIT on both paths before timing.
for (const q of queries.slice(0, 50)) index.search(q, 31);
index.searchLinear(queries[0]!, 31);
const mih = time((q) => index.search(q, 31), queries);
const linearQueries = queries.slice(0, linearCount);
const linear = time((q) => index.searchLinear(q, 31), linearQueries);
for (const q of linearQueries) {
  if (JSON.stringify(index.search(q, 31)) !== JSON.stringify(index.searchLinear(q, 31)))
    throw new Error('MIH ≠ linear');
}
t = performance.now();
for (let i = 0; i < 10000; i++) index.add(4e9 + i, draw());
const addMicros = ((performance.now() - t) * 1000) / 10000;

console.log(
  JSON.stringify(
    {
      hashes: index.size,
      data: skewed ? 'skewed (48 bits from 1000 prototypes)' : 'uniform random',
      radius: 31,
      buildSeconds: Number(buildSeconds.toFixed(2)),
      megabytes: Math.round(index.byteLength / 2 ** 20),
      mih,
      linear,
      speedup: Math.round(mih.lookupsPerSecond / linear.lookupsPerSecond),
      incrementalAddMicros: Number(addMicros.toFixed(1)),
      resultsIdentical: true,
    },
    null,
    2,
  ),
);
