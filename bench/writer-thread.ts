/**
 * Issue 13 asks for group commit "or writes on a dedicated thread — measure both before choosing".
 * This prototype measures the two, and the one-fsync-per-request floor, on the same bare route.
 *
 *   node --import tsx bench/writer-thread.ts [--seconds=8] [--rounds=3] [--in-flight=50]
 *
 * Each mode is a child process serving POST /send {text} with Fastify. A request writes what a
 * text message's send writes: a message row, an event row and a full-text index row (three
 * prepared INSERTs, better-sqlite3, WAL, synchronous=FULL), and is answered only after the
 * COMMIT that holds them returned (nothing acknowledged before it is durable).
 *
 *   fsync-each   one transaction and one COMMIT (one fsync) per request, on the event loop
 *   group-main   requests read in the same event-loop turn share one transaction, on the event
 *                loop (what platform/db/group-commit.ts does)
 *   worker       the event loop hands each request's rows to a worker_threads writer, which
 *                writes what arrived in one transaction per batch and posts back the ids; the
 *                event loop only parses, posts and answers
 *
 * The modes take turns in rounds (so drift in the machine's load hits all alike); a closed-loop
 * load generator in this process keeps `in-flight` requests outstanding. Prints one JSON object:
 * per mode, requests/s, HTTP latency, and server CPU per request — the whole process (every
 * thread) and, separately, the event loop's thread (Linux's per-thread counters).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';

const MODES = ['fsync-each', 'group-main', 'worker'] as const;
type Mode = (typeof MODES)[number];

const SCHEMA = `
  create table if not exists messages (id text primary key, conversation_id text not null, seq integer not null, sender_id text not null, text text, created_at integer not null);
  create index if not exists messages_conv_seq on messages (conversation_id, seq);
  create table if not exists events (id integer primary key autoincrement, type text not null, conversation_id text not null, data text not null, at integer not null);
  create virtual table if not exists messages_fts using fts5 (text, message_id unindexed);
`;
const INSERT_MESSAGE = 'insert into messages (id, conversation_id, seq, sender_id, text, created_at) values (?, ?, ?, ?, ?, ?)';
const INSERT_EVENT = 'insert into events (type, conversation_id, data, at) values (?, ?, ?, ?)';
const INSERT_FTS = 'insert into messages_fts (text, message_id) values (?, ?)';

interface Row {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  text: string;
  at: number;
}

function openDb(file: string) {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  const message = db.prepare(INSERT_MESSAGE);
  const event = db.prepare(INSERT_EVENT);
  const fts = db.prepare(INSERT_FTS);
  const write = (r: Row) => {
    message.run(r.id, r.conversationId, r.seq, r.senderId, r.text, r.at);
    event.run('message.created', r.conversationId, JSON.stringify(r), r.at);
    fts.run(r.text, r.id);
  };
  return { db, write };
}

// The worker's code, as a CommonJS script (eval: no TypeScript loader needed in the thread).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(workerData.schema);
const message = db.prepare(workerData.insertMessage);
const event = db.prepare(workerData.insertEvent);
const fts = db.prepare(workerData.insertFts);
const begin = db.prepare('begin');
const commit = db.prepare('commit');
let queue = [];
let scheduled = false;
function flush() {
  scheduled = false;
  const batch = queue;
  queue = [];
  begin.run();
  for (const r of batch) {
    message.run(r.id, r.conversationId, r.seq, r.senderId, r.text, r.at);
    event.run('message.created', r.conversationId, JSON.stringify(r), r.at);
    fts.run(r.text, r.id);
  }
  commit.run();
  parentPort.postMessage(batch.map((r) => r.id));
}
parentPort.on('message', (r) => {
  queue.push(r);
  if (!scheduled) { scheduled = true; setImmediate(flush); }
});
`;

async function serve(mode: Mode, dir: string) {
  const file = path.join(dir, `${mode}.sqlite`);
  let seq = 0;
  const newRow = (text: string): Row => ({ id: `msg_${randomBytes(12).toString('base64url')}`, conversationId: 'cnv_bench', seq: ++seq, senderId: 'acc_bench', text, at: Date.now() });
  let store: (r: Row) => Promise<void>;
  let worker: Worker | undefined;
  if (mode === 'fsync-each') {
    const { db, write } = openDb(file);
    const tx = db.transaction(write);
    store = async (r) => tx(r);
  } else if (mode === 'group-main') {
    const { db, write } = openDb(file);
    const writeAll = db.transaction((rows: Row[]) => {
      for (const r of rows) write(r);
    });
    let queue: { row: Row; done: () => void }[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const batch = queue;
      queue = [];
      writeAll(batch.map((q) => q.row));
      for (const q of batch) q.done();
    };
    store = (row) =>
      new Promise<void>((done) => {
        queue.push({ row, done });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
  } else {
    const require = (await import('node:module')).createRequire(import.meta.url);
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { betterSqlite3: require.resolve('better-sqlite3'), file, schema: SCHEMA, insertMessage: INSERT_MESSAGE, insertEvent: INSERT_EVENT, insertFts: INSERT_FTS },
    });
    const waiting = new Map<string, () => void>();
    worker.on('message', (ids: string[]) => {
      for (const id of ids) {
        waiting.get(id)?.();
        waiting.delete(id);
      }
    });
    worker.on('error', (err) => {
      console.error(err);
      process.exit(1);
    });
    store = (row) =>
      new Promise<void>((done) => {
        waiting.set(row.id, done);
        worker!.postMessage(row);
      });
  }
  const app = Fastify({ logger: false });
  app.post('/send', async (request, reply) => {
    const { text } = request.body as { text: string };
    const row = newRow(text);
    await store(row);
    return reply.status(201).send({ id: row.id, seq: row.seq, created_at: row.at });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (m: { t: string }) => {
    if (m.t === 'cpu') {
      // The whole process (every thread: the writer, libuv's, V8's GC helpers) and the event
      // loop's thread alone (Linux: /proc/thread-self/stat, utime + stime in clock ticks of 10 ms).
      const total = process.cpuUsage();
      const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
      const mainUs = (Number(fields[11]) + Number(fields[12])) * 10_000;
      process.send!({ t: 'cpu', totalUs: total.user + total.system, mainUs });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ t: 'listening', port: (app.server.address() as { port: number }).port });
}

// ---------------------------------------------------------------------------------------------
// The parent: start the three servers, take turns, report.

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
const now = () => Number(process.hrtime.bigint()) / 1e6;

function post(port: number, body: string) {
  return new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/send', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function closedLoop(port: number, inFlight: number, seconds: number) {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let i = 0;
  const t0 = now();
  const stopAt = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (now() < stopAt) {
        const t = now();
        const status = await post(port, JSON.stringify({ text: `message ${i++} ${'lorem ipsum dolor sit amet '.repeat(2)}` })).catch(() => 0);
        if (status === 201) {
          ok++;
          latencies.push(now() - t);
        } else errors++;
      }
    }),
  );
  return { ok, errors, seconds: (now() - t0) / 1000, latencies };
}

function pct(values: number[], p: number) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

async function main() {
  const arg = (name: string, fallback: number) => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a ? Number(a.split('=')[1]) : fallback;
  };
  const seconds = arg('seconds', 8);
  const rounds = arg('rounds', 3);
  const inFlight = arg('in-flight', 50);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-writer-thread-'));
  const here = fileURLToPath(import.meta.url);
  const servers = new Map<Mode, { port: number; child: ReturnType<typeof fork> }>();
  try {
    for (const mode of MODES) {
      const child = fork(here, ['serve', mode, dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const port = await new Promise<number>((resolve, reject) => {
        child.once('message', (m: { t: string; port: number }) => resolve(m.port));
        child.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
      });
      servers.set(mode, { port, child });
    }
    const cpuOf = (mode: Mode) =>
      new Promise<{ totalUs: number; mainUs: number }>((resolve) => {
        const { child } = servers.get(mode)!;
        child.once('message', (m: { totalUs: number; mainUs: number }) => resolve(m));
        child.send({ t: 'cpu' });
      });
    const agg = new Map<Mode, { ok: number; errors: number; seconds: number; cpuUs: number; mainUs: number; latencies: number[]; rounds: number[] }>();
    for (const mode of MODES) agg.set(mode, { ok: 0, errors: 0, seconds: 0, cpuUs: 0, mainUs: 0, latencies: [], rounds: [] });
    // A short warm-up of each (JIT, page cache), not counted.
    for (const mode of MODES) await closedLoop(servers.get(mode)!.port, inFlight, 1);
    for (let r = 0; r < rounds; r++) {
      for (const mode of MODES) {
        const before = await cpuOf(mode);
        const run = await closedLoop(servers.get(mode)!.port, inFlight, seconds);
        const after = await cpuOf(mode);
        const a = agg.get(mode)!;
        a.ok += run.ok;
        a.errors += run.errors;
        a.seconds += run.seconds;
        a.cpuUs += after.totalUs - before.totalUs;
        a.mainUs += after.mainUs - before.mainUs;
        a.latencies.push(...run.latencies);
        a.rounds.push(Math.round(run.ok / run.seconds));
        console.error(`round ${r + 1}/${rounds} ${mode}: ${Math.round(run.ok / run.seconds)} req/s`);
      }
    }
    const result: Record<string, unknown> = {};
    for (const [mode, a] of agg) {
      result[mode] = {
        per_s: Math.round(a.ok / a.seconds),
        rounds_per_s: a.rounds,
        errors: a.errors,
        http_ms: { p50: pct(a.latencies, 50), p99: pct(a.latencies, 99) },
        server_cpu_ms_per_request: Math.round((a.cpuUs / 1000 / a.ok) * 1000) / 1000,
        event_loop_thread_cpu_ms_per_request: Math.round((a.mainUs / 1000 / a.ok) * 1000) / 1000,
      };
    }
    const base = (result['fsync-each'] as { per_s: number }).per_s;
    console.log(
      JSON.stringify(
        {
          what: 'one text message write per request (message + event + FTS rows), SQLite WAL synchronous=FULL, answered after its COMMIT',
          in_flight: inFlight,
          seconds_per_round: seconds,
          rounds,
          load_average: os.loadavg().map((x) => Math.round(x * 10) / 10),
          node: process.version,
          modes: result,
          vs_fsync_each: Object.fromEntries(MODES.map((m) => [m, Math.round(((result[m] as { per_s: number }).per_s / base) * 100) / 100])),
        },
        null,
        2,
      ),
    );
  } finally {
    for (const { child } of servers.values()) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as Mode, process.argv[4]!);
else await main();
