/**
 * What the benchmarks share: reading their options, the clock and percentiles, bounded
 * concurrency, child processes that never outlive the run, and the WebSocket client processes
 * (bench/messaging-clients.ts) that bench:messaging and bench:cluster drive over IPC, with the
 * bookkeeping of which client must receive which tagged message and when each did.
 *
 * Only mechanics live here; what a benchmark measures and the JSON it prints stay in its file.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

export { freePort } from '../../scripts/cluster.ts';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(benchDir, '..');

// ---------------------------------------------------------------------------------------------
// Options

/** Readers for a benchmark's command line (`argv` without node and the script). */
export function argOptions(argv: readonly string[]) {
  /** `--name=value` or `--name value`. */
  const option = (name: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === `--${name}`) return argv[i + 1];
      if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
    }
    return undefined;
  };
  return {
    option,
    /** `--name` present. */
    flag: (name: string) => argv.includes(`--${name}`),
    /** `--name=value`, a positive number (not necessarily whole). */
    num(name: string, fallback: number): number {
      const a = argv.find((x) => x.startsWith(`--${name}=`));
      if (!a) return fallback;
      const v = Number(a.slice(name.length + 3));
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
      return v;
    },
    /** `--name=value` or `--name value`, a positive whole number; `1_000_000` is read as 1000000. */
    count(name: string, fallback: number): number {
      const raw = option(name);
      if (raw === undefined) return fallback;
      const v = Number(raw.replace(/_/g, ''));
      if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number (got ${raw})`);
      return v;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Time and statistics

/**
 * Milliseconds on process.hrtime (CLOCK_MONOTONIC): the same clock in every process on the
 * machine, so a client process's arrival time can be set against the send time taken here.
 */
export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Rounded to `digits` decimals; null for NaN and infinities (JSON has neither). */
export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** p50/p99/max with nearest-rank percentiles. */
export function percentiles(values: number[]) {
  if (values.length === 0) return { n: 0, p50: null, p99: null, max: null };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { n: s.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(s[s.length - 1]!) };
}

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. Unrounded. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Splits 0..n-1 into `parts` contiguous, nearly equal ranges. */
export function split(n: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, k) => [Math.floor((k * n) / parts), Math.floor(((k + 1) * n) / parts)] as [number, number]);
}

/** Clock ticks per second of /proc's CPU times. */
export const clockTicks = (() => {
  const v = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim());
  return Number.isFinite(v) && v > 0 ? v : 100;
})();

/** utime + stime of a process, in seconds (/proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** The machine a result was measured on (the start of a result's `machine` object). */
export function machineInfo() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Bounded concurrency

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        await fn(items[i]!, i);
      }
    }),
  );
}

/**
 * Runs fn(0..n-1) with at most `concurrency` at once; once now() passes `deadline` it starts no
 * more and throws `error` (setup that would eat the time the measurements need).
 */
export async function poolUntil(n: number, options: { concurrency: number; deadline: number; error: string }, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, n) }, async () => {
      while (next < n) {
        if (now() > options.deadline) throw new Error(options.error);
        await fn(next++);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * One request to 127.0.0.1:`port` over `agent` (keep-alive), `body` sent as JSON, `token` as a
 * bearer token; resolves with any status. `node` is the x-mmd-node header bench:cluster's HAProxy
 * adds (which API node answered), null without one.
 */
export function httpRequest(agent: http.Agent, r: { port: number; method: string; path: string; body?: unknown; token?: string | undefined; timeoutMs: number }) {
  return new Promise<{ status: number; text: string; node: string | null }>((resolve, reject) => {
    const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
    const headers: Record<string, string | number> = {};
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (r.token) headers.authorization = `Bearer ${r.token}`;
    const req = http.request({ host: '127.0.0.1', port: r.port, method: r.method, path: r.path, headers, agent, timeout: r.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const node = res.headers['x-mmd-node'];
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), node: typeof node === 'string' ? node : null });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${r.method} ${r.path} timed out after ${r.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// The MMD server under test

/**
 * What a benchmark's MMD server runs with besides its port and data dir: loopback, warn-level
 * logs, cheap Argon2 (1 MiB, 1 pass) and no sign-up limit, so thousands of accounts are created in
 * seconds. No path a benchmark measures hashes a password, so this flatters no figure.
 */
export const benchServerSettings = {
  MMD_HOST: '127.0.0.1',
  MMD_LOG_LEVEL: 'warn',
  MMD_ARGON2_MEMORY_KIB: '1024',
  MMD_ARGON2_ITERATIONS: '1',
  MMD_SIGNUP_RATE_LIMIT: '1000000',
};

/** This process's environment without its MMD_ settings, then `settings` in order: the server sees only what the benchmark sets. */
export function serverEnv(...settings: Record<string, string>[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMD_')) env[k] = v;
  return Object.assign(env, ...settings);
}

/**
 * Polls `base`/readyz every `pollMs` until it answers 200; throws if `proc` exits first or
 * `timeoutMs` passes.
 */
export async function waitReady(proc: ChildProcess, base: string, o: { timeoutMs: number; pollMs: number }) {
  const until = Date.now() + o.timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the MMD server exited during start (code ${proc.exitCode})`);
    if (Date.now() > until) throw new Error(`the MMD server was not ready within ${o.timeoutMs / 1000} s`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(o.pollMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes: every tracked one is killed on the way out, whatever the way out is.

export const children = new Set<ChildProcess>();
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)])) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

