/**
 * bench:cluster — MMD as a cluster (`npm run cluster`'s topology: HAProxy in front of API nodes and
 * one worker, on PostgreSQL, Redis and an S3-compatible store) with 10,000 WebSocket clients, next
 * to a single node on SQLite with the same clients, and a channel post to 50,000 connected
 * subscribers next to a bare `ws` broadcast of the same frame to the same number of sockets.
 *
 *   MMD_TEST_POSTGRES_URL=postgres://… MMD_TEST_REDIS_URL=redis://… \
 *     node --import tsx bench/cluster.ts [--quick] [--clients=10000] [--subscribers=50000]
 *     [--rate=200] [--pairs=500] [--latency-messages=3000] [--throughput-seconds=10] [--posts=3]
 *     [--client-processes=4] [--connect-concurrency=10] [--deadline-seconds=1800] (quick: 900)
 *     [--cpu-prof=DIR] (each MMD node's V8 CPU profile, written when it stops)
 *
 * --quick: 1,000 clients, 5,000 subscribers, 250 pairs, 600 latency messages, 4 s of throughput.
 *
 * Sends go into direct chats between clients 2p and 2p+1 for p < --pairs (all N clients are
 * connected; a chat per pair of all of them would cost minutes of setup on a loaded machine).
 * Latency is measured open loop at --rate or at half the single node's measured messages/s,
 * whichever is lower, the same rate for the single node and the cluster: above a node's capacity
 * an open loop measures its queue, not its latency.
 *
 * Measured, in this order, in one run:
 *  1. single node: one MMD process on embedded SQLite (a temp dir), N clients connected to it
 *     directly; messages/s accepted (closed loop, 50 in flight, into direct chats between connected
 *     clients) and send → receive latency (open loop at --rate).
 *  2. cluster: the same N clients through HAProxy over 2 API nodes (PostgreSQL schema and Redis
 *     key prefix of this run's own, dropped at the end); the same two measurements. Each send's
 *     node and each socket's node come from an `x-mmd-node` header HAProxy adds, so latency is
 *     split into cross-node (the send taken by one node, the recipient's socket on the other) and
 *     same-node.
 *  3. channel fan-out: the N clients leave; a third API node joins (see "Limits" below) and S
 *     subscribers connect through HAProxy; one channel post at a time, time to the last subscriber.
 *  4. baseline: the cluster stops; as many bare `ws` broadcast processes as API nodes
 *     (bench/messaging-baselines.ts), behind the same number of HAProxy processes with the same
 *     configuration, the same S sockets from the same client processes; a publisher sends to each
 *     server at once (what Redis pub/sub does for MMD) and every server sends one MMD-sized frame
 *     to each of its sockets.
 *
 * Limits on this machine (and how the run respects them): a process may open 20,000 files.
 *  - An API node holds at most ~19,000 sockets, so S = 50,000 needs three API nodes (~16,700 each).
 *  - HAProxy needs two descriptors per proxied connection; it refuses to start when 2 × maxconn
 *    does not fit the limit. Each HAProxy process here takes maxconn 9,000 and at most 8,000
 *    clients; the run starts ceil(clients / 8,000) of them, each balancing (leastconn) over every
 *    API node, and spreads the clients over them evenly.
 *  - Client processes hold at most ~15,000 sockets each.
 *
 * Accounts are written straight into the database (the rows sign-up writes: `accounts`, their
 * `handles` keys from accounts/handles.ts, and one `devices` row whose token the run keeps; one
 * shared Argon2 hash at the cheap cost); nodes run with cheap Argon2 and no sign-up limit. Direct
 * chats and channel joins go through the API. Progress on stderr; one JSON object on stdout.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash as argon2Hash } from '@node-rs/argon2';
import pg from 'pg';
import { WebSocket } from 'ws';
import { handleKeys } from '../apps/server/src/accounts/handles.ts';
import type { AccountsTable, DevicesTable, HandlesTable } from '../apps/server/src/accounts/schema.ts';
import { newId } from '../apps/server/src/lib/ids.ts';
import { hashToken, newToken } from '../apps/server/src/lib/tokens.ts';
import { openDatabase } from '../apps/server/src/platform/db/index.ts';
import { openRedis, redisPrefix } from '../apps/server/src/platform/redis/index.ts';
import { HAPROXY, type RunningCluster, answers, freePort, haproxyConfig, spawnNode, startCluster, waitFor } from '../scripts/cluster.ts';
import { type Expectation, argOptions, children, clientProcesses, deliveryTracker, httpRequest, latestCursor, listeningPort, machineInfo, now, percentiles, poolUntil, round, sleep, split, stopAllChildren, stopChild, track } from './lib/harness.ts';

// ---------------------------------------------------------------------------------------------
// Options

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const { num } = argOptions(argv);
const opts = {
  clients: Math.floor(num('clients', quick ? 1000 : 10_000) / 2) * 2,
  subscribers: Math.floor(num('subscribers', quick ? 5000 : 50_000)),
  rate: num('rate', 200),
  pairs: num('pairs', quick ? 250 : 500),
  latencyMessages: num('latency-messages', quick ? 600 : 3000),
  throughputSeconds: num('throughput-seconds', quick ? 4 : 10),
  inFlight: 50,
  posts: num('posts', 3),
  clientProcesses: num('client-processes', 4),
  /** WebSocket handshakes in flight per client process (each costs a node a PostgreSQL query). */
  connectConcurrency: num('connect-concurrency', 10),
  deadlineMs: num('deadline-seconds', quick ? 900 : 1800) * 1000,
};
/** Per HAProxy process: maxconn, and the clients given to it (two descriptors each, under 20,000). */
const HAPROXY_MAXCONN = 9000;
const CLIENTS_PER_HAPROXY = 8000;
/** Sockets one API node may be given (its limit is 20,000 files, PostgreSQL and Redis included). */
const SOCKETS_PER_NODE = 18_000;
const SOCKETS_PER_CLIENT_PROCESS = 15_000;
const databaseUrl = process.env.MMD_TEST_POSTGRES_URL;
const redisUrl = process.env.MMD_TEST_REDIS_URL;
if (!databaseUrl || !redisUrl) {
  console.error('set MMD_TEST_POSTGRES_URL and MMD_TEST_REDIS_URL');
  process.exit(2);
}
const nodeSettings: Record<string, string> = {
  // Cheap password hashing and no sign-up limit: messaging never hashes passwords.
  MMD_ARGON2_MEMORY_KIB: '1024',
  MMD_ARGON2_ITERATIONS: '1',
  MMD_SIGNUP_RATE_LIMIT: '1000000',
};
// --cpu-prof=DIR: every MMD node writes its V8 CPU profile there when it stops (NODE_OPTIONS refuses --cpu-prof).
const cpuProfDir = argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`] : [];
const PASSWORD = 'bench-password-1';
const FILLER = 'x'.repeat(60);

// ---------------------------------------------------------------------------------------------
// Helpers

const startedAt = now();
const log = (...parts: unknown[]) => process.stderr.write(`[bench:cluster ${((now() - startedAt) / 1000).toFixed(1)}s] ${parts.join(' ')}\n`);
const load = () => os.loadavg().map((x) => round(x, 2));
const deadlineLeft = () => opts.deadlineMs - (now() - startedAt);

const median = (xs: number[]) => percentiles(xs).p50;

function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>) {
  return poolUntil(n, { concurrency, deadline: startedAt + opts.deadlineMs - 60_000, error: 'setup ran into the deadline' }, fn);
}

// ---------------------------------------------------------------------------------------------
// HTTP (keep-alive)

const agent = new http.Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 128 });
interface Target {
  port: number;
}
function request(target: Target, method: string, urlPath: string, body?: unknown, token?: string, timeoutMs = 30_000) {
  return httpRequest(agent, { port: target.port, method, path: urlPath, body, token, timeoutMs });
}
async function api<T>(target: Target, method: string, urlPath: string, body?: unknown, token?: string): Promise<T> {
  const r = await request(target, method, urlPath, body, token);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${urlPath}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return (r.text ? JSON.parse(r.text) : undefined) as T;
}

/**
 * Setup calls only: a 503 (`unavailable`: a node waited too long for a PostgreSQL connection,
 * which happens on an overloaded machine) or a network error is retried up to 5 times, as its
 * answer asks. Measured sends are never retried; their errors are counted.
 */
async function setupApi<T>(target: Target, method: string, urlPath: string, body?: unknown, token?: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await request(target, method, urlPath, body, token);
      if (r.status === 503 && attempt < 5) {
        setupRetries++;
        await sleep(500 * attempt);
        continue;
      }
      if (r.status < 200 || r.status > 299) throw new Error(`${method} ${urlPath}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      return (r.text ? JSON.parse(r.text) : undefined) as T;
    } catch (err) {
      if (attempt >= 5 || (err as Error).message.includes(': HTTP ')) throw err;
      setupRetries++;
      await sleep(500 * attempt);
    }
  }
}
let setupRetries = 0;

