/**
 * bench:messaging — how fast MMD accepts and delivers messages, on this machine, in one run.
 *
 *   node --import tsx bench/messaging.ts [--clients=10000] [--workers=4] [--rate=200]
 *     [--latency-messages=3000] [--posts=5] [--rounds=3] [--direct-seconds=15] [--group-seconds=10]
 *     [--no-ack] [--quick] [--deadline-seconds=570] [--throughput-only] [--server-cpu-prof=DIR]
 *     [--only=channel-acks] [--ack-posts=1]
 *
 * --throughput-only stops after the throughput runs (1 and the bare insert route); with
 * --clients=400 it takes about a minute. --only=channel-acks skips the throughput and latency runs
 * and the baselines: after setup it connects every client, posts --posts channel posts (default 1
 * there) with clients not acknowledging (the fan-out's CPU per copy), then --ack-posts posts with
 * every subscriber acknowledging (step 3b: ms until all delivery receipts, server CPU per ack with
 * the post's fan-out included; bench/ack-batch.ts times the acknowledgements' write alone). --server-cpu-prof=DIR writes a V8 CPU profile of the
 * measured server (node --cpu-prof) into DIR when it stops.
 *
 * Setup (accounts, chats, channel joins) runs with cheap Argon2, no sign-up limit and
 * synchronous=NORMAL; the server is then restarted with synchronous=FULL (the default) for every
 * measurement. Clients resume from the newest cursor, so nothing is replayed on connect.
 *
 * Starts a fresh MMD server (embedded SQLite in a temp dir) as a child process, then measures:
 *  1. messages/s accepted in direct chats and in a 100-member group (closed loop, N in flight,
 *     keep-alive HTTP, no WebSocket clients connected);
 *  2. send → receive latency over WebSocket with 1,000 and with 10,000 connected clients, the
 *     clients living in child processes (bench/messaging-clients.ts), messages sent open-loop at a
 *     steady rate into direct chats between connected clients;
 *  3. the time for one channel post to reach all 10,000 connected subscribers;
 *  4. server CPU-seconds per delivered message (/proc/PID/stat);
 *  5. server peak RSS (VmHWM) and RSS per connected client;
 *  6. baselines from the same run (bench/messaging-baselines.ts): a bare `ws` broadcast to the same
 *     10,000 sockets, and a bare Fastify + better-sqlite3 (WAL, synchronous=FULL) insert route.
 * Prints one JSON object on stdout (progress goes to stderr) and stops every child it started,
 * also on failure or when its overall deadline passes.
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { fsync, mkdtempSync, openSync, readFileSync, rmSync, write } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { rng } from '../packages/phash/test/random-hashes.ts';
import {
  type Expectation,
  argOptions,
  benchServerSettings,
  children,
  clientProcesses,
  clockTicks,
  cpuSeconds,
  deliveryTracker,
  freePort,
  httpRequest,
  latestCursor,
  listeningPort,
  machineInfo,
  now,
  percentiles,
  poolUntil,
  round,
  serverEnv,
  sleep,
  stopAllChildren,
  stopChild,
  track,
} from './lib/harness.ts';

// ---------------------------------------------------------------------------------------------
// Options

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const { flag, num } = argOptions(argv);
const quick = flag('quick');
const throughputOnly = flag('throughput-only');
const only = argv.find((x) => x.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined && only !== 'channel-acks') throw new Error('--only takes channel-acks');
/** Setup, then the channel steps alone (3 and 3b): the receipt storm measured in a few minutes. */
const channelAcksOnly = only === 'channel-acks';
const serverCpuProfDir = argv.find((x) => x.startsWith('--server-cpu-prof='))?.slice('--server-cpu-prof='.length);
const clientsTotal = Math.floor(num('clients', quick ? 2000 : 10_000) / 2) * 2;
const opts = {
  clients: clientsTotal,
  latencySteps: channelAcksOnly ? [clientsTotal] : [...new Set([Math.min(1000, clientsTotal), clientsTotal])],
  workers: num('workers', 4),
  signupConcurrency: 64,
  setupConcurrency: 50,
  direct: { pairs: 100, inFlight: 50, seconds: num('direct-seconds', quick ? 5 : 15), maxMessages: 60_000 },
  group: { members: 100, inFlight: 50, seconds: num('group-seconds', quick ? 4 : 10), maxMessages: 40_000 },
  latency: { rate: num('rate', 200), messages: num('latency-messages', quick ? 600 : 3000), drainMs: 20_000 },
  channel: {
    posts: num('posts', channelAcksOnly ? 1 : 5),
    /** Posts measured with every subscriber acknowledging (3b), one after another. */
    ackPosts: num('ack-posts', 1),
    deliverTimeoutMs: 30_000,
    receiptsTimeoutMs: 60_000,
  },
  /** Also measure with clients acknowledging every event the way the SDK does (200 ms debounce). */
  ackPass: !flag('no-ack'),
  /** Direct, bare insert and group throughput runs take turns in this many rounds. */
  throughputRounds: num('rounds', 3),
  connectConcurrencyPerWorker: 50,
  deadlineMs: num('deadline-seconds', 570) * 1000,
};
// Cheap password hashing and no sign-up rate limit, so 10,000 accounts are created in seconds.
// Messaging paths never hash passwords, so this does not flatter the figures measured.
const serverSettings = benchServerSettings;
/**
 * Accounts, chats and channel joins are created with synchronous=NORMAL (no fsync per commit) to
 * keep setup short; the server is then restarted on the same data with the default, FULL, and
 * everything reported is measured there.
 */
const setupSettings = { MMD_SQLITE_SYNCHRONOUS: 'normal' };
const measureSettings = { MMD_SQLITE_SYNCHRONOUS: 'full' };
const FILLER = 'x'.repeat(60);
const PASSWORD = 'bench-password-1';

