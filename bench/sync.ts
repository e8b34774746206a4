/**
 * bench:sync — what one catch-up page costs as the backlog grows, on this machine, in one run.
 *
 *   node --import tsx bench/sync.ts [--backlogs=10000,200000,1000000] [--page=500] [--runs=7]
 *     [--postgres=postgres://…]   (default: embedded SQLite in a temp dir)
 *
 * One account is a member of one conversation whose backlog is N events; a tenth of the log
 * belongs to other conversations it is not in (so its events are not the whole log). For each N
 * it times reading a 500-event page (the catch-up page of the sync hub and of GET /v1/updates)
 * at the start of the backlog, in the middle and at the end, with MMD's query
 * (`eventsVisibleTo`) and, as the baseline in the same run, the single join-union-sort query it
 * replaced. Each figure is the median of `runs` reads after one warm-up read, as wall-clock and
 * as this process's CPU time. Prints one JSON object on stdout (progress on stderr).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { type Database, openDatabase } from '../apps/server/src/platform/db/index.ts';
import { type StoredEvent, eventsVisibleTo } from '../apps/server/src/sync/event-log.ts';

const argv = process.argv.slice(2);
function arg(name: string): string | undefined {
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}
const backlogs = (arg('backlogs') ?? '10000,200000,1000000').split(',').map(Number);
const pageSize = Number(arg('page') ?? 500);
const runs = Number(arg('runs') ?? 7);
const postgres = arg('postgres');

/** The query before this change: join, union, sort everything after the cursor, then limit. */
async function baselineEventsVisibleTo(db: Database['db'], o: { accountId: string; after: number; limit: number }) {
  const rows = await sql<StoredEvent>`
    select * from (
      select e.* from members m
        join events e on e.conversation_id = m.conversation_id
      where m.account_id = ${o.accountId}
        and e.id > ${o.after}
        and e.id >= m.joined_cursor
        and (m.left_cursor is null or e.id <= m.left_cursor)
      union
      select e.* from events e
      where e.target_account_id = ${o.accountId} and e.id > ${o.after}
    ) visible
    order by id
    limit ${o.limit}`.execute(db);
  return rows.rows;
}

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Wall-clock and CPU time of one page, medians over `runs`. On SQLite the query runs on this
 * thread, so CPU time is the cost the event loop pays, and it is steadier than wall-clock time
 * on a busy machine; on PostgreSQL the work happens in the server, so only wall-clock counts.
 */
async function time(fn: () => Promise<unknown[]>): Promise<{ ms: number; cpu_ms: number; rows: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  let rows = (await fn()).length; // warm-up: statement preparation and page cache
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    rows = (await fn()).length;
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return { ms: round(median(wall)), cpu_ms: round(median(cpu)), rows };
}

/** Appends `count` events: nine in ten to the followed conversation, one in ten elsewhere. */
async function grow(db: Database, count: number) {
  const now = Date.now();
  const payload = JSON.stringify({ text: 'catch me up', seq: 0 });
  // Generated in the database: a million rows from the client would time the client, not MMD.
  const series =
    db.dialect === 'postgres'
      ? sql`select i from generate_series(1, ${count}::int) as g(i)`
      : sql`select value as i from (with recursive s(value) as (select 1 union all select value + 1 from s where value < ${count}) select value from s)`;
  await db.writeTransaction(async (tx) => {
    await sql`insert into events (conversation_id, target_account_id, type, seq, payload, created_at)
      select case when i % 10 = 0 then 'cnv_other' else 'cnv_bench' end, null, 'message.created', null, ${payload}, ${now}
      from (${series}) as numbers`.execute(tx);
  });
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-sync-'));
  const pgSchema = postgres ? `bench_sync_${process.pid}` : undefined;
  const db = openDatabase(
    postgres ? { databaseUrl: postgres, pgSchema } : { sqlitePath: path.join(dir, 'bench.sqlite'), sqliteSynchronous: 'normal' },
  );
  try {
    await db.migrate();
    // The rows the query reads: one membership from the start of the log. Foreign keys are off
    // for the set-up alone (SQLite) so no account or conversation rows are needed.
    if (db.dialect === 'sqlite') await sql`pragma foreign_keys = off`.execute(db.db);
    await db.writeTransaction(async (tx) => {
      if (db.dialect === 'postgres') await sql`set local session_replication_role = replica`.execute(tx);
      await tx
        .insertInto('members')
        .values({ conversation_id: 'cnv_bench', account_id: 'acc_bench', role: 'member', joined_at: 0, joined_cursor: 0, left_cursor: null, delivered_seq: 0, read_seq: 0 })
        .execute();
    });
    const results: unknown[] = [];
    let size = 0;
    for (const backlog of backlogs) {
      process.stderr.write(`growing the log to ${backlog} events…\n`);
      await grow(db, backlog - size);
      size = backlog;
      if (db.dialect === 'postgres') await sql`analyze events`.execute(db.db);
      const positions = { start: 0, middle: Math.floor(backlog / 2), end: backlog - pageSize * 2 };
      const row: Record<string, unknown> = { backlog_events: backlog };
      for (const [where, after] of Object.entries(positions)) {
        const mmd = await time(() => eventsVisibleTo(db.db, { accountId: 'acc_bench', after, limit: pageSize }));
        const baseline = await time(() => baselineEventsVisibleTo(db.db, { accountId: 'acc_bench', after, limit: pageSize }));
        if (mmd.rows !== baseline.rows) throw new Error(`page sizes differ at ${where}: ${mmd.rows} vs ${baseline.rows}`);
        row[`page_at_${where}`] = {
          events: mmd.rows,
          mmd_ms: mmd.ms,
          mmd_cpu_ms: mmd.cpu_ms,
          baseline_ms: baseline.ms,
          baseline_cpu_ms: baseline.cpu_ms,
        };
        process.stderr.write(`  ${backlog} @${where}: mmd ${mmd.ms} ms (cpu ${mmd.cpu_ms}), baseline ${baseline.ms} ms (cpu ${baseline.cpu_ms})\n`);
      }
      results.push(row);
    }
    const out = {
      bench: 'sync',
      database: db.dialect,
      page_events: pageSize,
      runs_per_figure: runs,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      results,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    if (pgSchema) await sql`drop schema if exists ${sql.id(pgSchema)} cascade`.execute(db.db).catch(() => {});
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