// ---------------------------------------------------------------------------------------------
// Accounts straight into the database

const handleOf = (i: number) => `cb${String(i).padStart(5, '0')}`;

/**
 * N person accounts with one device each, as sign-up writes them (accounts + handles keys +
 * devices), 500 per transaction; returns each account's device token. Index N is a probe account
 * that joins nothing (its `ready` frame tells the newest cursor).
 */
async function seedAccounts(options: { databaseUrl?: string; pgSchema?: string; sqlitePath?: string }, n: number) {
  const db = openDatabase(options);
  await db.migrate();
  const passwordHash = await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 1 });
  const tokens: string[] = [];
  const t0 = now();
  const at = Date.now();
  for (let from = 0; from <= n; from += 500) {
    const to = Math.min(n + 1, from + 500);
    const accounts: AccountsTable[] = [];
    const keys: HandlesTable[] = [];
    const devices: DevicesTable[] = [];
    for (let i = from; i < to; i++) {
      const handle = i === n ? 'cbprobe' : handleOf(i);
      const id = newId('acc', at);
      const token = newToken('device');
      tokens.push(token);
      accounts.push({ id, handle, handle_key: handle.toLowerCase(), password_hash: passwordHash, kind: 'person', role: 'user', created_at: at });
      for (const key of handleKeys(handle)) keys.push({ key, owner_kind: 'account', owner_id: id, created_at: at });
      devices.push({ id: newId('dev', at), account_id: id, name: 'bench', token_hash: hashToken(token), created_at: at, last_seen_at: at, revoked_at: null, acked_cursor: 0 });
    }
    await db.db.transaction().execute(async (tx) => {
      await tx.insertInto('accounts').values(accounts).execute();
      await tx.insertInto('handles').values(keys).execute();
      await tx.insertInto('devices').values(devices).execute();
    });
  }
  await db.close();
  const seconds = (now() - t0) / 1000;
  return { tokens, seeded: { accounts: n + 1, seconds: round(seconds, 1), per_s: Math.round((n + 1) / seconds) } };
}

