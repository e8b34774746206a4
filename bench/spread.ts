/**
 * bench:spread — how one picture spreads through group chats with friction off, with WhatsApp's
 * forward-chain counting, and with MMD's cluster counting, including spreaders who re-upload.
 *
 *   npm run bench:spread -- [--quick] [--people=1000000] [--seeds=5] [--server-people=300]
 *     [--server-seeds=3] [--only=model,server]
 *
 *  1. model: the in-process model (bench/spread-model.ts) at `--people`, over `--seeds` seeds, in
 *     several scenarios (share of spreaders who re-upload: 0, 59 %, 100 %; fast reactions; spreaders
 *     who never give up or come back later; two network shapes: big public-like groups, small ones);
 *     per policy the mean and standard deviation of the time until half the people (and half the
 *     groups) have the picture, copies sent, copies that travelled ≥ 5 hops, copies labelled
 *     "forwarded many times", and the share of ≥ 5-hop copies that went out without the label.
 *     Ratios are to "no friction" of the same seed, then averaged.
 *  2. server: the same event loop driving a real MMD server (SQLite, in this process, its clock
 *     set to the simulation's) through the SDK: real accounts and groups, a real photo uploaded,
 *     forwarded and re-uploaded (re-encoded copies, so re-uploads are near-duplicates, not byte
 *     copies). Cluster counting runs on media, as the server counts it; forward-chain counting on
 *     text (text has no cluster, so only the forward limit and chain hops apply: WhatsApp's
 *     rule). Each answer of the server (accepted with its hops, or 429 `forward_limit` with
 *     Retry-After) is compared with what the model decides in the same state; then the model alone
 *     runs the same world and seed and the two spreads are compared.
 * Prints ONE JSON object on stdout; progress goes to stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MmdClient, MmdError } from '@mmd/sdk';
import sharp from 'sharp';
import { buildApp } from '../apps/server/src/app.ts';
import { TIERS_OFF } from './friction.ts';
import { argOptions, pool } from './lib/harness.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { openDatabase } from '../apps/server/src/platform/db/index.ts';
import { createLocalEventBus } from '../apps/server/src/platform/pubsub/index.ts';
import {
  BEHAVIOUR_DEFAULTS,
  type Backend,
  type BehaviourOptions,
  NETWORK_DEFAULTS,
  type NetworkOptions,
  POLICIES,
  type Policy,
  type ShareRequest,
  type ShareResult,
  type SpreadResult,
  type World,
  buildWorld,
  createRules,
  membersOf,
  modelBackend,
  networkStats,
  simulate,
} from './spread-model.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.resolve(here, '../../shared/data');
const argv = process.argv.slice(2);
const { option, count } = argOptions(argv);
const quick = argv.includes('--quick');
const opts = {
  people: count('people', quick ? 100_000 : 1_000_000),
  seeds: count('seeds', quick ? 2 : 5),
  serverPeople: count('server-people', quick ? 120 : 300),
  serverSeeds: count('server-seeds', quick ? 1 : 3),
  only: (option('only') ?? 'model,server').split(',').map((s) => s.trim()),
};
const log = (m: string) => process.stderr.write(`[bench:spread] ${m}\n`);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The behaviour every scenario starts from (see docs/benchmarks.md for why these values). */
const BEHAVIOUR: BehaviourOptions = { ...BEHAVIOUR_DEFAULTS, spreaderShare: 0.2 };
/**
 * Two network shapes: public-group-like (NETWORK_DEFAULTS: groups of 3–256, exponent 1.5, so most
 * memberships are in big groups; 1–64 groups per person, exponent 2.5) and private-group-like
 * (mostly small groups, exponent 2.5, and more groups per person, exponent 2.0).
 */
