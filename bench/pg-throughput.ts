/**
 * bench:pg-throughput — messages/s MMD accepts on PostgreSQL, with 1 and 2 API nodes on one
 * schema, in one run on this machine.
 *
 *   MMD_TEST_POSTGRES_URL=postgres://… MMD_TEST_REDIS_URL=redis://… \
 *     node --import tsx bench/pg-throughput.ts [--nodes=1,2] [--seconds=10] [--in-flight=64] [--pairs=64]
 *       [--cpu-prof=DIR] [--statements]
 *
 * Each node is `mmd serve` in a child process (the Redis event bus joins them). `pairs` direct
 * chats, each with one sender; `in-flight` lanes (closed loop, keep-alive HTTP) post text
 * messages, lane i to chat i mod pairs, spread over the nodes round-robin. Sends to one chat take
 * turns on its row (its seq counter), so many chats are used. After the run, every sent message
 * must be readable by its recipient through /v1/updates (the events below the visible cursor):
 * a throughput that lost events would not count. Also reports the CPU seconds the nodes, every
 * PostgreSQL process of the machine (a server shared with other work counts that work too, and
 * backends that exit during the run make it too small) and this load generator spent during the
 * timed sends (from /proc); --cpu-prof=DIR writes each node's V8 CPU profile there.
 * --statements: the statements the database ran during the timed sends, from pg_stat_statements
 * (the extension must be loaded and created in the URL's database; it is reset before the sends,
 * and counts the whole database: use one no other work runs in): calls per send, the statements
 * run at least once per ten sends.
 * Prints one JSON object (progress on stderr).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { freePort, killHard, spawnServer } from '../apps/server/test/child-server.ts';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const nodeCounts = opt('nodes', '1,2').split(',').map(Number);
const seconds = Number(opt('seconds', '10'));
const inFlight = Number(opt('in-flight', '64'));
const pairs = Number(opt('pairs', '64'));
const cpuProfDir = argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const countStatements = argv.includes('--statements');
const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;
const REDIS_URL = process.env.MMD_TEST_REDIS_URL;
if (!POSTGRES_URL || !REDIS_URL) {
  console.error('set MMD_TEST_POSTGRES_URL and MMD_TEST_REDIS_URL');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function request(port: number, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
async function ok<T>(p: Promise<{ status: number; json: unknown }>, what: string): Promise<T> {
  const r = await p;
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r.json as T;
}

const TICKS = 100; // USER_HZ on Linux
/** CPU seconds (user + system) a process has used, from /proc/PID/stat; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}
/** CPU seconds used so far by every process named `postgres` (the server and its backends). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(Number(pid));
    } catch {}
  }
  return total;
}

/** Waits for /readyz; a loaded machine takes over a minute to start a node (tsx compiling, migrations). */
async function waitReady(port: number) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const r = await request(port, 'GET', '/readyz').catch(() => null);
    if (r?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`node on port ${port} not ready after 300 s`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function statementsQuery<R>(text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

/** pg_stat_statements since its reset, for this database: calls per send and the frequent statements. */
async function statementsPerSend(sends: number) {
  const rows = await statementsQuery<{ calls: string; query: string }>(
    `select calls, query from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database()) and query not like '%pg_stat_statements%' order by calls desc`,
  );
  const calls = rows.reduce((x, r) => x + Number(r.calls), 0);
  const frequent = rows.filter((r) => Number(r.calls) * 10 >= sends);
  return {
    calls_per_send: Number((calls / Math.max(1, sends)).toFixed(2)),
    frequent: frequent.map((r) => ({ per_send: Number((Number(r.calls) / Math.max(1, sends)).toFixed(2)), query: r.query.replace(/\s+/g, ' ').slice(0, 160) })),
  };
}

async function run(nodes: number) {
  const schema = `bench_${process.pid}_${Date.now().toString(36)}_${nodes}`;
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      children.push(
        spawnServer({
          MMD_PORT: String(port),
          MMD_DATABASE_URL: POSTGRES_URL!,
          MMD_DATABASE_SCHEMA: schema,
          MMD_REDIS_URL: REDIS_URL!,
          MMD_DATA_DIR: `${os.tmpdir()}/${schema}_${i}`,
          MMD_SIGNUP_RATE_LIMIT: '100000',
        }, cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`] : []),
      );
      ports.push(port);
      // One at a time: the first migrates the schema.
      await waitReady(port);
    }
    const port = ports[0]!;
    const chats: { id: string; token: string; recipientToken: string }[] = [];
    for (let i = 0; i < pairs; i++) {
      const handle = (k: string) => `b${i}${k}${Date.now().toString(36)}`.slice(0, 30);
      const a = await ok<{ token: string; account: { handle: string } }>(request(port, 'POST', '/v1/accounts', { handle: handle('a'), password: 'correct horse battery' }), 'sign-up');
      const b = await ok<{ token: string; account: { handle: string } }>(request(port, 'POST', '/v1/accounts', { handle: handle('b'), password: 'correct horse battery' }), 'sign-up');
      const chat = await ok<{ id: string }>(request(port, 'POST', '/v1/conversations', { kind: 'direct', members: [b.account.handle] }, a.token), 'direct chat');
      chats.push({ id: chat.id, token: a.token, recipientToken: b.token });
    }
    const sent = new Array<number>(pairs).fill(0);
    let errors = 0;
    const errorSamples: string[] = [];
    const latencies: number[] = [];
    if (countStatements) await statementsQuery('select pg_stat_statements_reset()');
    const cpu0 = { nodes: children.map((c) => cpuSeconds(c.pid!)), postgres: postgresCpuSeconds(), bench: process.cpuUsage() };
    const t0 = performance.now();
    const stopAt = t0 + seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async (_, lane) => {
        const chat = lane % pairs;
        const to = ports[lane % nodes]!;
        while (performance.now() < stopAt) {
          const t = performance.now();
          const r = await request(to, 'POST', `/v1/conversations/${chats[chat]!.id}/messages`, { text: `m${n++}` }, chats[chat]!.token).catch((e: Error) => ({ status: 0, json: e.message }));
          if (r.status === 201 || r.status === 200) {
            sent[chat]! += 1;
            latencies.push(performance.now() - t);
          } else {
            errors += 1;
            if (errorSamples.length < 5) errorSamples.push(`${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const benchCpu = process.cpuUsage(cpu0.bench);
    const cpu = {
      nodes_s: children.map((c, i) => Number((cpuSeconds(c.pid!) - cpu0.nodes[i]!).toFixed(1))),
      postgres_s: Number((postgresCpuSeconds() - cpu0.postgres).toFixed(1)),
      load_generator_s: Number(((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)),
    };
    const total = sent.reduce((x, y) => x + y, 0);
    const statements = countStatements ? await statementsPerSend(total) : undefined;
    // Every acknowledged message reaches its recipient's updates (read from the other node when there is one).
    let missing = 0;
    for (let i = 0; i < pairs; i++) {
      const at = ports[(i + 1) % nodes]!;
      let cursor = 0;
      let got = 0;
      for (;;) {
        const page = await ok<{ events: { type: string }[]; cursor: number; has_more: boolean }>(request(at, 'GET', `/v1/updates?cursor=${cursor}&limit=200`, undefined, chats[i]!.recipientToken), 'updates');
        got += page.events.filter((e) => e.type === 'message.created').length;
        cursor = page.cursor;
        if (!page.has_more) break;
      }
      missing += Math.max(0, sent[i]! - got);
    }
    latencies.sort((x, y) => x - y);
    const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1));
    return { nodes, sent: total, errors, error_samples: errorSamples, seconds: Number(elapsed.toFixed(2)), per_s: Number((total / elapsed).toFixed(1)), http_ms: { p50: at(0.5), p99: at(0.99) }, missing_from_updates: missing, cpu_during_sends: cpu, ...(statements ? { statements } : {}) };
  } finally {
    for (const c of children) {
      if (cpuProfDir && c.exitCode === null) {
        // A profile is written on a clean exit only.
        c.kill('SIGTERM');
        await Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, 30_000))]);
      }
      await killHard(c);
    }
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

const results = [];
for (const nodes of nodeCounts) {
  console.error(`pg-throughput: ${nodes} node(s), ${seconds} s, ${inFlight} in flight, ${pairs} chats`);
  results.push(await run(nodes));
}
agent.destroy();
console.log(JSON.stringify({ bench: 'pg-throughput', machine: { cpus: os.cpus().length, load: os.loadavg().map((l) => Number(l.toFixed(2))) }, seconds, in_flight: inFlight, pairs, runs: results }, null, 2));