/** Direct chats 2p ↔ 2p+1 for p < pairs, through the API (spread over `targets`). */
async function openDirectChats(targets: Target[], tokens: string[], pairs: number) {
  const chats: string[] = new Array(pairs);
  const t0 = now();
  await pool(pairs, 50, async (p) => {
    chats[p] = (await setupApi<{ id: string }>(targets[p % targets.length]!, 'POST', '/v1/conversations', { kind: 'direct', members: [handleOf(2 * p + 1)] }, tokens[2 * p])).id;
  });
  return { chats, per_s: Math.round(pairs / ((now() - t0) / 1000)) };
}

// ---------------------------------------------------------------------------------------------
// Delivery tracking and the client processes (bench/messaging-clients.ts, via bench/lib/harness.ts)

const deliveries = deliveryTracker({ timeLeft: deadlineLeft, reserveMs: 45_000 });
const { expectations, expect, waitDelivered, tally } = deliveries;
const clientProcs = clientProcesses({ deliveries, heapMib: 3072 });
/** Which node took each client's socket (from HAProxy's x-mmd-node header). */
const clientNode = new Map<number, string>();

/** Opens sockets for clients [0, n), client i in process i mod P, to url(i); throws if any fails. */
async function connectClients(n: number, url: (i: number) => string) {
  const timeoutMs = Math.max(30_000, Math.min(600_000, deadlineLeft() - 90_000));
  const c = await clientProcs.connect({ from: 0, to: n, url, concurrency: opts.connectConcurrency, timeoutMs: Math.min(120_000, timeoutMs), replyTimeoutMs: timeoutMs + 10_000 });
  for (const [i, node] of c.nodes) clientNode.set(i, node);
  if (c.failed > 0) throw new Error(`${c.failed} of ${n} WebSocket clients failed to connect: ${JSON.stringify(c.samples)}`);
  const perNode: Record<string, number> = {};
  for (const node of clientNode.values()) perNode[node] = (perNode[node] ?? 0) + 1;
  return { connected: n, seconds: round(c.seconds, 1), per_s: Math.round(n / c.seconds), ...(clientNode.size ? { per_node: perNode } : {}) };
}
async function disconnectClients() {
  await clientProcs.disconnect();
  clientNode.clear();
}

