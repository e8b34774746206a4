/**
 * The database handle: Kysely over SQLite (better-sqlite3, the embedded default) or PostgreSQL.
 * This is the only place that knows which; the rest of the server sees `Database`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction, sql } from 'kysely';
import pg from 'pg';
import { makePrivateDir, makePrivateFile } from '../private-files.ts';
// The one import of the app's own code: the table types and migrations its capabilities define.
import { type DB, migrationParts } from '../../schema.ts';
import { migrateToLatest } from './migrations.ts';
import { SchemaScopedPostgresDialect } from './scoped-introspector.ts';

export type Dialect = 'sqlite' | 'postgres';
export type Tx = Transaction<DB>;

export interface Database {
  readonly dialect: Dialect;
  readonly db: Kysely<DB>;
  /**
   * Runs a transaction that may append events. Event cursors must become visible in the order
   * they were numbered, or a client could skip one: SQLite has one writer, so that holds; on
   * PostgreSQL a transaction-scoped advisory lock serialises event-writing transactions. The
   * lock is the schema's own: advisory locks are per database, and MMDs in other schemas of the
   * same database (test runs, deployments side by side) have their own event logs to order.
   */
  writeTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** A transaction that reads one consistent snapshot. */
  readTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  migrate(): Promise<string[]>;
  close(): Promise<void>;
  /** SQLite with a background checkpointer: how many checkpoints it has run and pages it has copied. */
  checkpointer?: () => CheckpointerStats;
}

export interface CheckpointerStats {
  /** 'background' while the thread runs; 'inline' after it stopped or failed (commits checkpoint again). */
  mode: 'background' | 'inline';
  checkpoints: number;
  pagesCopied: number;
  lastError: string | null;
}

// int8 (bigint, COUNT) arrives as a string from pg; every such value MMD stores fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

const EVENT_LOCK_KEY = 7_710_001;

/** The second half of the event lock's key: the schema, so schemas never wait for each other. */
function eventLockSchemaKey(schema: string): number {
  return createHash('sha256').update(schema).digest().readInt32BE(0);
}

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL; otherwise SQLite at `sqlitePath` (':memory:' allowed). */
  databaseUrl?: string;
  sqlitePath?: string;
  sqliteSynchronous?: 'full' | 'normal';
  /** PostgreSQL schema to use (tests give each run its own). */
  pgSchema?: string;
  pgPoolSize?: number;
  /**
   * SQLite only: who folds the write-ahead log back into the database file. 'inline' (the
   * default): the commit that fills it past 10,000 pages, as SQLite does by itself. 'background':
   * a thread with its own connection (checkpointer.mjs), so commits never wait for it; the server
   * uses this. A file database only; ':memory:' has no log.
   */
  sqliteCheckpoint?: 'inline' | 'background';
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openSqlite(options.sqlitePath ?? ':memory:', options.sqliteSynchronous ?? 'full', options.sqliteCheckpoint ?? 'inline');
}

/** Log pages a checkpoint waits for (inline: SQLite's autocheckpoint; background: the thread's threshold). */
const CHECKPOINT_PAGES = 10_000;
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

function openSqlite(file: string, synchronous: 'full' | 'normal', checkpoint: 'inline' | 'background'): Database {
  if (file !== ':memory:') {
    makePrivateDir(path.dirname(file));
    makePrivateFile(file);
  }
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  raw.pragma('foreign_keys = ON');
  // The CLI may write (e.g. `mmd account role`) while a server runs: wait instead of failing.
  raw.pragma('busy_timeout = 5000');
  // Checkpoint every 10,000 WAL pages (40 MB) instead of SQLite's 1,000: a campaign's batches
  // rewrite the same index pages commit after commit, and a later checkpoint copies each of them
  // once. Sending 100,000 campaign messages, commits took 8.5 s at 1,000 pages and 4.5 s at
  // 20,000 (bench:campaigns with SQL timing); 10,000 keeps the WAL file smaller. Durability is
  // unchanged: every commit still syncs the WAL. The file is trimmed back after a checkpoint.
  raw.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
  raw.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  const background = checkpoint === 'background' && file !== ':memory:' ? startCheckpointer(raw, file, synchronous) : null;
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return {
    dialect: 'sqlite',
    db,
    writeTransaction: (fn) => db.transaction().execute(fn),
    readTransaction: (fn) => db.transaction().execute(fn),
    migrate: () => migrateToLatest(db as Kysely<unknown>, { dialect: 'sqlite', parts: migrationParts }),
    close: async () => {
      await background?.stop();
      await db.destroy();
    },
    ...(background ? { checkpointer: background.stats } : {}),
  };
}

