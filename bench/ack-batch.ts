/**
 * bench:ack-batch — the write behind a channel post's receipt storm, alone: one batch of N
 * acknowledgements (`messaging.acknowledgeMany`, what sync/acks.ts flushes) from N subscribers
 * of one channel who all hold its newest post, in-process on a fresh embedded SQLite database
 * (synchronous=FULL, the default) or on PostgreSQL with --postgres=URL.
 *
 *   node --import tsx bench/ack-batch.ts [--subscribers=10000] [--rounds=5] [--postgres=URL]
 *
 * The owner, the channel and each post go through the HTTP API (inject); the subscribers'
 * accounts and memberships are inserted directly (as a join writes them), since signing up 10,000
 * accounts would take minutes and is not what is measured. Each round posts once, then times one
 * acknowledgeMany of every subscriber at the post's cursor: wall ms and this process's CPU ms
 * (process.cpuUsage, so the database's own work counts on SQLite only), and checks the receipts
 * count every subscriber. Prints one JSON object on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { buildApp } from '../apps/server/src/app.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { openDatabase } from '../apps/server/src/platform/db/index.ts';
import { createLocalEventBus } from '../apps/server/src/platform/pubsub/index.ts';

const argv = process.argv.slice(2);
const arg = (name: string) => argv.find((x) => x.startsWith(`--${name}=`))?.slice(name.length + 3);
const subscribers = Number(arg('subscribers') ?? 10_000);
const rounds = Number(arg('rounds') ?? 5);
const postgres = arg('postgres');
if (!(Number.isInteger(subscribers) && subscribers > 0 && Number.isInteger(rounds) && rounds > 0)) throw new Error('--subscribers and --rounds take positive integers');

const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-ack-batch-'));
const pgSchema = postgres ? `ack_batch_${process.pid}` : undefined;
const db = openDatabase({ databaseUrl: postgres, sqlitePath: path.join(dir, 'mmd.sqlite'), pgSchema });
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const round = (x: number, d = 3) => Number(x.toFixed(d));

try {
  await db.migrate();
  const config = loadConfig({}, { dataDir: dir, port: 0, host: '127.0.0.1', argon2MemoryKib: 1024, argon2Iterations: 1 });
  const { app, services } = await buildApp({ config, db, bus: createLocalEventBus(), logger: false });
  const call = async <T>(method: 'GET' | 'POST', url: string, token: string | null, payload?: object): Promise<T> => {
    const r = await app.inject({ method, url, payload, headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as T;
  };
  const owner = await call<{ token: string }>('POST', '/v1/accounts', null, { handle: 'ack_owner', password: 'bench-password-1' });
  const channel = await call<{ id: string }>('POST', '/v1/conversations', owner.token, { kind: 'channel', title: 'acks', handle: 'ack_channel' });
  const now = Date.now();
  const { cursor: joinedCursor } = await call<{ cursor: number }>('GET', '/v1/updates/state', owner.token);
  const ids = Array.from({ length: subscribers }, (_, i) => `acc_ackbench${String(i).padStart(6, '0')}`);
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    await db.db
      .insertInto('accounts')
      .values(part.map((id) => ({ id, handle: id.slice(4), handle_key: id.slice(4), password_hash: 'x', kind: 'person', role: 'user', created_at: now })))
      .execute();
    await db.db
      .insertInto('members')
      .values(part.map((id) => ({ conversation_id: channel.id, account_id: id, role: 'member', joined_at: now, joined_cursor: joinedCursor, left_cursor: null, delivered_seq: 0, read_seq: 0 })))
      .execute();
  }
  await db.db.updateTable('conversations').set({ member_count: subscribers + 1 }).where('id', '=', channel.id).execute();

  const each: { wall_ms: number; cpu_ms: number; delivered: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const post = await call<{ id: string }>('POST', `/v1/conversations/${channel.id}/messages`, owner.token, { text: `post ${r}` });
    const { cursor } = await call<{ cursor: number }>('GET', '/v1/updates/state', owner.token);
    const acks = ids.map((accountId) => ({ accountId, cursor }));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await services.messaging.acknowledgeMany(acks);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const receipts = await call<{ delivered: number }>('GET', `/v1/messages/${post.id}/receipts`, owner.token);
    each.push({ wall_ms: round(wall, 1), cpu_ms: round((cpu.user + cpu.system) / 1000, 1), delivered: receipts.delivered });
    process.stderr.write(`round ${r + 1}: ${round(wall, 1)} ms, ${receipts.delivered} delivered\n`);
  }
  await app.close();
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'ack-batch',
        date: new Date().toISOString(),
        command: `node --import tsx bench/ack-batch.ts${argv.length ? ` ${argv.join(' ')}` : ''}`,
        database: postgres ? 'postgres' : 'sqlite (synchronous=FULL)',
        subscribers,
        load_average: os.loadavg().map((x) => round(x, 2)),
        median_wall_ms: median(each.map((e) => e.wall_ms)),
        median_cpu_ms_per_acknowledgement: round(median(each.map((e) => e.cpu_ms)) / subscribers, 4),
        all_delivered: each.every((e) => e.delivered === subscribers),
        each,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  if (pgSchema) await sql`drop schema if exists ${sql.id(pgSchema)} cascade`.execute(db.db).catch(() => {});
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