// ---------------------------------------------------------------------------------------------
// HAProxy processes and bare broadcast servers

interface Haproxy {
  port: number;
  child: ChildProcess;
}
/** `count` HAProxy processes (maxconn 9,000 each), each balancing over every server. */
async function startHaproxies(dir: string, name: string, count: number, servers: { name: string; port: number }[]): Promise<Haproxy[]> {
  const out: Haproxy[] = [];
  for (let k = 0; k < count; k++) {
    const port = await freePort();
    const config = path.join(dir, `haproxy-${name}-${k}.cfg`);
    writeFileSync(config, haproxyConfig({ port, servers, maxconn: HAPROXY_MAXCONN, tagNode: true, patientChecks: true }));
    const child = track(spawn(HAPROXY, ['-f', config, '-db'], { stdio: ['ignore', 2, 2] }));
    out.push({ port, child });
  }
  for (const h of out) await waitFor(`HAProxy :${h.port}`, answers(`http://127.0.0.1:${h.port}/readyz`), 60_000);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface Phase {
  /** Where sends go (round-robin). */
  targets: Target[];
  tokens: string[];
  chats: string[];
  /** Chat p (p < pairs) joins clients 2p and 2p+1, all of them connected. */
  pairs: number;
}

/** Closed loop: 50 lanes, each sending one message after another into the connected pairs' chats. */
async function throughput(phase: Phase, seconds: number) {
  const pairs = phase.pairs;
  const http: number[] = [];
  const nodes: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  const samples: string[] = [];
  let seq = 0;
  const t0 = now();
  const stopAt = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.inFlight }, async (_, lane) => {
      while (now() < stopAt) {
        const i = seq++;
        const p = i % pairs;
        const sender = 2 * p + (Math.floor(i / pairs) % 2);
        const t = now();
        try {
          const r = await request(phase.targets[lane % phase.targets.length]!, 'POST', `/v1/conversations/${phase.chats[p]}/messages`, { text: `T${i} ${FILLER}` }, phase.tokens[sender], 15_000);
          if (r.status === 201) {
            ok++;
            http.push(now() - t);
            if (r.node) nodes[r.node] = (nodes[r.node] ?? 0) + 1;
          } else {
            errors++;
            if (samples.length < 5) samples.push(`${r.status} ${r.text.slice(0, 200)}`);
          }
        } catch (err) {
          errors++;
          if (samples.length < 5) samples.push((err as Error).message);
        }
      }
    }),
  );
  const s = (now() - t0) / 1000;
  return {
    in_flight: opts.inFlight,
    seconds: round(s, 1),
    messages_accepted: ok,
    messages_per_s: round(ok / s, 1),
    http_ms: percentiles(http),
    errors,
    ...(samples.length ? { error_samples: samples } : {}),
    ...(Object.keys(nodes).length ? { accepted_per_node: nodes } : {}),
    load_after: load(),
  };
}