// ---------------------------------------------------------------------------------------------
// Small helpers

const log = (...parts: unknown[]) =>
  process.stderr.write(`[bench ${((now() - startedAt) / 1000).toFixed(1)}s] ${parts.join(' ')}\n`);
const startedAt = now();
const sig = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : null);

function deadlineLeft() {
  return opts.deadlineMs - (now() - startedAt);
}

function median(values: number[]) {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const random = rng(20_240_601);

/** Runs fn(0..n-1) with at most `concurrency` at once; stops starting new ones after `deadline` (now()-based). */
function pool(n: number, concurrency: number, deadline: number, fn: (i: number) => Promise<void>) {
  return poolUntil(n, { concurrency, deadline, error: 'setup step ran past its time limit' }, fn);
}

// ---------------------------------------------------------------------------------------------
// /proc readers

/** A field of /proc/PID/status in KiB (VmRSS, VmHWM). */
function statusKib(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : Number.NaN;
}

/** Busy and steal time of the whole machine from /proc/stat, in seconds. */
function machineCpu(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  return { busy: (user! + nice! + system! + irq! + softirq!) / clockTicks, steal: (steal ?? 0) / clockTicks };
}

/**
 * The machine is not ours alone: every second, count CPU time spent by processes this benchmark
 * did not start (whole-machine busy time minus ours), so a noisy neighbour shows in the result.
 */
const background = { foreignCpu: 0, steal: 0, seconds: 0, worstSecond: 0 };
/**
 * fsync latency of the disk under the data directory, probed 5 times a second (4 KiB write + fsync,
 * on libuv's thread pool so the probe never blocks this process). MMD commits with an fsync on its
 * event loop, so this is the figure that explains most of its throughput and latency swings.
 */
const fsyncSamples: { at: number; ms: number }[] = [];
function startFsyncProbe(dir: string) {
  const fd = openSync(path.join(dir, 'fsync-probe'), 'w');
  const block = Buffer.alloc(4096, 1);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const t = now();
    write(fd, block, 0, block.length, 0, (err) => {
      if (err) {
        busy = false;
        return;
      }
      fsync(fd, () => {
        fsyncSamples.push({ at: t, ms: now() - t });
        busy = false;
      });
    });
  }, 200);
  timer.unref();
}
function fsyncSince(from: number) {
  return percentiles(fsyncSamples.filter((s) => s.at >= from).map((s) => s.ms));
}

/** Other processes' mean busy cores since a mark (the meter samples once a second). */
function noiseMark() {
  return { cpu: background.foreignCpu, seconds: background.seconds };
}
function noiseSince(mark: { cpu: number; seconds: number }) {
  const seconds = background.seconds - mark.seconds;
  return seconds > 0 ? round((background.foreignCpu - mark.cpu) / seconds, 2) : null;
}

function startBackgroundMeter() {
  const ours = () => {
    let sum = process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
    for (const c of children) {
      try {
        if (c.pid) sum += cpuSeconds(c.pid);
      } catch {
        // exited between the listing and the read
      }
    }
    return sum;
  };
  let prevMachine = machineCpu();
  let prevOurs = ours();
  let prevPids = new Set([...children].map((c) => c.pid));
  const timer = setInterval(() => {
    const m = machineCpu();
    const o = ours();
    const pids = new Set([...children].map((c) => c.pid));
    const samePids = pids.size === prevPids.size && [...pids].every((p) => prevPids.has(p));
    // Skip seconds in which our own set of processes changed: their CPU cannot be attributed.
    if (samePids) {
      const foreign = Math.max(0, m.busy - prevMachine.busy - (o - prevOurs));
      background.foreignCpu += foreign;
      background.worstSecond = Math.max(background.worstSecond, foreign);
      background.steal += m.steal - prevMachine.steal;
      background.seconds += 1;
    }
    prevMachine = m;
    prevOurs = o;
    prevPids = pids;
  }, 1000);
  timer.unref();
}

// ---------------------------------------------------------------------------------------------
// Child processes (tracked by the harness, killed on the way out)

/** A child's stdout and stderr go to our stderr: stdout carries only the JSON result. */
function forwardOutput(child: ChildProcess) {
  child.stdout?.on('data', (d: Buffer) => process.stderr.write(d));
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
}

// ---------------------------------------------------------------------------------------------
// HTTP over keep-alive connections

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

function rawRequest(
  port: number,
  method: string,
  urlPath: string,
  body?: unknown,
  token?: string,
  timeoutMs = 30_000,
) {
  return httpRequest(agent, { port, method, path: urlPath, body, token, timeoutMs });
}

async function api<T>(
  port: number,
  method: string,
  urlPath: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const r = await rawRequest(port, method, urlPath, body, token);
  if (r.status < 200 || r.status > 299) throw new HttpError(r.status, r.text, `${method} ${urlPath}`);
  return (r.text ? JSON.parse(r.text) : undefined) as T;
}