export async function stopAllChildren() {
  await Promise.all([...children].map((c) => stopChild(c)));
}

/** The port a bench/messaging-baselines.ts server reports (`{t:'listening', port}`) once it listens. */
export function listeningPort(child: ChildProcess, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`baseline server did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
    child.on('message', (m) => {
      const msg = m as { t?: string; port?: number };
      if (msg.t === 'listening') {
        clearTimeout(timer);
        resolve(msg.port!);
      }
    });
  });
}

/** The newest event cursor: what an account with no conversations is told in its `ready` frame. */
export function latestCursor(port: number, token: string, timeoutMs = 20_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?cursor=0&token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no ready frame within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; cursor?: number };
      if (frame.type === 'ready') {
        clearTimeout(timer);
        ws.close();
        resolve(frame.cursor ?? 0);
      }
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Delivery tracking: which client should receive which tagged message, and when each did.

export interface Expectation {
  sentAt: number;
  /** The clients that must receive it; null means every client 0..n-1. */
  clients: number[] | null;
  n: number;
  times: Float64Array;
  received: number;
  duplicates: number;
  /** Arrivals at clients that were not meant to receive it. */
  unexpected: number;
}

/**
 * `timeLeft` is the run's time before its deadline; a wait for deliveries ends `reserveMs` before
 * it, so a slow delivery cannot leave the run no time to stop and print.
 */
export function deliveryTracker(options: { timeLeft: () => number; reserveMs: number }) {
  const expectations = new Map<string, Expectation>();
  const stats = {
    /** Frames whose tag no expectation holds. */
    unknownTag: 0,
    unexpectedCloses: 0,
    closeSamples: [] as string[],
    frameErrors: 0,
    frameErrorSamples: [] as string[],
  };
  return {
    expectations,
    stats,
    expect(tag: string, clients: number[] | null, n: number): Expectation {
      const e: Expectation = { sentAt: now(), clients, n, times: new Float64Array(n).fill(Number.NaN), received: 0, duplicates: 0, unexpected: 0 };
      expectations.set(tag, e);
      return e;
    },
    onReceived(client: number, tag: string, at: number) {
      const e = expectations.get(tag);
      if (!e) {
        stats.unknownTag++;
        return;
      }
      const idx = e.clients ? e.clients.indexOf(client) : client < e.n ? client : -1;
      if (idx < 0) {
        e.unexpected++;
        return;
      }
      if (!Number.isNaN(e.times[idx]!)) {
        e.duplicates++;
        return;
      }
      e.times[idx] = at;
      e.received++;
    },
    /** Waits until every expectation in `list` is met or `timeoutMs` passes; true if all were met. */
    async waitDelivered(list: Expectation[], timeoutMs: number) {
      const until = now() + Math.min(timeoutMs, Math.max(1000, options.timeLeft() - options.reserveMs));
      while (now() < until) {
        if (list.every((e) => e.received >= e.n)) return true;
        await sleep(20);
      }
      return list.every((e) => e.received >= e.n);
    },
    tally(list: Expectation[]) {
      let expected = 0;
      let received = 0;
      let duplicates = 0;
      let unexpected = 0;
      for (const e of list) {
        expected += e.n;
        received += e.received;
        duplicates += e.duplicates;
        unexpected += e.unexpected;
      }
      return { expected, received, lost: expected - received, duplicates, unexpected };
    },
  };
}
export type DeliveryTracker = ReturnType<typeof deliveryTracker>;

// ---------------------------------------------------------------------------------------------
// WebSocket client processes (bench/messaging-clients.ts; its header lists the IPC messages)

interface ClientProcess {
  proc: ChildProcess;
  waiting: Map<string, (m: Record<string, unknown>) => void>;
  otherCounts: Record<string, number>;
}

/**
 * Client processes feeding `deliveries`: each reports arrivals, unexpected closes and error frames;
 * the parent asks them to connect, to acknowledge or not, and to disconnect, and waits for each
 * answer. Client i always lives in process i mod P. `heapMib` is each one's --max-old-space-size.
 */
export function clientProcesses(options: { deliveries: DeliveryTracker; heapMib: number }) {
  const { deliveries } = options;
  const procs: ClientProcess[] = [];

  function reply(w: ClientProcess, type: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        w.waiting.delete(type);
        reject(new Error(`client process ${w.proc.pid} did not answer "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = () => reject(new Error(`client process ${w.proc.pid} exited while waiting for "${type}"`));
      w.proc.once('exit', onExit);
      w.waiting.set(type, (m) => {
        clearTimeout(timer);
        w.proc.off('exit', onExit);
        resolve(m);
      });
    });
  }
  /** Sends `message` to every process and waits for each one's `answer`. */
  const all = (message: Record<string, unknown>, answer: string, timeoutMs: number) =>
    Promise.all(
      procs.map((w) => {
        const r = reply(w, answer, timeoutMs);
        w.proc.send(message);
        return r;
      }),
    );

  return {
    async start(count: number) {
      for (let k = 0; k < count; k++) {
        const proc = track(fork(path.join(benchDir, 'messaging-clients.ts'), [], { cwd: root, execArgv: ['--import', 'tsx', `--max-old-space-size=${options.heapMib}`], stdio: ['ignore', 2, 2, 'ipc'] }));
        const handle: ClientProcess = { proc, waiting: new Map(), otherCounts: {} };
        proc.on('message', (raw) => {
          const m = raw as Record<string, unknown> & { t: string };
          if (m.t === 'recv') {
            const c = m.c as number[];
            const k = m.k as string[];
            const at = m.at as number[];
            for (let i = 0; i < c.length; i++) deliveries.onReceived(c[i]!, k[i]!, at[i]!);
          } else if (m.t === 'other') {
            handle.otherCounts = m.counts as Record<string, number>;
          } else if (m.t === 'closed') {
            deliveries.stats.unexpectedCloses++;
            if (deliveries.stats.closeSamples.length < 5) deliveries.stats.closeSamples.push(`client ${m.i}: ${m.code} ${m.reason}`);
          } else if (m.t === 'frame_error') {
            deliveries.stats.frameErrors++;
            if (deliveries.stats.frameErrorSamples.length < 5) deliveries.stats.frameErrorSamples.push(`client ${m.i}: ${m.code} ${m.detail}`);
          } else {
            const resolve = handle.waiting.get(m.t);
            if (resolve) {
              handle.waiting.delete(m.t);
              resolve(m);
            }
          }
        });
        procs.push(handle);
      }
      await Promise.all(procs.map((w) => reply(w, 'hello', 60_000)));
    },

    /**
     * Opens sockets for clients [from, to) to url(i), `concurrency` handshakes at a time per
     * process, each given `timeoutMs` to reach its `ready` frame; waits `replyTimeoutMs` for the
     * processes' answers. `nodes` are [client, node] from HAProxy's x-mmd-node header.
     */
    async connect(c: { from: number; to: number; url: (i: number) => string; concurrency: number; timeoutMs: number; replyTimeoutMs: number }) {
      const per: { i: number; url: string }[][] = procs.map(() => []);
      for (let i = c.from; i < c.to; i++) per[i % procs.length]!.push({ i, url: c.url(i) });
      const t0 = now();
      const replies = await Promise.all(
        procs.map((w, k) => {
          const r = reply(w, 'connected', c.replyTimeoutMs);
          w.proc.send({ t: 'connect', clients: per[k], ack: false, concurrency: c.concurrency, timeoutMs: c.timeoutMs });
          return r;
        }),
      );
      const seconds = (now() - t0) / 1000;
      return {
        ok: replies.reduce((s, r) => s + (r.ok as number), 0),
        failed: replies.reduce((s, r) => s + (r.failedCount as number), 0),
        samples: replies.flatMap((r) => (r.failed as { i: number; reason: string }[]).slice(0, 3)),
        nodes: replies.flatMap((r) => (r.nodes as [number, string][] | undefined) ?? []),
        seconds,
      };
    },

    /** Connected clients acknowledge every event as the SDK does (200 ms debounce), or do not. */
    async setAck(on: boolean) {
      await all({ t: 'ack', on }, 'ack_set', 10_000);
    },

    async disconnect() {
      await all({ t: 'disconnect' }, 'disconnected', 60_000);
    },

    /** Events other than message.created received so far, by type, summed over the processes. */
    otherEventCounts() {
      const sum: Record<string, number> = {};
      for (const w of procs) for (const [k, v] of Object.entries(w.otherCounts)) sum[k] = (sum[k] ?? 0) + v;
      return sum;
    },

    async stop(graceMs: number) {
      await Promise.all(procs.map((w) => stopChild(w.proc, graceMs)));
    },
  };
}