const SMALL_GROUPS: Partial<NetworkOptions> = { membershipExponent: 2.0, groupExponent: 2.5 };
const SCENARIOS: { name: string; behaviour: BehaviourOptions; network?: Partial<NetworkOptions> }[] = [
  { name: 'all forward', behaviour: { ...BEHAVIOUR, reuploadShare: 0 } },
  { name: '59% re-upload', behaviour: { ...BEHAVIOUR, reuploadShare: 0.59 } },
  { name: 'all re-upload', behaviour: { ...BEHAVIOUR, reuploadShare: 1 } },
  { name: '59% re-upload, fast (reaction median 1 min)', behaviour: { ...BEHAVIOUR, reuploadShare: 0.59, reactionMedianMs: 60_000 } },
  { name: '59% re-upload, persistent (never give up)', behaviour: { ...BEHAVIOUR, reuploadShare: 0.59, giveUp: 0 } },
  { name: '59% re-upload, refused spreaders come back later (a new reaction delay)', behaviour: { ...BEHAVIOUR, reuploadShare: 0.59, comeBack: 'later' } },
  { name: 'small groups: all forward', behaviour: { ...BEHAVIOUR, reuploadShare: 0 }, network: SMALL_GROUPS },
  { name: 'small groups: 59% re-upload', behaviour: { ...BEHAVIOUR, reuploadShare: 0.59 }, network: SMALL_GROUPS },
  { name: 'small groups: all re-upload', behaviour: { ...BEHAVIOUR, reuploadShare: 1 }, network: SMALL_GROUPS },
];
/** At a few hundred people groups of up to 256 would hold everyone: small groups, more of them per person. */
const SMALL_NETWORK = { membershipExponent: 1.5, maxMemberships: 30, groupExponent: 1.5, minGroup: 3, maxGroup: 12 };

// ---------------------------------------------------------------------------------------------
// Statistics

function stats(xs: (number | null)[]) {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, sd: null, n: 0, missing: xs.length };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean: round(mean, 3), sd: round(sd, 3), n: v.length, ...(xs.length > v.length ? { missing: xs.length - v.length } : {}) };
}
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

function summary(r: SpreadResult) {
  return {
    minutes_to_half_people: r.minutesToHalfPeople === null ? null : round(r.minutesToHalfPeople, 1),
    minutes_to_half_groups: r.minutesToHalfGroups === null ? null : round(r.minutesToHalfGroups, 1),
    reached_people: round(r.reachedPeople / r.people, 3),
    reached_groups: round(r.reachedGroups / r.groups, 3),
    copies: r.copies,
    highly_forwarded: r.highlyForwarded,
    highly_forwarded_share: round(r.highlyForwardedShare, 3),
    highly_forwarded_delivered_share: round(r.highlyForwardedDeliveredShare, 3),
    labelled_many_times: r.labelledManyTimes,
    unlabelled_share_of_highly_forwarded: round(r.unlabelledShareOfHighly, 3),
    labelled_but_under_5_hops: round(r.overLabelledShare, 3),
    refusals: r.refusals,
    gave_up: r.gaveUp,
  };
}

// ---------------------------------------------------------------------------------------------
// 1. The model at scale