/** Closed loop: `inFlight` lanes each sending one request after another until `seconds` or `max`. */
async function closedLoop(options: {
  port: number;
  inFlight: number;
  seconds: number;
  max: number;
  make: (i: number) => { path: string; body: unknown; token?: string };
}) {
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const t0 = now();
  const stopAt = t0 + options.seconds * 1000;
  const lanes = Array.from({ length: options.inFlight }, async () => {
    while (next < options.max && now() < stopAt) {
      const r = options.make(next++);
      const t = now();
      try {
        const res = await rawRequest(options.port, 'POST', r.path, r.body, r.token, 15_000);
        if (res.status === 201 || res.status === 200) {
          ok++;
          latencies.push(now() - t);
        } else {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${res.status} ${res.text.slice(0, 200)}`);
        }
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
      }
    }
  });
  await Promise.all(lanes);
  const seconds = (now() - t0) / 1000;
  return {
    requests_ok: ok,
    errors,
    error_samples: errorSamples,
    seconds: round(seconds, 2),
    per_s: round(ok / seconds, 1),
    http_ms: percentiles(latencies),
    latencies,
  };
}

type LoopResult = Awaited<ReturnType<typeof closedLoop>>;
interface Agg {
  ok: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  cpu: number;
  latencies: number[];
  rounds: number[];
}
function newAgg(): Agg {
  return { ok: 0, errors: 0, errorSamples: [], seconds: 0, cpu: 0, latencies: [], rounds: [] };
}
function addAgg(a: Agg, r: LoopResult, cpu: number) {
  a.ok += r.requests_ok;
  a.errors += r.errors;
  a.errorSamples.push(...r.error_samples.slice(0, 5 - a.errorSamples.length));
  a.seconds += r.seconds ?? 0;
  a.cpu += cpu;
  for (const x of r.latencies) a.latencies.push(x);
  a.rounds.push(r.per_s ?? 0);
}
function aggResult(a: Agg) {
  return {
    ok: a.ok,
    seconds: round(a.seconds, 2),
    per_s: round(a.ok / a.seconds, 1),
    rounds_per_s: a.rounds,
    http_ms: percentiles(a.latencies),
    errors: a.errors,
    ...(a.errors ? { error_samples: a.errorSamples } : {}),
    cpu_s: round(a.cpu, 2),
    cpu_s_per_request: sig(a.cpu / Math.max(1, a.ok)),
    cpu_busy_fraction: round(a.cpu / a.seconds, 2),
  };
}
/** Names the figures for the report: messages for MMD, requests for the bare route; CPU is the server's. */
function renameRate(r: ReturnType<typeof aggResult>, noun: 'messages' | 'requests') {
  const { ok, per_s, rounds_per_s, cpu_s, cpu_s_per_request, cpu_busy_fraction, ...rest } = r;
  const server = noun === 'messages' ? 'server_' : '';
  return {
    [`${noun}_${noun === 'messages' ? 'accepted' : 'ok'}`]: ok,
    [`${noun}_per_s`]: per_s,
    [`${noun}_per_s_each_round`]: rounds_per_s,
    ...rest,
    [`${server}cpu_s`]: cpu_s,
    [`${server}cpu_s_per_${noun === 'messages' ? 'message' : 'request'}`]: cpu_s_per_request,
    [`${server}cpu_busy_fraction`]: cpu_busy_fraction,
  };
}

// ---------------------------------------------------------------------------------------------
// Delivery tracking and the WebSocket client processes (bench/lib/harness.ts)

const deliveries = deliveryTracker({ timeLeft: deadlineLeft, reserveMs: 30_000 });
const { expectations, stats: deliveryStats, expect: expectDelivery, waitDelivered, tally } = deliveries;
const {
  start: startWorkers,
  setAck,
  disconnect: disconnectClients,
  otherEventCounts,
  connect,
} = clientProcesses({ deliveries, heapMib: 2048 });

/** Opens sockets for clients [from, to) spread over the client processes; returns how many opened. */
async function connectClients(from: number, to: number, url: (i: number) => string) {
  const timeoutMs = Math.max(10_000, Math.min(180_000, deadlineLeft() - 60_000));
  return connect({
    from,
    to,
    url,
    concurrency: opts.connectConcurrencyPerWorker,
    timeoutMs: Math.min(60_000, timeoutMs),
    replyTimeoutMs: timeoutMs + 5000,
  });
}

// ---------------------------------------------------------------------------------------------
// The MMD server

interface Server {
  proc: ChildProcess;
  pid: number;
  port: number;
}

async function startServer(dataDir: string, settings: Record<string, string>, profile = false): Promise<Server> {
  const port = await freePort();
  const profiling = profile && serverCpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(serverCpuProfDir)}`] : [];
  const env = serverEnv(serverSettings, settings, { MMD_DATA_DIR: dataDir, MMD_PORT: String(port) });
  const proc = track(
    spawn(process.execPath, [...profiling, '--import', 'tsx', 'apps/server/src/main.ts', 'serve'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  forwardOutput(proc);
  let exited = false;
  proc.once('exit', () => {
    exited = true;
  });
  const until = now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the MMD server exited during start (code ${proc.exitCode})`);
    if (now() > until) throw new Error('the MMD server was not ready within 60 s');
    try {
      const r = await rawRequest(port, 'GET', '/readyz', undefined, undefined, 2000);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return { proc, pid: proc.pid!, port };
}

// ---------------------------------------------------------------------------------------------
// The run

const result: Record<string, unknown> = {
  benchmark: 'messaging',
  date: new Date().toISOString(),
  command: `node --import tsx bench/messaging.ts${argv.length ? ` ${argv.join(' ')}` : ''}`,
  machine: machineInfo(),
  source: (() => {
    const git = (args: string[]) =>
      spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
    return {
      commit: git(['rev-parse', '--short', 'HEAD']),
      uncommitted_server_files: git(['status', '--porcelain', 'apps/server/src']).split('\n').filter(Boolean)
        .length,
    };
  })(),
  config: {
    server_env: { ...serverSettings, ...measureSettings },
    setup_server_env: { ...serverSettings, ...setupSettings },
    server_note:
      'Cheap Argon2 (1 MiB, 1 pass) and no sign-up rate limit only make creating 10,000 accounts fast; accounts, chats and joins are created with synchronous=NORMAL, then the server is restarted on the same data with synchronous=FULL (the default: one fsync per commit) and every figure below is measured there. SQLite embedded, WAL, logging at warn.',
    clients: opts.clients,
    client_processes: opts.workers,
    latency_steps: opts.latencySteps,
    direct: opts.direct,
    group: opts.group,
    latency: opts.latency,
    latency_with_acknowledging_clients: opts.ackPass,
    channel: { posts: opts.channel.posts, ack_posts: opts.channel.ackPosts },
    only: only ?? null,
    message_text: 'tag + 61 bytes; WebSocket event frame ~420 bytes',
    clock: 'process.hrtime (CLOCK_MONOTONIC), shared by all processes on the machine',
  },
};

let tmpDir = '';
let finished = false;
async function finish(code: number) {
  if (finished) return;
  finished = true;
  await stopAllChildren().catch(() => {});
  agent.destroy();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  result.total_seconds = round((now() - startedAt) / 1000, 1);
  result.machine_noise = {
    what: 'CPU used by processes this benchmark did not start, sampled each second: the machine is shared, so check this before comparing runs',
    other_processes_cpu_s: round(background.foreignCpu, 1),
    other_processes_mean_cores_busy: round(background.foreignCpu / Math.max(1, background.seconds), 2),
    other_processes_worst_second_cores_busy: round(background.worstSecond, 2),
    disk_fsync_ms_whole_run: fsyncSince(0),
    steal_s: round(background.steal, 1),
    load_average_at_start: loadAtStart,
    load_average_at_end: os.loadavg().map((x) => round(x, 2)),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(code);
}

const watchdog = setTimeout(() => {
  log(`deadline of ${opts.deadlineMs / 1000} s reached: stopping`);
  result.error = `deadline of ${opts.deadlineMs / 1000} s reached; the figures present are partial`;
  void finish(1);
}, opts.deadlineMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    result.error = `interrupted by ${signal}`;
    void finish(130);
  });
}

/** Waits (bounded) until a process uses less than 10% of a core over 300 ms. */
async function waitQuiet(pid: number, maxMs: number) {
  const until = now() + Math.max(0, Math.min(maxMs, deadlineLeft() - 60_000));
  let prev = cpuSeconds(pid);
  while (now() < until) {
    await sleep(300);
    const c = cpuSeconds(pid);
    if (c - prev < 0.03) return;
    prev = c;
  }
}

interface Ctx {
  port: number;
  pid: number;
  tokens: string[];
  directChat: string[];
}

/** Every MMD delivery expected, re-counted at the end: a late frame is not a lost one. */
const mmdExpectations: Expectation[] = [];
let messageNo = 0;

/** Sends open-loop at a steady rate into direct chats between connected clients 0..step-1. */
async function latencyPass(ctx: Ctx, step: number, acknowledging: boolean) {
  const { port, pid, tokens, directChat } = ctx;
  await setAck(acknowledging);
  const livePairs = step / 2;
  const sent: Expectation[] = [];
  const httpMs: number[] = [];
  let sendErrors = 0;
  const sendErrorSamples: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const inflight = new Set<Promise<void>>();
  const cpu0 = cpuSeconds(pid);
  const noise0 = noiseMark();
  const t0 = now();
  log(
    `latency @${step} clients${acknowledging ? ', acknowledging' : ''}: ${opts.latency.messages} messages at ${opts.latency.rate}/s`,
  );
  for (let j = 0; j < opts.latency.messages; j++) {
    const wait = t0 + (j * 1000) / opts.latency.rate - now();
    if (wait > 0) await sleep(wait);
    for (let spins = 0; inFlight >= 1000 && spins < 2000; spins++) await sleep(5);
    if (deadlineLeft() < 90_000) throw new Error('deadline too close during the latency phase');
    const p = Math.floor(random() * livePairs);
    const fromFirst = random() < 0.5;
    const sender = fromFirst ? 2 * p : 2 * p + 1;
    const recipient = fromFirst ? 2 * p + 1 : 2 * p;
    const tag = `L${step}${acknowledging ? 'a' : 'n'}-${messageNo++}`;
    const e = expectDelivery(tag, [recipient, sender], 2);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const pr = rawRequest(
      port,
      'POST',
      `/v1/conversations/${directChat[p]}/messages`,
      { text: `${tag} ${FILLER}` },
      tokens[sender],
      30_000,
    )
      .then((r) => {
        if (r.status !== 201) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
        httpMs.push(now() - e.sentAt);
        sent.push(e);
      })
      .catch((err: Error) => {
        sendErrors++;
        if (sendErrorSamples.length < 5) sendErrorSamples.push(err.message);
        expectations.delete(tag);
      })
      .finally(() => {
        inFlight--;
        inflight.delete(pr);
      });
    inflight.add(pr);
  }
  const sendSeconds = (now() - t0) / 1000;
  await Promise.all([...inflight]);
  mmdExpectations.push(...sent);
  await waitDelivered(sent, opts.latency.drainMs);
  const counts = tally(sent);
  await sleep(acknowledging ? 1500 : 300);
  const cpu = cpuSeconds(pid) - cpu0;
  await waitQuiet(pid, 30_000);
  const peer: number[] = [];
  for (const e of sent) if (!Number.isNaN(e.times[0]!)) peer.push(e.times[0]! - e.sentAt);
  const lat = percentiles(peer);
  log(
    `  p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms; missing ${counts.lost}, duplicates ${counts.duplicates}`,
  );
  return {
    connected_clients: step,
    clients_acknowledge: acknowledging,
    messages_sent: sent.length,
    send_rate_per_s: round((sent.length + sendErrors) / sendSeconds, 1),
    send_errors: sendErrors,
    ...(sendErrors ? { send_error_samples: sendErrorSamples } : {}),
    send_to_receive_ms: lat,
    http_send_ms: percentiles(httpMs),
    max_http_in_flight: maxInFlight,
    deliveries_expected: counts.expected,
    not_received_within_drain: counts.lost,
    duplicates: counts.duplicates,
    misdelivered: counts.unexpected,
    server_cpu_s: round(cpu, 2),
    server_cpu_s_per_delivered_message: sig(cpu / Math.max(1, sent.filter((e) => e.received === e.n).length)),
    server_cpu_busy_fraction: round(cpu / ((now() - t0) / 1000), 2),
    other_processes_cores_busy: noiseSince(noise0),
    disk_fsync_ms: fsyncSince(t0),
  };
}

const loadAtStart = os.loadavg().map((x) => round(x, 2));

async function run() {
  startBackgroundMeter();
  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-'));
  startFsyncProbe(tmpDir);
  const dataDir = path.join(tmpDir, 'mmd');
  const N = opts.clients;
  log(`starting MMD (setup mode, synchronous=NORMAL) in ${dataDir}`);
  let server = await startServer(dataDir, setupSettings);
  const handles = Array.from({ length: N }, (_, i) => `bu${String(i).padStart(5, '0')}`);
  const tokens: string[] = new Array(N);

  // Setup: accounts, direct chats (2p ↔ 2p+1), a group, a channel everyone joins ------------------
  const setup: Record<string, unknown> = {
    note: 'with synchronous=NORMAL; not a measurement of the default configuration',
  };
  result.setup = setup;
  {
    const port = server.port;
    let t = now();
    const owner = await api<{ token: string }>(port, 'POST', '/v1/accounts', {
      handle: 'bench_owner',
      password: PASSWORD,
    });
    const probe = await api<{ token: string }>(port, 'POST', '/v1/accounts', {
      handle: 'bench_probe',
      password: PASSWORD,
    });
    await pool(N, opts.signupConcurrency, now() + 150_000, async (i) => {
      tokens[i] = (
        await api<{ token: string }>(port, 'POST', '/v1/accounts', { handle: handles[i], password: PASSWORD })
      ).token;
    });
    setup.accounts = N + 2;
    setup.signups_per_s = round((N + 2) / ((now() - t) / 1000), 0);
    log(`${N} accounts in ${((now() - t) / 1000).toFixed(1)} s`);

    t = now();
    const directChat: string[] = new Array(N / 2);
    await pool(N / 2, opts.setupConcurrency, now() + 90_000, async (p) => {
      directChat[p] = (
        await api<{ id: string }>(
          port,
          'POST',
          '/v1/conversations',
          { kind: 'direct', members: [handles[2 * p + 1]] },
          tokens[2 * p],
        )
      ).id;
    });
    setup.direct_chats = N / 2;
    setup.direct_chats_per_s = round(N / 2 / ((now() - t) / 1000), 0);
    log(`${N / 2} direct chats in ${((now() - t) / 1000).toFixed(1)} s`);

    const groupSize = Math.min(opts.group.members, N);
    const group = await api<{ id: string; member_count: number }>(
      port,
      'POST',
      '/v1/conversations',
      { kind: 'group', title: 'bench group', members: handles.slice(1, groupSize) },
      tokens[0],
    );
    setup.group_members = group.member_count;

    t = now();
    const channel = await api<{ id: string }>(
      port,
      'POST',
      '/v1/conversations',
      { kind: 'channel', title: 'bench channel', handle: 'bench_channel' },
      owner.token,
    );
    await pool(N, opts.setupConcurrency, now() + 150_000, async (i) => {
      await api(port, 'POST', `/v1/conversations/${channel.id}/join`, undefined, tokens[i]);
    });
    setup.channel_subscribers = N;
    setup.channel_joins_per_s = round(N / ((now() - t) / 1000), 0);
    log(`${N} channel joins in ${((now() - t) / 1000).toFixed(1)} s`);

    log('restarting MMD with the default durability (synchronous=FULL)');
    await stopChild(server.proc, 15_000);
    server = await startServer(dataDir, measureSettings, true);
    await measure({ port: server.port, pid: server.pid, tokens, directChat }, server, {
      owner: owner.token,
      probe: probe.token,
      groupId: group.id,
      groupSize,
      channelId: channel.id,
    });
  }
}

/** Step 1 (and the bare insert route, 6b): messages accepted per second; answers the ratios. */
async function throughputRuns(
  ctx: Ctx,
  ids: { owner: string; probe: string; groupId: string; groupSize: number; channelId: string },
) {
  const { port, pid, tokens, directChat } = ctx;
  const N = opts.clients;
  // 1. Throughput: messages accepted per second, closed loop, no sockets connected -----------------
  // MMD direct chats, the bare insert route (6b) and the MMD group take turns in short rounds, so
  // that drift in the disk's fsync speed (large on a VM) hits all three alike.
  const directPairs = Math.min(opts.direct.pairs, N / 4);
  const baselines: Record<string, unknown> = {};
  result.baselines = baselines;
  const ins = track(
    fork(path.join(here, 'messaging-baselines.ts'), ['insert', tmpDir], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  forwardOutput(ins);
  const iport = await listeningPort(ins);
  // Warm-up (not measured): both servers just started, so let the JIT see their hot paths first.
  const warm = await closedLoop({
    port,
    inFlight: opts.direct.inFlight,
    seconds: 3,
    max: 5000,
    make: (i) => {
      const p = directPairs + (i % directPairs);
      return {
        path: `/v1/conversations/${directChat[p]}/messages`,
        body: { text: `W${i} ${FILLER}` },
        token: tokens[2 * p + (i % 2)],
      };
    },
  });
  await closedLoop({
    port: iport,
    inFlight: opts.direct.inFlight,
    seconds: 1,
    max: 5000,
    make: (i) => ({ path: '/insert', body: { text: `W${i} ${FILLER}` } }),
  });
  log(`warm-up: ${warm.requests_ok} messages, ${warm.errors} errors`);
  const rounds = opts.throughputRounds;
  const agg = { direct: newAgg(), insert: newAgg(), group: newAgg() };
  let seqNo = 0;
  const throughputNoise = noiseMark();
  const throughputStart = now();
  for (let r = 0; r < rounds; r++) {
    log(
      `throughput round ${r + 1}/${rounds}: direct, bare insert, group (${opts.direct.inFlight} in flight)`,
    );
    let c0 = cpuSeconds(pid);
    addAgg(
      agg.direct,
      await closedLoop({
        port,
        inFlight: opts.direct.inFlight,
        seconds: opts.direct.seconds / rounds,
        max: opts.direct.maxMessages,
        make: () => {
          const i = seqNo++;
          const p = i % directPairs;
          const sender = Math.floor(i / directPairs) % 2 === 0 ? 2 * p : 2 * p + 1;
          return {
            path: `/v1/conversations/${directChat[p]}/messages`,
            body: { text: `D${i} ${FILLER}` },
            token: tokens[sender],
          };
        },
      }),
      cpuSeconds(pid) - c0,
    );
    c0 = cpuSeconds(ins.pid!);
    addAgg(
      agg.insert,
      await closedLoop({
        port: iport,
        inFlight: opts.direct.inFlight,
        seconds: opts.direct.seconds / rounds,
        max: opts.direct.maxMessages,
        make: () => ({ path: '/insert', body: { text: `I${seqNo++} ${FILLER}` } }),
      }),
      cpuSeconds(ins.pid!) - c0,
    );
    c0 = cpuSeconds(pid);
    addAgg(
      agg.group,
      await closedLoop({
        port,
        inFlight: opts.group.inFlight,
        seconds: opts.group.seconds / rounds,
        max: opts.group.maxMessages,
        make: () => {
          const i = seqNo++;
          return {
            path: `/v1/conversations/${ids.groupId}/messages`,
            body: { text: `G${i} ${FILLER}` },
            token: tokens[i % ids.groupSize],
          };
        },
      }),
      cpuSeconds(pid) - c0,
    );
  }
  await stopChild(ins);
  const direct = aggResult(agg.direct);
  const insertRun = aggResult(agg.insert);
  const groupRun = aggResult(agg.group);
  result.throughput_conditions = {
    other_processes_cores_busy: noiseSince(throughputNoise),
    disk_fsync_ms: fsyncSince(throughputStart),
  };
  result.direct_throughput = {
    chats: directPairs,
    senders: directPairs * 2,
    in_flight: opts.direct.inFlight,
    ...renameRate(direct, 'messages'),
  };
  result.group_throughput = {
    members: ids.groupSize,
    senders: ids.groupSize,
    in_flight: opts.group.inFlight,
    ...renameRate(groupRun, 'messages'),
  };
  baselines.bare_sqlite_insert_route = {
    what: 'bare Fastify POST route inserting one row with better-sqlite3 in WAL mode with synchronous=FULL (one fsync per request), same load generator and concurrency as the direct-chat run, run in turns with it',
    in_flight: opts.direct.inFlight,
    ...renameRate(insertRun, 'requests'),
  };
  log(
    `direct: ${direct.per_s} msg/s ${JSON.stringify(direct.rounds_per_s)}; bare insert: ${insertRun.per_s} req/s ${JSON.stringify(insertRun.rounds_per_s)}; group: ${groupRun.per_s} msg/s ${JSON.stringify(groupRun.rounds_per_s)}`,
  );
  const throughputRatios = {
    direct_messages_per_s_vs_bare_insert_requests_per_s: round((direct.per_s ?? 0) / (insertRun.per_s ?? 1), 3),
    group_messages_per_s_vs_bare_insert_requests_per_s: round((groupRun.per_s ?? 0) / (insertRun.per_s ?? 1), 3),
  };
  return throughputRatios;
}

async function measure(
  ctx: Ctx,
  server: Server,
  ids: { owner: string; probe: string; groupId: string; groupSize: number; channelId: string },
) {
  const { port, pid, tokens } = ctx;
  const N = opts.clients;

  let throughputRatios: Record<string, number | null> = {};
  if (!channelAcksOnly) {
    throughputRatios = await throughputRuns(ctx, ids);
    if (throughputOnly) {
      result.ratios = throughputRatios;
      // A graceful stop, so a --server-cpu-prof profile is written.
      await stopChild(server.proc, 15_000);
      return;
    }
  }

  // 2. Latency with 1,000 and 10,000 connected clients ---------------------------------------------
  log(`starting ${opts.workers} client processes`);
  await startWorkers(opts.workers);
  await waitQuiet(pid, 5000);
  const memory: Record<string, unknown> = {};
  result.memory = memory;
  const rssIdleKib = statusKib(pid, 'VmRSS');
  memory.server_rss_before_clients_mib = round(rssIdleKib / 1024, 1);
  const steps: Record<string, unknown>[] = [];
  memory.steps = steps;
  const latency: Record<string, unknown>[] = [];
  result.latency = latency;
  let connected = 0;
  for (const step of opts.latencySteps) {
    if (deadlineLeft() < 150_000) throw new Error('not enough time left for the latency phase');
    const cursor = await latestCursor(port, ids.probe);
    const rssBefore = statusKib(pid, 'VmRSS');
    log(`connecting clients ${connected}..${step - 1} (resuming from cursor ${cursor})`);
    const c = await connectClients(
      connected,
      step,
      (i) => `ws://127.0.0.1:${port}/v1/stream?cursor=${cursor}&token=${encodeURIComponent(tokens[i]!)}`,
    );
    if (c.failed > 0)
      throw new Error(
        `${c.failed} of ${step - connected} WebSocket clients failed to connect: ${JSON.stringify(c.samples)}`,
      );
    await waitQuiet(pid, 5000);
    const rssAfter = statusKib(pid, 'VmRSS');
    steps.push({
      connected: step,
      added: step - connected,
      connects_per_s: round((step - connected) / c.seconds, 0),
      server_rss_mib: round(rssAfter / 1024, 1),
      kib_per_added_client: round((rssAfter - rssBefore) / (step - connected), 1),
    });
    log(
      `${step} connected (${((step - connected) / c.seconds).toFixed(0)}/s); server RSS ${(rssAfter / 1024).toFixed(0)} MiB`,
    );
    connected = step;
    if (channelAcksOnly) continue;
    latency.push(await latencyPass(ctx, step, false));
    if (opts.ackPass) latency.push(await latencyPass(ctx, step, true));
  }
  memory.server_rss_with_all_clients_mib = round(statusKib(pid, 'VmRSS') / 1024, 1);
  memory.rss_per_connected_client_kib = round((statusKib(pid, 'VmRSS') - rssIdleKib) / N, 1);

  // 3. Channel post → every subscriber (clients not acknowledging: fan-out alone) --------------------
  await setAck(false);
  await waitQuiet(pid, 20_000);
  const posts: Record<string, unknown>[] = [];
  const toLast: number[] = [];
  const channelPosts: Expectation[] = [];
  let fanoutCpu = 0;
  const channelNoise = noiseMark();
  const channelStart = now();
  for (let k = 0; k < opts.channel.posts; k++) {
    if (deadlineLeft() < 120_000) break;
    const tag = `C${k}`;
    const cpuStart = cpuSeconds(pid);
    const e = expectDelivery(tag, null, N);
    channelPosts.push(e);
    mmdExpectations.push(e);
    await api(
      port,
      'POST',
      `/v1/conversations/${ids.channelId}/messages`,
      { text: `${tag} ${FILLER}` },
      ids.owner,
    );
    const httpMs = now() - e.sentAt;
    await waitDelivered([e], opts.channel.deliverTimeoutMs);
    const arrivals = Array.from(e.times)
      .filter((x) => !Number.isNaN(x))
      .map((x) => x - e.sentAt);
    const last = arrivals.length === N ? Math.max(...arrivals) : Number.NaN;
    if (Number.isFinite(last)) toLast.push(last);
    await sleep(200);
    fanoutCpu += cpuSeconds(pid) - cpuStart;
    posts.push({
      ms_to_last_subscriber: round(last),
      ms_to_median_subscriber: round(median(arrivals)),
      ms_to_first_subscriber: round(Math.min(...arrivals)),
      http_response_ms: round(httpMs),
      received: e.received,
      duplicates: e.duplicates,
    });
    log(
      `channel post ${k + 1}: last of ${N} subscribers after ${round(last)} ms (median ${round(median(arrivals))} ms, HTTP answer ${round(httpMs)} ms)`,
    );
    await waitQuiet(pid, 5000);
  }
  const fanoutCounts = tally(channelPosts);
  const channel: Record<string, unknown> = {
    subscribers_connected: N,
    posts,
    median_ms_to_last_subscriber: round(median(toLast)),
    not_received: fanoutCounts.lost,
    duplicates: fanoutCounts.duplicates,
    server_cpu_s_per_delivered_copy: sig(fanoutCpu / Math.max(1, fanoutCounts.received)),
    other_processes_cores_busy: noiseSince(channelNoise),
    disk_fsync_ms: fsyncSince(channelStart),
  };
  result.channel_fanout = channel;

  // 3b. The same post with every subscriber acknowledging, as SDK clients do: the receipt storm.
  // CPU per acknowledgement counts the server's CPU from the post on, its fan-out included.
  const ackRuns: Record<string, number | null>[] = [];
  for (let k = 0; opts.ackPass && k < opts.channel.ackPosts && deadlineLeft() > 120_000; k++) {
    await setAck(true);
    const e = expectDelivery(`CR${k}`, null, N);
    mmdExpectations.push(e);
    const cpuStart = cpuSeconds(pid);
    const posted = await api<{ id: string }>(
      port,
      'POST',
      `/v1/conversations/${ids.channelId}/messages`,
      { text: `CR${k} ${FILLER}` },
      ids.owner,
    );
    await waitDelivered([e], opts.channel.deliverTimeoutMs);
    const arrivals = Array.from(e.times)
      .filter((x) => !Number.isNaN(x))
      .map((x) => x - e.sentAt);
    let receiptsMs: number | null = null;
    let receipts = { delivered: 0, recipients: 0 };
    const until = now() + Math.min(opts.channel.receiptsTimeoutMs, Math.max(5000, deadlineLeft() - 100_000));
    while (now() < until) {
      receipts = await api<{ delivered: number; recipients: number }>(
        port,
        'GET',
        `/v1/messages/${posted.id}/receipts`,
        undefined,
        ids.owner,
      );
      if (receipts.delivered >= N) {
        receiptsMs = now() - e.sentAt;
        break;
      }
      // Polled every 50 ms (250 ms until 2026-12-06): the figure is late by at most this much.
      await sleep(50);
    }
    await waitQuiet(pid, 15_000);
    const cpuAll = cpuSeconds(pid) - cpuStart;
    ackRuns.push({
      ms_to_last_subscriber: round(arrivals.length === N ? Math.max(...arrivals) : Number.NaN),
      ms_until_all_delivery_receipts_recorded: receiptsMs === null ? null : round(receiptsMs, 0),
      delivery_receipts_recorded: receipts.delivered,
      server_cpu_s_total: round(cpuAll, 2),
      server_cpu_ms_per_acknowledgement: round((cpuAll * 1000) / N, 3),
    });
    log(
      `channel post with acknowledging subscribers: all ${receipts.delivered} delivery receipts recorded after ${receiptsMs === null ? 'timeout' : Math.round(receiptsMs)} ms; server CPU ${round((cpuAll * 1000) / N, 3)} ms per ack`,
    );
    await setAck(false);
    await waitQuiet(pid, 5000);
  }
  if (ackRuns.length === 1) channel.with_acknowledging_subscribers = ackRuns[0];
  else if (ackRuns.length > 1) {
    // Several posts: the median of each figure (a receipts timeout counts as the worst).
    const med = (key: string) => {
      const v = ackRuns.map((r) => r[key] ?? Number.POSITIVE_INFINITY);
      const m = median(v);
      return Number.isFinite(m) ? round(m, 3) : null;
    };
    channel.with_acknowledging_subscribers = {
      posts: ackRuns.length,
      ...Object.fromEntries(Object.keys(ackRuns[0]!).map((key) => [key, med(key)])),
      each: ackRuns,
    };
  }
  memory.server_peak_rss_mib = round(statusKib(pid, 'VmHWM') / 1024, 1);
  result.other_events_received = otherEventCounts();
  const mmdCounts = tally(mmdExpectations);

  // Stop MMD before the broadcast baseline so it has the machine to itself, as MMD had.
  log('stopping MMD clients and server');
  await disconnectClients();
  await stopChild(server.proc, 10_000);
  if (channelAcksOnly) {
    result.delivery_check = deliveryCheck(mmdCounts);
    return;
  }

  // 6a. Baseline: bare ws broadcast to the same number of sockets ----------------------------------
  const bcast = track(
    fork(path.join(here, 'messaging-baselines.ts'), ['broadcast'], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  forwardOutput(bcast);
  const sendLoopMs: number[] = [];
  bcast.on('message', (m) => {
    const msg = m as { t?: string; ms?: number };
    if (msg.t === 'broadcast') sendLoopMs.push(msg.ms!);
  });
  const bport = await listeningPort(bcast);
  log(`bare ws broadcast server: connecting ${N} clients`);
  const bc = await connectClients(0, N, (i) => `ws://127.0.0.1:${bport}/?c=${i}`);
  if (bc.failed > 0)
    throw new Error(
      `${bc.failed} clients failed to connect to the bare ws server: ${JSON.stringify(bc.samples)}`,
    );
  await sleep(1000);
  const pub = await new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${bport}/?role=pub`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
  const bposts: number[] = [];
  const bExpect: Expectation[] = [];
  const bcpu0 = cpuSeconds(bcast.pid!);
  const bNoise = noiseMark();
  for (let k = 0; k < opts.channel.posts; k++) {
    if (deadlineLeft() < 30_000) break;
    const e = expectDelivery(`B${k}`, null, N);
    bExpect.push(e);
    pub.send(JSON.stringify({ tag: `B${k}` }));
    await waitDelivered([e], opts.channel.deliverTimeoutMs);
    const arrivals = Array.from(e.times)
      .filter((x) => !Number.isNaN(x))
      .map((x) => x - e.sentAt);
    if (arrivals.length === N) bposts.push(Math.max(...arrivals));
    await sleep(500);
  }
  const bcpu = cpuSeconds(bcast.pid!) - bcpu0;
  pub.close();
  const bCounts = tally(bExpect);
  const baselines = (result.baselines ?? {}) as Record<string, unknown>;
  result.baselines = baselines;
  baselines.bare_ws_broadcast = {
    what: 'bare ws WebSocketServer in its own process: parse one JSON frame, send one pre-serialised MMD-sized event frame to every socket (same client processes, same sockets count)',
    subscribers_connected: N,
    ms_to_last_subscriber_each: bposts.map((x) => round(x)),
    median_ms_to_last_subscriber: round(median(bposts)),
    server_send_loop_ms_each: sendLoopMs.map((x) => round(x)),
    not_received: bCounts.lost,
    duplicates: bCounts.duplicates,
    cpu_s_per_delivered_copy: sig(bcpu / Math.max(1, bCounts.received)),
    other_processes_cores_busy: noiseSince(bNoise),
  };
  log(`bare broadcast: median ${round(median(bposts))} ms to the last of ${N}`);
  await disconnectClients();
  await stopChild(bcast);

  // Ratios and the delivery verdict ----------------------------------------------------------------
  result.ratios = {
    channel_post_to_last_subscriber_vs_bare_broadcast: round(median(toLast) / median(bposts), 2),
    ...throughputRatios,
  };
  result.delivery_check = deliveryCheck(mmdCounts);
}

/** The delivery verdict: every expected (client, message) pair counted once MMD finished. */
function deliveryCheck(mmdCounts: ReturnType<typeof tally>) {
  return {
    what: 'every expected (client, message) pair across the latency runs and channel posts, counted again once MMD finished',
    expected: mmdCounts.expected,
    received: mmdCounts.received,
    lost: mmdCounts.lost,
    duplicates: mmdCounts.duplicates,
    misdelivered: mmdCounts.unexpected,
    unexpected_socket_closes: deliveryStats.unexpectedCloses,
    ...(deliveryStats.closeSamples.length ? { close_samples: deliveryStats.closeSamples } : {}),
    error_frames: deliveryStats.frameErrors,
    ...(deliveryStats.frameErrorSamples.length
      ? { error_frame_samples: deliveryStats.frameErrorSamples }
      : {}),
    frames_with_unknown_tag: deliveryStats.unknownTag,
    ok: mmdCounts.lost === 0 && mmdCounts.duplicates === 0 && mmdCounts.unexpected === 0,
  };
}

run()
  .then(() => finish(0))
  .catch((err: Error) => {
    log(`failed: ${err.stack ?? err.message}`);
    result.error = err.message;
    return finish(1);
  });