let messageNo = 0;
/** The open-loop rate both latency runs use (set after the single node's throughput run). */
let latencyRate = opts.rate;
/** Open loop at `rate`: each message into a random connected pair's chat; recipient's arrival time. */
async function latency(phase: Phase, rate: number) {
  const pairs = phase.pairs;
  const sent: { e: Expectation; sendNode: string | null; recipient: number }[] = [];
  const httpMs: number[] = [];
  let errors = 0;
  const samples: string[] = [];
  const inflight = new Set<Promise<void>>();
  const t0 = now();
  for (let j = 0; j < opts.latencyMessages; j++) {
    const wait = t0 + (j * 1000) / rate - now();
    if (wait > 0) await sleep(wait);
    if (deadlineLeft() < 120_000) throw new Error('deadline too close during a latency run');
    while (inflight.size >= 1000) await sleep(5);
    const p = Math.floor(Math.random() * pairs);
    const first = Math.random() < 0.5;
    const sender = first ? 2 * p : 2 * p + 1;
    const recipient = first ? 2 * p + 1 : 2 * p;
    const tag = `L${messageNo++}`;
    const e = expect(tag, [recipient, sender], 2);
    const pr = request(phase.targets[j % phase.targets.length]!, 'POST', `/v1/conversations/${phase.chats[p]}/messages`, { text: `${tag} ${FILLER}` }, phase.tokens[sender], 30_000)
      .then((r) => {
        if (r.status !== 201) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
        httpMs.push(now() - e.sentAt);
        sent.push({ e, sendNode: r.node, recipient });
      })
      .catch((err: Error) => {
        errors++;
        if (samples.length < 5) samples.push(err.message);
        expectations.delete(tag);
      })
      .finally(() => inflight.delete(pr));
    inflight.add(pr);
  }
  const sendSeconds = (now() - t0) / 1000;
  await Promise.all([...inflight]);
  await waitDelivered(
    sent.map((s) => s.e),
    30_000,
  );
  const all: number[] = [];
  const cross: number[] = [];
  const same: number[] = [];
  for (const s of sent) {
    const at = s.e.times[0]!;
    if (Number.isNaN(at)) continue;
    const ms = at - s.e.sentAt;
    all.push(ms);
    const recvNode = clientNode.get(s.recipient);
    if (s.sendNode && recvNode) (s.sendNode === recvNode ? same : cross).push(ms);
  }
  const counts = tally(sent.map((s) => s.e));
  return {
    rate_per_s: rate,
    messages_sent: sent.length,
    achieved_send_rate_per_s: round((sent.length + errors) / sendSeconds, 1),
    send_errors: errors,
    ...(samples.length ? { send_error_samples: samples } : {}),
    send_to_receive_ms: percentiles(all),
    ...(cross.length + same.length > 0 ? { cross_node_send_to_receive_ms: percentiles(cross), same_node_send_to_receive_ms: percentiles(same) } : {}),
    http_send_ms: percentiles(httpMs),
    deliveries_expected: counts.expected,
    not_received: counts.lost,
    duplicates: counts.duplicates,
    load_after: load(),
  };
}

/** Posts one message at a time and times it to the last of `n` subscribers (clients 0..n-1). */
async function fanout(n: number, posts: number, post: (tag: string) => Promise<void>) {
  const toLast: number[] = [];
  const each: Record<string, unknown>[] = [];
  const list: Expectation[] = [];
  for (let k = 0; k < posts; k++) {
    if (deadlineLeft() < 90_000) break;
    const tag = `F${messageNo++}`;
    const e = expect(tag, null, n);
    list.push(e);
    await post(tag);
    const answered = now() - e.sentAt;
    await waitDelivered([e], 60_000);
    const arrivals: number[] = [];
    for (const at of e.times) if (!Number.isNaN(at)) arrivals.push(at - e.sentAt);
    const last = arrivals.length === n ? Math.max(...arrivals) : Number.NaN;
    if (Number.isFinite(last)) toLast.push(last);
    each.push({ ms_to_last: round(last), ms_to_median: median(arrivals), ms_to_first: round(Math.min(...arrivals)), post_answered_ms: round(answered), received: e.received, load: load() });
    log(`  post ${k + 1}: last of ${n} after ${round(last)} ms (received ${e.received})`);
    await sleep(2000);
  }
  const counts = tally(list);
  return { subscribers: n, posts: each, median_ms_to_last: median(toLast), not_received: counts.lost, duplicates: counts.duplicates };
}

// ---------------------------------------------------------------------------------------------
// The run

const result: Record<string, unknown> = {
  benchmark: 'cluster',
  date: new Date().toISOString(),
  command: `node --import tsx bench/cluster.ts${argv.length ? ` ${argv.join(' ')}` : ''}`,
  machine: {
    ...machineInfo(),
    open_files_limit: readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)\s+(\d+)/)?.slice(1, 3).map(Number) ?? null,
    load_average_at_start: load(),
  },
  config: { ...opts, node_env: nodeSettings, haproxy_maxconn_per_process: HAPROXY_MAXCONN, clients_per_haproxy_process_at_most: CLIENTS_PER_HAPROXY },
};

let tmpDir = '';
const schema = `mmd_bench_cluster_${process.pid}`;
let cluster: RunningCluster | null = null;
let finished = false;

