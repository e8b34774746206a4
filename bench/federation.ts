/**
 * bench:federation — how long from a takedown on one instance to the hold on another?
 *
 *   node --import tsx bench/federation.ts [--rounds=6]
 *
 * Two MMD servers in this process (SQLite each, loopback HTTP between them), connected as peers
 * (A shares `other`, B holds A's `other` signals). Each round: a person on B stores a photo, a
 * person on A uploads the same photo, A's moderator takes it down; the clock runs from the
 * takedown request until B's review queue shows the hold on B's copy (polled every 10 ms through
 * inject()). The baseline, measured in the same run on B alone: B's moderator pastes the SHA-256
 * of a stored photo into a hold bank of B's own, until the hold shows — the same sweep and queue
 * without federation. HMA's published timer intervals are printed beside them (not measured here).
 * Prints one JSON object on stdout; progress goes to stderr.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MmdClient, type Review } from '@mmd/sdk';
import sharp from 'sharp';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { openDatabase } from '../apps/server/src/platform/db/index.ts';
import { createLocalEventBus } from '../apps/server/src/platform/pubsub/index.ts';

const PHOTOS = path.resolve(import.meta.dirname, '../../shared/data/photos');
const NAMES = [
  'Aqua.jpg',
  'Blinds.jpg',
  'Dune.jpg',
  'Elephants.jpg',
  'FreshFlower.jpg',
  'Garden.jpg',
  'GreenMeadow.jpg',
  'LadyBird.jpg',
  'RainDrops.jpg',
  'Storm.jpg',
  'TwoWings.jpg',
  'Wood.jpg',
  'YellowFlower.jpg',
  'Elephants-large.jpg',
];
const photo = (name: string) =>
  sharp(readFileSync(path.join(PHOTOS, name)))
    .resize({ width: 640 })
    .jpeg({ quality: 90 })
    .toBuffer();

async function server(name: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `mmd-bench-fed-${name}-`));
  const config = loadConfig(
    {},
    {
      dataDir: dir,
      port: 0,
      host: '127.0.0.1',
      argon2MemoryKib: 1024,
      argon2Iterations: 1,
      logLevel: 'silent',
      outboundAllowPrivate: true,
      federationPullIntervalMs: 0,
    },
  );
  const db = openDatabase({ sqlitePath: path.join(dir, 'mmd.sqlite') });
  await db.migrate();
  const { app } = await buildApp({ config, db, bus: createLocalEventBus(), logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const anonymous = new MmdClient({ baseUrl: url });
  const signUp = async (handle: string, role?: 'moderator' | 'admin') => {
    const created = await anonymous.createAccount({
      handle: `${handle}${process.pid}`,
      password: 'correct horse battery',
    });
    if (role)
      await db.db.updateTable('accounts').set({ role }).where('id', '=', created.account.id).execute();
    return { client: anonymous.as(created.token), token: created.token };
  };
  const [admin, mod, person] = await Promise.all([
    signUp(`${name}admin`, 'admin'),
    signUp(`${name}mod`, 'moderator'),
    signUp(`${name}person`),
  ]);
  return {
    url,
    admin,
    mod,
    person,
    /** The open hold of a media item, read through inject (no socket in the timing). */
    async held(mediaId: string) {
      const answer = await app.inject({
        method: 'GET',
        url: '/v1/safety/reviews?status=open&limit=100',
        headers: { authorization: `Bearer ${mod.token}` },
      });
      return (JSON.parse(answer.body) as { reviews: Review[] }).reviews.some(
        (r) => r.kind === 'hold' && r.media.some((m) => m.id === mediaId),
      );
    },
    async close() {
      await app.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until(probe: () => Promise<boolean>, ms = 30_000) {
  const deadline = performance.now() + ms;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function stored(at: Awaited<ReturnType<typeof server>>, bytes: Buffer) {
  const { id } = await at.person.client.upload(bytes, { filename: 'photo.jpg' });
  const item = await at.person.client.waitForMedia(id, { timeoutMs: 90_000 });
  if (item.status !== 'ready') throw new Error(`upload ${item.status}`);
  return item.id;
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v);
  return {
    n: s.length,
    p50_ms: r(s[Math.floor(s.length / 2)]!),
    min_ms: r(s[0]!),
    max_ms: r(s[s.length - 1]!),
  };
}

/** Runs the measurement (two servers, `rounds` takedowns and as many local baselines); the JSON it prints. */
export async function benchFederation(options: { rounds: number; log: (m: string) => void }) {
  const { log } = options;
  const ROUNDS = Math.min(7, options.rounds);
  const a = await server('a');
  const b = await server('b');
  try {
    await a.admin.client.connectPeer({
      name: 'B',
      base_url: b.url,
      share_categories: ['other'],
      policy: { other: 'hold' },
    });
    await b.admin.client.connectPeer({
      name: 'A',
      base_url: a.url,
      share_categories: [],
      policy: { other: 'hold' },
    });

    const federated: number[] = [];
    const takedownAnswer: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const bytes = await photo(NAMES[i]!);
      const onB = await stored(b, bytes);
      const onA = await stored(a, bytes);
      const started = performance.now();
      await a.mod.client.takedown({ media_id: onA, reason: 'bench' });
      takedownAnswer.push(performance.now() - started);
      await until(() => b.held(onB));
      federated.push(performance.now() - started);
      log(
        `round ${i + 1}: held on B ${Math.round(federated[i]!)} ms after the takedown request (takedown answered in ${Math.round(takedownAnswer[i]!)} ms)`,
      );
    }

    const bank = await b.mod.client.createBank({ name: 'local baseline', category: 'other', action: 'hold' });
    const local: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const bytes = await photo(NAMES[ROUNDS + i]!);
      const onB = await stored(b, bytes);
      const started = performance.now();
      await b.mod.client.addSignals(bank.id, [
        { type: 'sha256', value: createHash('sha256').update(bytes).digest('hex') },
      ]);
      await until(() => b.held(onB));
      local.push(performance.now() - started);
      log(`baseline ${i + 1}: held ${Math.round(local[i]!)} ms after the local bank add`);
    }

    const fed = stats(federated);
    const base = stats(local);
    return {
      bench: 'federation',
      what: "time from A's takedown request to the hold on B's stored copy (two MMD servers, SQLite, loopback, one process)",
      federated: { ...fed, takedown_answer: stats(takedownAnswer) },
      local_baseline: {
        what: "B's moderator adds the copy's SHA-256 to a hold bank of B's own, until the hold shows (same run)",
        ...base,
      },
      ratio_federated_to_local_p50: Number((fed.p50_ms / base.p50_ms).toFixed(2)),
      hma_reference: {
        what: "HMA's timers (not measured here): a signal fetched from an exchange waits for the next fetch, then the next index build",
        fetcher_interval_s: 240,
        indexer_interval_s: 60,
        source:
          'facebook/ThreatExchange hasher-matcher-actioner/reference_omm_configs/development_omm_config.py ("Defaults: fetcher=240, indexer=60, index cache refresh=30")',
        worst_case_to_hma_index_s: 300,
        ratio_hma_worst_case_to_federated_p50: Number(((300 * 1000) / fed.p50_ms).toFixed(0)),
      },
    };
  } finally {
    await a.close();
    await b.close();
  }
}

// Run directly (npm run bench:federation): one JSON object on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const roundsArg = process.argv.slice(2).find((a) => a.startsWith('--rounds='));
  const result = await benchFederation({
    rounds: roundsArg ? Number(roundsArg.split('=')[1]) : 6,
    log: (m) => process.stderr.write(`[bench:federation] ${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
