/**
 * The background checkpointer (openDatabase's sqliteCheckpoint: 'background'): the log is folded
 * into the database file by its thread, nothing committed is lost when the process is killed
 * mid-write, and the writer checkpoints by itself again when the thread is gone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase } from './index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fill(db: ReturnType<typeof openDatabase>, from: number, rows: number) {
  for (let at = from; at < from + rows; at += 500) {
    await db.writeTransaction(async (tx) => {
      for (let i = at; i < Math.min(from + rows, at + 500); i += 1) {
        await sql`insert into t (id, k, v) values (${i}, ${Math.random().toString(36)}, randomblob(400))`.execute(tx);
      }
    });
  }
}

test('the thread folds the log into the database file while the writer goes on; every row is there after reopening', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-checkpointer-'));
  const file = path.join(dir, 'db.sqlite');
  const db = openDatabase({ sqlitePath: file, sqliteCheckpoint: 'background' });
  try {
    await sql`create table t (id integer primary key, k text not null, v blob not null)`.execute(db.db);
    await sql`create index t_by_k on t (k)`.execute(db.db);
    // ~60,000 rows of ~450 bytes: well over 10,000 log pages, the thread's threshold.
    await fill(db, 0, 60_000);
    for (let i = 0; i < 100 && (db.checkpointer?.().checkpoints ?? 0) === 0; i += 1) await sleep(100);
    const stats = db.checkpointer!();
    assert.equal(stats.mode, 'background');
    assert.equal(stats.lastError, null);
    assert.ok(stats.checkpoints >= 1, `the thread ran no checkpoint: ${JSON.stringify(stats)}`);
    assert.ok(stats.pagesCopied >= 5_000, `the thread copied only ${stats.pagesCopied} pages`);
    // The rows are in the database file itself (~27 MB of them), not only in the log.
    assert.ok(statSync(file).size >= 20 * 1024 * 1024, `the database file holds ${statSync(file).size} bytes`);
  } finally {
    await db.close();
  }
  // Closed: the thread stopped, the last connection folded the rest and removed the log.
  assert.equal(existsSync(`${file}-wal`), false);
  const check = new BetterSqlite3(file, { readonly: true });
  assert.equal((check.prepare('select count(*) as n from t').get() as { n: number }).n, 60_000);
  assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
  check.close();
  rmSync(dir, { recursive: true, force: true });
});

test('kill -9 while writing with the thread checkpointing: every acknowledged batch is in the database, which is intact', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-checkpointer-kill-'));
  const file = path.join(dir, 'db.sqlite');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'test-fixtures', 'checkpoint-writer.ts')], {
    env: { ...process.env, CHECKPOINT_SQLITE_PATH: file },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acknowledged = -1;
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line) acknowledged = Number(line);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    // Past several checkpoints (200 rows × ~280 bytes a batch: ~50 batches a checkpoint's worth).
    const until = Date.now() + 120_000;
    while (acknowledged < 400 && Date.now() < until && child.exitCode === null) await sleep(50);
    assert.ok(acknowledged >= 400, `the writer got only to batch ${acknowledged}`);
    // Kill it while it is writing, a random moment after an acknowledgement.
    await sleep(Math.floor(Math.random() * 200));
    child.kill('SIGKILL');
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const db = new BetterSqlite3(file);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const rows = db.prepare('select count(*) as n, max(id) as top from t').get() as { n: number; top: number };
    // Every batch it printed is there in full; the one in flight is there in full or not at all.
    assert.ok(rows.n >= (acknowledged + 1) * 200, `${rows.n} rows after batch ${acknowledged} was acknowledged`);
    assert.equal(rows.n % 200, 0, 'a batch was half written');
    assert.equal(rows.top, rows.n - 1);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inline by default: no thread, SQLite checkpoints on commit as it always did', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-checkpointer-inline-'));
  const db = openDatabase({ sqlitePath: path.join(dir, 'db.sqlite') });
  try {
    assert.equal(db.checkpointer, undefined);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