async function cleanUp() {
  await clientProcs.stop(2000).catch(() => {});
  if (cluster) await cluster.stop().catch(() => {});
  await stopAllChildren().catch(() => {});
  agent.destroy();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client
    .connect()
    .then(() => client.query(`drop schema if exists "${schema}" cascade`))
    .catch((err: Error) => log(`could not drop schema ${schema}: ${err.message}`))
    .finally(() => client.end().catch(() => {}));
  const redis = openRedis(redisUrl!);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix(schema)}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (err) {
    log(`could not clear Redis keys: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
}

async function finish(code: number) {
  if (finished) return;
  finished = true;
  await cleanUp();
  result.setup_retries_after_503 = setupRetries;
  result.total_seconds = round((now() - startedAt) / 1000, 1);
  result.load_average_at_end = load();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(code);
}
setTimeout(() => {
  log(`deadline of ${opts.deadlineMs / 1000} s reached: stopping`);
  result.error = `deadline of ${opts.deadlineMs / 1000} s reached; the figures present are partial`;
  void finish(1);
}, opts.deadlineMs).unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    result.error = `interrupted by ${signal}`;
    void finish(130);
  });

async function singleNode() {
  const N = opts.clients;
  const dataDir = path.join(tmpDir, 'single');
  log(`single node: seeding ${N} accounts into SQLite`);
  const { tokens, seeded } = await seedAccounts({ sqlitePath: path.join(dataDir, 'mmd.sqlite') }, N);
  const port = await freePort();
  const child = track(spawnNode({ ...nodeSettings, MMD_HOST: '127.0.0.1', MMD_PORT: String(port), MMD_DATA_DIR: dataDir }, 'stderr', nodeArgs));
  await waitFor('single node ready', answers(`http://127.0.0.1:${port}/readyz`), 120_000);
  const target = { port };
  const pairs = Math.min(opts.pairs, N / 2);
  const direct = await openDirectChats([target], tokens, pairs);
  log(`single node: ${pairs} direct chats (${direct.per_s}/s)`);
  const cursor = await latestCursor(port, tokens[N]!);
  const connect = await connectClients(N, (i) => `ws://127.0.0.1:${port}/v1/stream?cursor=${cursor}&token=${encodeURIComponent(tokens[i]!)}`);
  log(`single node: ${N} clients connected (${connect.per_s}/s); throughput for ${opts.throughputSeconds} s`);
  const phase: Phase = { targets: [target], tokens, chats: direct.chats, pairs };
  const tp = await throughput(phase, opts.throughputSeconds);
  result.single_node_sqlite = { connect, throughput: tp };
  latencyRate = Math.max(5, Math.min(opts.rate, Math.floor((tp.messages_per_s ?? 0) / 2)));
  log(`single node: ${tp.messages_per_s} msg/s; latency at ${latencyRate}/s`);
  await sleep(3000);
  const lat = await latency(phase, latencyRate);
  log(`single node: send → receive p50 ${lat.send_to_receive_ms.p50} ms, p99 ${lat.send_to_receive_ms.p99} ms`);
  result.single_node_sqlite = {
    what: 'one MMD process (api + worker roles) on embedded SQLite (WAL, synchronous=FULL), clients connected to it directly, no HAProxy',
    setup: { seeded, direct_chats: pairs, direct_chats_per_s: direct.per_s },
    connect,
    throughput: tp,
    latency: lat,
  };
  await disconnectClients();
  await stopChild(child, 15_000);
}

async function clusterRun() {
  const N = opts.clients;
  const S = Math.max(opts.subscribers, N);
  const dir = path.join(tmpDir, 'cluster');
  mkdirSync(dir, { recursive: true });
  log(`cluster: starting HAProxy, 2 API nodes and a worker (schema ${schema})`);
  const t0 = now();
  cluster = await startCluster({ databaseUrl: databaseUrl!, schema, redisUrl: redisUrl!, port: 0, dir, env: nodeSettings, stdio: 'stderr', nodeArgs });
  const startSeconds = (now() - t0) / 1000;
  log(`cluster: seeding ${S} accounts into PostgreSQL`);
  const { tokens, seeded } = await seedAccounts({ databaseUrl, pgSchema: schema }, S);
  const apiNodes = cluster.nodes.filter((n) => n.port !== null);
  const pairs = Math.min(opts.pairs, N / 2);
  const direct = await openDirectChats(apiNodes.map((n) => ({ port: n.port! })), tokens, pairs);
  log(`cluster: ${pairs} direct chats (${direct.per_s}/s)`);
  const setup: Record<string, unknown> = { cluster_start_seconds: round(startSeconds, 1), seeded, direct_chats: pairs, direct_chats_per_s: direct.per_s };
  const out: Record<string, unknown> = {
    what: 'scripts/cluster.ts topology: HAProxy → API nodes (MMD_ROLES=api) + 1 worker, PostgreSQL (this run’s schema), Redis (this run’s key prefix; live delivery across nodes), s3rver, BullMQ; all on this machine',
    setup,
  };
  result.cluster = out;

  // 10,000 clients through HAProxy over both API nodes.
  const servers = apiNodes.map((n) => ({ name: n.name, port: n.port! }));
  const frontCount = Math.ceil(N / CLIENTS_PER_HAPROXY);
  const fronts = await startHaproxies(dir, 'clients', frontCount, servers);
  const cursor = await latestCursor(fronts[0]!.port, tokens[S]!);
  const ranges = split(N, frontCount);
  const frontOf = (i: number) => fronts[ranges.findIndex(([a, b]) => i >= a && i < b)]!;
  log(`cluster: connecting ${N} clients through ${frontCount} HAProxy process(es)`);
  const connect = await connectClients(N, (i) => `ws://127.0.0.1:${frontOf(i).port}/v1/stream?cursor=${cursor}&token=${encodeURIComponent(tokens[i]!)}`);
  log(`cluster: ${N} connected (${connect.per_s}/s) ${JSON.stringify(connect.per_node ?? {})}; throughput for ${opts.throughputSeconds} s`);
  const phase: Phase = { targets: fronts.map((f) => ({ port: f.port })), tokens, chats: direct.chats, pairs };
  Object.assign(out, { api_nodes: servers.length, haproxy_processes: frontCount, connect });
  const tp = await throughput(phase, opts.throughputSeconds);
  out.throughput = tp;
  log(`cluster: ${tp.messages_per_s} msg/s (HTTP p50 ${tp.http_ms.p50} ms, ${tp.errors} errors); latency at ${latencyRate}/s`);
  await sleep(3000);
  const lat = await latency(phase, latencyRate);
  out.latency = lat;
  log(`cluster: cross-node p50 ${lat.cross_node_send_to_receive_ms?.p50} ms, p99 ${lat.cross_node_send_to_receive_ms?.p99} ms`);
  await disconnectClients();
  for (const f of fronts) await stopChild(f.child);

  // The channel post to S subscribers: as many API nodes as the sockets need.
  const nodesNeeded = Math.max(2, Math.ceil(S / SOCKETS_PER_NODE));
  for (let k = apiNodes.length + 1; k <= nodesNeeded; k++) {
    const port = await freePort();
    const env = { ...apiNodes[0]!.env, MMD_PORT: String(port), MMD_DATA_DIR: path.join(dir, `api${k}`) };
    const child = track(spawnNode(env, 'stderr', nodeArgs));
    await waitFor(`api${k} ready`, answers(`http://127.0.0.1:${port}/readyz`), 120_000);
    servers.push({ name: `api${k}`, port });
    log(`cluster: started api${k} for the fan-out (${S} sockets, at most ${SOCKETS_PER_NODE} per node)`);
    void child;
  }
  const owner = tokens[S]!;
  const channel = await setupApi<{ id: string }>({ port: servers[0]!.port }, 'POST', '/v1/conversations', { kind: 'channel', title: 'bench channel', handle: `benchch${process.pid}` }, owner);
  const tj = now();
  await pool(S, 64, async (i) => {
    await setupApi({ port: servers[i % servers.length]!.port }, 'POST', `/v1/conversations/${channel.id}/join`, undefined, tokens[i]);
  });
  setup.channel_joins = S;
  setup.channel_joins_per_s = Math.round(S / ((now() - tj) / 1000));
  log(`cluster: ${S} channel joins (${setup.channel_joins_per_s}/s)`);
  const subFronts = Math.ceil(S / CLIENTS_PER_HAPROXY);
  const fanFronts = await startHaproxies(dir, 'fanout', subFronts, servers);
  const fanRanges = split(S, subFronts);
  const fanFrontOf = (i: number) => fanFronts[fanRanges.findIndex(([a, b]) => i >= a && i < b)]!;
  const cursor2 = await latestCursor(fanFronts[0]!.port, tokens[S]!);
  log(`cluster: connecting ${S} subscribers through ${subFronts} HAProxy processes to ${servers.length} API nodes`);
  const subConnect = await connectClients(S, (i) => `ws://127.0.0.1:${fanFrontOf(i).port}/v1/stream?cursor=${cursor2}&token=${encodeURIComponent(tokens[i]!)}`);
  log(`cluster: ${S} subscribers connected (${subConnect.per_s}/s) ${JSON.stringify(subConnect.per_node ?? {})}`);
  await sleep(3000);
  const fan = await fanout(S, opts.posts, async (tag) => {
    await api({ port: fanFronts[0]!.port }, 'POST', `/v1/conversations/${channel.id}/messages`, { text: `${tag} ${FILLER}` }, owner);
  });
  out.channel_fanout = { api_nodes: servers.length, haproxy_processes: subFronts, connect: subConnect, ...fan };
  await disconnectClients();
  for (const f of fanFronts) await stopChild(f.child);
  await cluster.stop();
  cluster = null;
  for (const c of [...children]) if (c.spawnargs.includes('serve')) await stopChild(c, 10_000);
  return { nodes: servers.length, fronts: subFronts, S };
}

async function broadcastBaseline(shape: { nodes: number; fronts: number; S: number }) {
  const { nodes, fronts: frontCount, S } = shape;
  log(`baseline: ${nodes} bare ws broadcast processes behind ${frontCount} HAProxy processes, ${S} sockets`);
  const servers: { name: string; port: number }[] = [];
  const procs: ChildProcess[] = [];
  for (let k = 0; k < nodes; k++) {
    const proc = track(fork(path.join(here, 'messaging-baselines.ts'), ['broadcast'], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 2, 'ipc'] }));
    procs.push(proc);
    servers.push({ name: `bcast${k + 1}`, port: await listeningPort(proc) });
  }
  const fronts = await startHaproxies(tmpDir, 'baseline', frontCount, servers);
  const ranges = split(S, frontCount);
  const frontOf = (i: number) => fronts[ranges.findIndex(([a, b]) => i >= a && i < b)]!;
  const connect = await connectClients(S, (i) => `ws://127.0.0.1:${frontOf(i).port}/?c=${i}`);
  log(`baseline: ${S} connected (${connect.per_s}/s)`);
  const pubs = await Promise.all(
    servers.map(
      (s) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${s.port}/?role=pub`, { perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  await sleep(2000);
  const fan = await fanout(S, opts.posts, async (tag) => {
    for (const p of pubs) p.send(JSON.stringify({ tag }));
  });
  for (const p of pubs) p.close();
  result.baseline_bare_ws_broadcast = {
    what: `${nodes} bare ws WebSocketServer processes (bench/messaging-baselines.ts broadcast), behind ${frontCount} HAProxy processes configured as MMD's (leastconn over every server), the same client processes; one publisher socket per server sends the tag to all at once, each server sends one pre-serialised MMD-sized message.created frame to each of its sockets`,
    servers: nodes,
    haproxy_processes: frontCount,
    connect,
    ...fan,
  };
  await disconnectClients();
  for (const f of fronts) await stopChild(f.child);
  for (const p of procs) await stopChild(p);
}