async function benchModel() {
  const network = (seed: number, shape: Partial<NetworkOptions> = {}): NetworkOptions => ({ people: opts.people, seed, ...NETWORK_DEFAULTS, ...shape });
  const out: Record<string, unknown> = {};
  for (const scenario of SCENARIOS) {
    const runs: Record<Policy, SpreadResult[]> = { none: [], 'forward-only': [], cluster: [] };
    const shapes: ReturnType<typeof networkStats>[] = [];
    let seconds = 0;
    for (let seed = 1; seed <= opts.seeds; seed += 1) {
      const world = buildWorld({ network: network(seed, scenario.network), behaviour: scenario.behaviour });
      shapes.push(networkStats(world.network));
      for (const policy of POLICIES) {
        const t0 = performance.now();
        runs[policy].push(await simulate(world, modelBackend(world, policy)));
        seconds += (performance.now() - t0) / 1000;
      }
      log(`model "${scenario.name}" seed ${seed}: ${world.network.groups} groups; t½ ${POLICIES.map((p) => `${p} ${round(runs[p].at(-1)!.minutesToHalfPeople ?? Number.NaN, 1)} min`).join(', ')}`);
    }
    const per = (policy: Policy, f: (r: SpreadResult) => number | null) => stats(runs[policy].map(f));
    const vsNone = (policy: Policy, f: (r: SpreadResult) => number | null) => stats(runs[policy].map((r, i) => ratio(f(r), f(runs.none[i]!))));
    const policies: Record<string, unknown> = {};
    for (const policy of POLICIES) {
      policies[policy] = {
        minutes_to_half_people: per(policy, (r) => r.minutesToHalfPeople),
        minutes_to_half_groups: per(policy, (r) => r.minutesToHalfGroups),
        reached_people: per(policy, (r) => r.reachedPeople / r.people),
        copies: per(policy, (r) => r.copies),
        highly_forwarded: per(policy, (r) => r.highlyForwarded),
        highly_forwarded_share: per(policy, (r) => r.highlyForwardedShare),
        labelled_many_times: per(policy, (r) => r.labelledManyTimes),
        labelled_many_times_share: per(policy, (r) => r.labelledManyTimes / r.copies),
        unlabelled_share_of_highly_forwarded: per(policy, (r) => r.unlabelledShareOfHighly),
        labelled_but_under_5_hops: per(policy, (r) => r.overLabelledShare),
        refusals: per(policy, (r) => r.refusals),
        gave_up: per(policy, (r) => r.gaveUp),
        vs_no_friction: {
          time_to_half_people: vsNone(policy, (r) => r.minutesToHalfPeople),
          time_to_half_groups: vsNone(policy, (r) => r.minutesToHalfGroups),
          copies: vsNone(policy, (r) => r.copies),
          highly_forwarded: vsNone(policy, (r) => r.highlyForwarded),
          highly_forwarded_share: vsNone(policy, (r) => r.highlyForwardedShare),
          labelled_many_times: vsNone(policy, (r) => r.labelledManyTimes),
        },
      };
    }
    out[scenario.name] = {
      behaviour: scenario.behaviour,
      network: { ...NETWORK_DEFAULTS, ...scenario.network },
      groups: stats(runs.none.map((r) => r.groups)),
      network_stats: Object.fromEntries(Object.keys(shapes[0]!).map((k) => [k, stats(shapes.map((x) => x[k as keyof typeof x]))])),
      policies,
      cluster_vs_forward_only: {
        time_to_half_people: stats(runs.cluster.map((r, i) => ratio(r.minutesToHalfPeople, runs['forward-only'][i]!.minutesToHalfPeople))),
        copies: stats(runs.cluster.map((r, i) => ratio(r.copies, runs['forward-only'][i]!.copies))),
        reached_people: stats(runs.cluster.map((r, i) => ratio(r.reachedPeople, runs['forward-only'][i]!.reachedPeople))),
      },
      simulate_seconds: round(seconds, 1),
    };
  }
  return { people: opts.people, seeds: opts.seeds, scenarios: out };
}

// ---------------------------------------------------------------------------------------------
// 2. The real server, driven by the same loop