/**
 * Checkpoints on a thread of their own (checkpointer.mjs). At a million campaign recipients a
 * checkpoint copies ~10,000 scattered pages into the database file and syncs it: ~150 ms that
 * the commit which crossed the threshold used to wait for, with the event loop stopped. On its
 * own thread that work overlaps the writer's. Durability is SQLite's either way: every commit
 * syncs the log, and a checkpoint syncs the database file before the log may start again.
 *
 * The writer keeps SQLite's own autocheckpoint as a backstop at five times the threshold (a
 * thread that lags or fails never lets the log grow without end), and goes back to the inline
 * threshold if the thread stops.
 */
function startCheckpointer(raw: BetterSqlite3.Database, file: string, synchronous: 'full' | 'normal') {
  raw.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES * 5}`);
  const stats: CheckpointerStats = { mode: 'background', checkpoints: 0, pagesCopied: 0, lastError: null };
  const worker = new Worker(new URL('./checkpointer.mjs', import.meta.url), {
    workerData: { file, synchronous: synchronous.toUpperCase(), pages: CHECKPOINT_PAGES, intervalMs: 100, journalSizeLimit: JOURNAL_SIZE_LIMIT },
    // Plain JavaScript: no TypeScript loader (or any other flag) in the thread.
    execArgv: [],
  });
  worker.unref();
  let stopping = false;
  const inline = (why: string | null) => {
    if (stats.mode === 'inline') return;
    stats.mode = 'inline';
    if (why) stats.lastError = why;
    if (!stopping && raw.open) raw.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
  };
  worker.on('message', (m: { type: string; checkpointed?: number; message?: string }) => {
    if (m.type === 'checkpoint') {
      stats.checkpoints += 1;
      stats.pagesCopied += Math.max(0, m.checkpointed ?? 0);
    } else if (m.type === 'error') stats.lastError = m.message ?? 'unknown';
  });
  worker.on('error', (err: Error) => inline(`checkpointer failed: ${err.message}`));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => inline(stopping ? null : 'checkpointer exited'));
  return {
    stats: () => ({ ...stats }),
    async stop() {
      if (stopping) return;
      stopping = true;
      worker.postMessage({ type: 'stop' });
      const timeout = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/**
 * Kysely prepares every query afresh; preparing was ~14% of the server's CPU on sends
 * (bench:messaging). MMD builds a bounded set of SQL shapes and never streams results, so
 * prepared statements are safely reused, keyed by their SQL text.
 */
function withStatementCache(raw: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (!statement) {
        // Queries with IN-lists of varying length make new shapes; a bound keeps memory flat.
        if (cache.size >= 1000) cache.clear();
        statement = raw.prepare(sqlText);
        cache.set(sqlText, statement);
      }
      return statement;
    },
    close() {
      cache.clear();
      raw.close();
    },
  };
}

function openPostgres(url: string, options: DatabaseOptions): Database {
  const schema = options.pgSchema;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.pgPoolSize ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<DB>({ dialect: new SchemaScopedPostgresDialect({ pool }, schema ?? 'public') });
  // Without a schema option the search_path's default applies: public (main.ts maps it so).
  const schemaKey = eventLockSchemaKey(schema ?? 'public');
  return {
    dialect: 'postgres',
    db,
    writeTransaction: (fn) =>
      db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(${EVENT_LOCK_KEY}::int4, ${schemaKey}::int4)`.execute(tx);
        return fn(tx);
      }),
    readTransaction: (fn) => db.transaction().setIsolationLevel('repeatable read').execute(fn),
    migrate: async () => {
      if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      return migrateToLatest(db as Kysely<unknown>, { dialect: 'postgres', parts: migrationParts, schema });
    },
    close: () => db.destroy(),
  };
}

/** True when a unique constraint refused the write (both dialects). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