async function run() {
  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-cluster-'));
  const S = Math.max(opts.subscribers, opts.clients);
  const processes = Math.max(opts.clientProcesses, Math.ceil(S / SOCKETS_PER_CLIENT_PROCESS));
  await clientProcs.start(processes);
  result.client_processes = processes;
  await singleNode();
  const shape = await clusterRun();
  await broadcastBaseline(shape);
  const single = result.single_node_sqlite as { throughput: { messages_per_s: number }; latency: { send_to_receive_ms: { p50: number; p99: number } } };
  const c = result.cluster as { throughput: { messages_per_s: number }; latency: { cross_node_send_to_receive_ms?: { p50: number; p99: number } }; channel_fanout: { median_ms_to_last: number } };
  const b = result.baseline_bare_ws_broadcast as { median_ms_to_last: number };
  result.ratios = {
    cluster_vs_single_node_messages_per_s: round(c.throughput.messages_per_s / single.throughput.messages_per_s, 2),
    cluster_cross_node_p99_vs_single_node_p99: c.latency.cross_node_send_to_receive_ms ? round(c.latency.cross_node_send_to_receive_ms.p99 / single.latency.send_to_receive_ms.p99, 2) : null,
    channel_post_to_last_vs_bare_broadcast: round(c.channel_fanout.median_ms_to_last / b.median_ms_to_last, 2),
  };
  result.target = { cross_node_p99_ms_at_most: 50, met: c.latency.cross_node_send_to_receive_ms ? c.latency.cross_node_send_to_receive_ms.p99 <= 50 : null };
  const { unknownTag, unexpectedCloses, closeSamples, frameErrors } = deliveries.stats;
  result.delivery = { untracked: unknownTag, unexpectedCloses, closeSamples, frameErrors };
}

run()
  .then(() => finish(0))
  .catch((err: Error) => {
    log(`failed: ${err.stack ?? err.message}`);
    result.error = err.message;
    return finish(1);
  });