async function startServer(clock: () => number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-spread-'));
  // The velocity tiers (label, confirmation, cooldown, hold) are off here: the model has the forward
  // limits and cluster counting only, and every server answer is compared with it.
  const config = loadConfig({}, { dataDir: dir, port: 0, host: '127.0.0.1', argon2MemoryKib: 1024, argon2Iterations: 1, signupRateLimit: 1_000_000, loginRateLimit: 1_000_000, logLevel: 'warn', sqliteSynchronous: 'normal', ...TIERS_OFF });
  const db = openDatabase({ sqlitePath: path.join(dir, 'mmd.sqlite'), sqliteSynchronous: 'normal' });
  await db.migrate();
  const { app } = await buildApp({ config, db, bus: createLocalEventBus(), logger: false, clock });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    anonymous: new MmdClient({ baseUrl: url }),
    async close() {
      await app.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A backend answering from the real server. Every share is also decided by the model in the same
 * state (shadow), and the server's answer is what the loop follows and what the model records.
 */
function serverBackend(o: {
  world: World;
  policy: 'forward-only' | 'cluster';
  clients: MmdClient[];
  groupIds: string[];
  setClock: (simMs: number) => void;
  picture: (copy: number) => Promise<Buffer>;
}) {
  const shadow = createRules(o.world, o.policy);
  const messageOf: string[] = [];
  const agreement = { shares: 0, same: 0, accepted: 0, refused: 0, uploads: 0, differences: [] as string[] };
  const backend: Backend = {
    async share(r: ShareRequest): Promise<ShareResult> {
      o.setClock(r.at);
      const expected = shadow.decide(r);
      const client = o.clients[r.sender]!;
      const chat = o.groupIds[r.group]!;
      let result: ShareResult;
      try {
        let sent: Awaited<ReturnType<MmdClient['send']>>;
        if (r.via === 'forward') sent = await client.send(chat, { forward_of: messageOf[r.source]! });
        else if (o.policy === 'forward-only') sent = await client.send(chat, { text: 'the same picture, sent afresh' });
        else {
          const { id } = await client.upload(await o.picture(r.copy), { filename: 'picture.jpg' });
          const item = await client.waitForMedia(id, { timeoutMs: 120_000 });
          if (item.status !== 'ready') throw new Error(`upload ${item.status}: ${item.reason}`);
          agreement.uploads += 1;
          sent = await client.send(chat, { media: [id] });
        }
        messageOf[r.copy] = sent.id;
        if (o.policy === 'cluster' && !sent.spread) throw new Error(`message ${sent.id} carries no spread`);
        result = { ok: true, labelHops: o.policy === 'cluster' ? sent.spread!.hops : (sent.forward?.hops ?? 0) };
        agreement.accepted += 1;
      } catch (err) {
        if (!(err instanceof MmdError && err.code === 'forward_limit' && err.status === 429)) throw err;
        const seconds = /retry in (\d+) s/.exec(err.message);
        if (!seconds) throw new Error(`forward_limit without a retry time: ${err.message}`);
        result = { ok: false, retryAfterMs: Number(seconds[1]) * 1000 };
        agreement.refused += 1;
      }
      agreement.shares += 1;
      const same = expected.ok === result.ok && (expected.ok ? expected.labelHops === (result as { labelHops: number }).labelHops : expected.retryAfterMs === (result as { retryAfterMs: number }).retryAfterMs);
      if (same) agreement.same += 1;
      else if (agreement.differences.length < 10) agreement.differences.push(`share ${agreement.shares} (${r.via} by ${r.sender} into group ${r.group}): model ${JSON.stringify(expected)}, server ${JSON.stringify(result)}`);
      if (result.ok) shadow.commit(r, result.labelHops);
      return result;
    },
  };
  return { backend, agreement };
}

async function benchServer(seed: number) {
  const world = buildWorld({ network: { people: opts.serverPeople, seed, ...SMALL_NETWORK }, behaviour: { ...BEHAVIOUR, reuploadShare: 0.59 } });
  const n = world.network;
  const base = Date.UTC(2026, 0, 1);
  let now = base;
  const server = await startServer(() => now);
  try {
    const t0 = performance.now();
    log(`server seed ${seed}: ${n.people} people, ${n.groups} groups; signing up`);
    const clients: MmdClient[] = [];
    const handles: string[] = [];
    await pool(Array.from({ length: n.people }, (_, i) => i), 6, async (i) => {
      handles[i] = `person${i}`;
      clients[i] = server.anonymous.as((await server.anonymous.createAccount({ handle: handles[i]!, password: 'correct horse battery' })).token);
    });
    const groupIds: string[] = [];
    await pool(Array.from({ length: n.groups }, (_, g) => g), 4, async (g) => {
      const [owner, ...rest] = Array.from(membersOf(n, g));
      const c = await clients[owner!]!.createConversation({ kind: 'group', title: `group ${g}`, members: rest.map((p) => handles[p]!) });
      if (c.invited?.length) throw new Error(`group ${g}: ${c.invited.length} people were invited instead of added`);
      groupIds[g] = c.id;
    });
    const setupSeconds = (performance.now() - t0) / 1000;
    log(`server: set up in ${round(setupSeconds, 1)} s`);
    // The picture, and re-encoded copies of it for re-uploads (each re-upload a near-duplicate).
    const original = await sharp(readFileSync(path.join(DATA, 'photos', 'GreenMeadow.jpg'))).resize({ width: 480 }).jpeg({ quality: 90 }).toBuffer();
    const variants = new Map<number, Buffer>();
    const picture = async (copy: number) => {
      if (copy === 0) return original;
      const quality = 40 + (copy % 50);
      if (!variants.has(quality)) variants.set(quality, await sharp(original).jpeg({ quality }).toBuffer());
      return variants.get(quality)!;
    };
    const out: Record<string, unknown> = {};
    let start = 0;
    for (const policy of ['cluster', 'forward-only'] as const) {
      const t1 = performance.now();
      // Each policy's spread starts a day after the last one ended: no window overlaps.
      const offset = start;
      const { backend, agreement } = serverBackend({ world, policy, clients, groupIds, picture, setClock: (sim) => (now = base + offset + sim) });
      const driven = await simulate(world, backend, { trace: true, onProgress: log });
      start = now - base + 86_400_000;
      const seconds = (performance.now() - t1) / 1000;
      const model = await simulate(world, modelBackend(world, policy), { trace: true });
      const sameSpread = driven.trace.length === model.trace.length && driven.trace.every((t, i) => t === model.trace[i]);
      let firstDifference: number | null = null;
      if (!sameSpread) firstDifference = driven.trace.findIndex((t, i) => t !== model.trace[i]);
      log(`server seed ${seed} ${policy}: ${agreement.shares} shares (${agreement.refused} refused), ${agreement.same} decided as the model would, in ${round(seconds, 1)} s; whole spread the same as the model's: ${sameSpread}`);
      out[policy] = {
        content: policy === 'cluster' ? 'photo: forwards and re-encoded re-uploads (media, counted per cluster)' : 'text: forwards and fresh sends of the same text (no cluster: forward chains only)',
        server: summary(driven),
        model_same_seed: summary(model),
        agreement: {
          shares: agreement.shares,
          decided_as_model: agreement.same,
          share_agreeing: round(agreement.same / Math.max(1, agreement.shares), 4),
          accepted: agreement.accepted,
          refused_forward_limit: agreement.refused,
          uploads: agreement.uploads,
          differences: agreement.differences,
          whole_spread_identical: sameSpread,
          first_divergent_share: firstDifference,
        },
        seconds: round(seconds, 1),
      };
    }
    const none = await simulate(world, modelBackend(world, 'none'));
    return { people: n.people, groups: n.groups, seed, network_stats: networkStats(n), setup_seconds: round(setupSeconds, 1), policies: out, model_no_friction: summary(none) };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------

const result: Record<string, unknown> = {
  bench: 'spread',
  date: new Date().toISOString(),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
  load_average_at_start: os.loadavg().map((x) => round(x, 2)),
  options: opts,
};
if (opts.only.includes('model')) result.model = await benchModel();
if (opts.only.includes('server')) {
  const runs: Awaited<ReturnType<typeof benchServer>>[] = [];
  for (let seed = 1; seed <= opts.serverSeeds; seed += 1) runs.push(await benchServer(seed));
  const total = (policy: string, key: 'shares' | 'decided_as_model' | 'refused_forward_limit' | 'uploads') =>
    runs.reduce((a, r) => a + ((r.policies[policy] as { agreement: Record<string, number> }).agreement[key] ?? 0), 0);
  const identical = (policy: string) => runs.filter((r) => (r.policies[policy] as { agreement: { whole_spread_identical: boolean } }).agreement.whole_spread_identical).length;
  result.server = {
    people: opts.serverPeople,
    network: SMALL_NETWORK,
    behaviour: { ...BEHAVIOUR, reuploadShare: 0.59 },
    agreement: Object.fromEntries(
      (['cluster', 'forward-only'] as const).map((p) => [p, { shares: total(p, 'shares'), decided_as_model: total(p, 'decided_as_model'), refused_forward_limit: total(p, 'refused_forward_limit'), uploads: total(p, 'uploads'), spreads_identical: `${identical(p)} of ${runs.length}` }]),
    ),
    seeds: runs,
  };
}
result.load_average_at_end = os.loadavg().map((x) => round(x, 2));
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
