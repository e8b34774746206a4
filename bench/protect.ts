/**
 * bench:protect — is POST /v1/safety/protect a timing oracle?
 *
 *   node --import tsx bench/protect.ts [--n=300]
 *
 * A real server (SQLite, in this process) holds one uploaded photo, already protected once. Then
 * it answers `n` submissions of that photo's PDQ hash (known: stored here and already in the
 * protect bank) interleaved with `n` of made-up balanced hashes (unknown), through inject() so the
 * network adds no noise. The unknown submissions are the baseline, measured in the same run; the
 * figures to compare are the two medians and their difference against the spread within each.
 * Prints one JSON object on stdout; progress goes to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coefficientsToHash, hash256ToHex, pdqIntermediate } from '@mmd/phash';
import { MmdClient } from '@mmd/sdk';
import sharp from 'sharp';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { openDatabase } from '../apps/server/src/platform/db/index.ts';
import { createLocalEventBus } from '../apps/server/src/platform/pubsub/index.ts';

const nArg = process.argv.slice(2).find((a) => a.startsWith('--n='));
const N = nArg ? Number(nArg.split('=')[1]) : 300;
const log = (m: string) => process.stderr.write(`[bench:protect] ${m}\n`);

function madeUpPdq(): string {
  const bits = [...Array(256).keys()].sort(() => Math.random() - 0.5).slice(0, 128);
  const bytes = new Uint8Array(32);
  for (const b of bits) bytes[b >> 3]! |= 1 << (b & 7);
  return Buffer.from(bytes).toString('hex');
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const median = at(0.5);
  const mad = [...s.map((v) => Math.abs(v - median))].sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
  const r = (v: number) => Number(v.toFixed(3));
  return { n: s.length, p50_ms: r(median), p95_ms: r(at(0.95)), mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length), mad_ms: r(mad) };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-protect-'));
const config = loadConfig({}, {
  dataDir: dir,
  port: 0,
  host: '127.0.0.1',
  argon2MemoryKib: 1024,
  argon2Iterations: 1,
  logLevel: 'silent',
  protectRequestsPerWindow: 1_000_000,
  protectMaxSignalsPerAddressPerDay: 1_000_000,
  protectMaxSignalsPerDay: 1_000_000,
});
const db = openDatabase({ sqlitePath: path.join(dir, 'mmd.sqlite') });
await db.migrate();
const { app } = await buildApp({ config, db, bus: createLocalEventBus(), logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
try {
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const anonymous = new MmdClient({ baseUrl: url });
  const alice = anonymous.as((await anonymous.createAccount({ handle: `bench${process.pid}`, password: 'correct horse battery' })).token);
  const image = await sharp(Buffer.from(Array.from({ length: 12 * 12 * 3 }, () => Math.floor(Math.random() * 256))), { raw: { width: 12, height: 12, channels: 3 } })
    .resize(480, 480, { kernel: 'cubic' })
    .jpeg({ quality: 92 })
    .toBuffer();
  const { id } = await alice.upload(image, { filename: 'known.jpg' });
  await alice.waitForMedia(id);
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const known = hash256ToHex(coefficientsToHash(pdqIntermediate({ data, width: info.width, height: info.height, channels: 3 }).coefficients));
  const submit = async (pdq: string) => {
    const started = performance.now();
    const res = await app.inject({ method: 'POST', url: '/v1/safety/protect', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ images: [{ pdq, quality: 90 }] }) });
    const ms = performance.now() - started;
    if (res.statusCode !== 201) throw new Error(`protect answered ${res.statusCode}: ${res.body}`);
    return { ms, bytes: res.body.length };
  };
  await submit(known); // known from here on: stored, and already in the protect bank
  for (let i = 0; i < 20; i++) await submit(i % 2 ? known : madeUpPdq()); // warm-up
  log(`${N} known and ${N} unknown submissions, interleaved`);
  const times = { known: [] as number[], unknown: [] as number[] };
  const sizes = { known: new Set<number>(), unknown: new Set<number>() };
  for (let i = 0; i < N; i++) {
    // Alternate which goes first so neither always follows the other's sweep.
    for (const which of i % 2 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const)) {
      const r = await submit(which === 'known' ? known : madeUpPdq());
      times[which].push(r.ms);
      sizes[which].add(r.bytes);
    }
  }
  const k = stats(times.known);
  const u = stats(times.unknown);
  console.log(
    JSON.stringify(
      {
        bench: 'protect',
        what: 'POST /v1/safety/protect response time through inject(), known hash vs unknown (baseline), same run',
        known: k,
        unknown_baseline: u,
        p50_difference_ms: Number((k.p50_ms - u.p50_ms).toFixed(3)),
        response_sizes: { known: [...sizes.known], unknown: [...sizes.unknown] },
        node: process.version,
        cpus: os.cpus().length,
      },
      null,
      2,
    ),
  );
} finally {
  await app.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
