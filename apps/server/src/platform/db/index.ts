/**
 * The database handle: Kysely over SQLite (better-sqlite3, the embedded default) or PostgreSQL.
 * This is the only place that knows which; the rest of the server sees `Database`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type Compilable, Kysely, SqliteDialect, type Transaction, sql } from 'kysely';
import pg from 'pg';
import { makePrivateDir, makePrivateFile } from '../private-files.ts';
// The one import of the app's own code: the table types and migrations its capabilities define.
import { type DB, migrationParts } from '../../schema.ts';
import { createEventWatermark } from './event-watermark.ts';
import { beginWith } from './postgres-driver.ts';
import { createGroupCommit } from './group-commit.ts';
import { preparedQuery } from './prepared.ts';
import { migrateToLatest } from './migrations.ts';
import { SchemaScopedPostgresDialect } from './scoped-introspector.ts';

export type Dialect = 'sqlite' | 'postgres';
export type Tx = Transaction<DB>;

/**
 * A hot query of fixed shape, built and compiled once per database and then run with each call's
 * values (prepared.ts): `const q = prepared((db, p: { id: string }) => db.selectFrom(…).where('id', '=', p.id))`,
 * then `(await q(tx, { id })).rows`.
 */
export function prepared<P extends Record<string, unknown>, O>(build: (db: Kysely<DB>, p: P) => Compilable<O>) {
  return preparedQuery<DB, P, O>(build);
}

export interface Database {
  readonly dialect: Dialect;
  readonly db: Kysely<DB>;
  /**
   * Runs a transaction that may append events. On SQLite, writes that arrive together share one
   * transaction and one COMMIT (group-commit.ts): each runs under its own savepoint, so one that
   * throws fails alone, and each caller is answered only after the shared COMMIT returned.
   * SQLite has one writer, so event cursors become visible in the order they were numbered. On
   * PostgreSQL write transactions run concurrently (READ COMMITTED) and may commit out of cursor
   * order; readers advance only to `eventWatermark()` (event-watermark.ts). Code that counts or
   * checks before it writes and needs no other writer in between takes `lockScope`.
   */
  writeTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * The highest event cursor below which every event is committed and visible, or will never be
   * (rolled back): readers that advance a cursor read no further. Null on SQLite, whose single
   * writer makes every committed event such a cursor (read the newest one).
   */
  eventWatermark(): Promise<number | null>;
  /** A transaction that reads one consistent snapshot. */
  readTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  migrate(): Promise<string[]>;
  close(): Promise<void>;
  /**
   * A mark that changes whenever another connection (the CLI, another process on the same file)
   * has committed a write since it was last read, so a process may cache rows only it changes
   * otherwise; null when that cannot be known cheaply — PostgreSQL, where other nodes write all
   * the time — and nothing may be cached on that ground. SQLite: `PRAGMA data_version`, read
   * from memory without touching the file.
   */
  othersWroteMark(): number | null;
  /**
   * Calls `listener` after each COMMIT of `writeTransaction`s (on SQLite one per group), with how long it took
   * in seconds (on SQLite with synchronous=FULL that is mostly the WAL's fsync; on PostgreSQL the
   * round trip of COMMIT, which waits for the WAL flush). Returns the way to stop.
   */
  observeCommits(listener: (seconds: number) => void): () => void;
  /**
   * Makes the next id an autoincrement column of `table` hands out at least `next` (a restore
   * leaves a gap in the event log's cursors: sync's markRestored). Inside the caller's transaction.
   */
  skipIdsTo(tx: Tx, table: 'events', next: number): Promise<void>;
  /**
   * Writes a consistent copy of the whole database to `file` while other connections keep
   * writing: SQLite's online backup in one step (one read snapshot; writers are not blocked in
   * WAL mode), or `pg_dump --format=custom` of this schema for PostgreSQL.
   */
  snapshot(file: string): Promise<void>;
}

// int8 (bigint, COUNT) arrives as a string from pg; every such value MMD stores fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** The first half of `lockScope`'s advisory lock keys (int4 pairs, apart from the watermark's int8 marks). */
const SCOPE_LOCK_KEY = 7_710_001;

/** The second half of a scope lock's key: the schema and the scope, so schemas never wait for each other. */
function scopeLockKey(schema: string, scope: string): number {
  return createHash('sha256').update(`${schema}\0${scope}`).digest().readInt32BE(0);
}

/** What a PostgreSQL write transaction offers the code running in it (see markEventWrite, lockScope). */
interface WriteHooks {
  markEvents(): Promise<void>;
  withMark<T>(insert: (marking: boolean) => Promise<T>): Promise<T>;
  lock(scope: string): Promise<void>;
  forgetLocks(): void;
}
const writeHooks = new WeakMap<object, WriteHooks>();

/**
 * Called by the event log before a write transaction takes its first event id: on PostgreSQL it
 * marks the transaction in flight (event-watermark.ts), once per transaction; on SQLite nothing.
 */
export async function markEventWrite(tx: Tx): Promise<void> {
  await writeHooks.get(tx)?.markEvents();
}

/**
 * Runs `insert`, a statement that takes event ids, marked as `markEventWrite` would mark it but
 * without a round trip of its own: on PostgreSQL the first such statement of a write transaction
 * gets `marking` true and must take the mark itself before its ids (`eventMarkExpression`, in a
 * CTE it selects from); the later ones, and every one on SQLite, get false.
 */
export function withEventMark<T>(tx: Tx, insert: (marking: boolean) => Promise<T>): Promise<T> {
  const hooks = writeHooks.get(tx);
  return hooks ? hooks.withMark(insert) : insert(false);
}

/** Each PostgreSQL database's mark expression (event-watermark.ts), by its Kysely adapter: one per database, shared by its transactions. */
const eventMarks = new WeakMap<object, string>();

/**
 * The SQL expression (no parameters) that marks a PostgreSQL write transaction in flight before
 * it takes event ids (event-watermark.ts), for the statement `withEventMark` asks to take it.
 * Fixed per database, so a query built with it can be prepared once (prepared.ts).
 */
export function eventMarkExpression(db: Kysely<DB> | Tx): string {
  // biome-ignore lint/suspicious/noExplicitAny: only the executor's adapter is read
  const mark = eventMarks.get((db as Kysely<any>).getExecutor().adapter);
  if (!mark) throw new Error('eventMarkExpression: only a PostgreSQL database marks event writes');
  return mark;
}

/**
 * Tells platform/db that `tx` rolled back to a savepoint: PostgreSQL released the locks taken
 * since (the event mark, `lockScope`'s), so the next call takes them again.
 */
export function rolledBackToSavepoint(tx: Tx): void {
  writeHooks.get(tx)?.forgetLocks();
}

/**
 * Serialises the rest of this write transaction with every other one that takes the same scope,
 * until its COMMIT or ROLLBACK: for code that reads, decides and writes (a count under a limit,
 * ids that must become visible in the order they were assigned). PostgreSQL: a transaction-scoped
 * advisory lock of the schema and scope; SQLite: nothing, it has one writer. Take it before the
 * reads it protects. Outside a write transaction it does nothing.
 */
export async function lockScope(tx: Tx | Kysely<DB>, scope: string): Promise<void> {
  await writeHooks.get(tx)?.lock(scope);
}

const concurrentWrites = new AsyncLocalStorage<{ used: boolean }>();

/**
 * Runs `fn` so that the PostgreSQL write transactions it starts run side by side with each other.
 * Every other write transaction still excludes all writers of the schema (and these) for its whole
 * length, as before the watermark: about a hundred of them read, decide and write assuming no
 * writer in between, and have not each been given the `lockScope` they would need. A path joins
 * the concurrent ones only once audited: its check-then-write steps take `lockScope` (a message's
 * send: its idempotency key, a held message's seq, forward limits; `nextSeq` is a row-locking
 * UPDATE). Only the first write transaction `fn` starts is concurrent: work it sets off later in
 * the same async context (a job woken after the commit) writes exclusively. SQLite: no effect (one
 * writer).
 */
export function concurrentWrite<T>(fn: () => Promise<T>): Promise<T> {
  return concurrentWrites.run({ used: false }, fn);
}

/** Whether the write transaction starting now may share the writers' lock (and uses up the permission). */
function takeConcurrentPermission(): boolean {
  const store = concurrentWrites.getStore();
  if (!store || store.used) return false;
  store.used = true;
  return true;
}

/** The whole-schema writers' lock: shared by audited concurrent writes, exclusive for the rest. */
const WRITERS_SCOPE = 'writers';

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL; otherwise SQLite at `sqlitePath` (':memory:' allowed). */
  databaseUrl?: string;
  sqlitePath?: string;
  sqliteSynchronous?: 'full' | 'normal';
  /** PostgreSQL schema to use (tests give each run its own). */
  pgSchema?: string;
  pgPoolSize?: number;
  /** How long a query waits for a connection before failing (default 5 s). */
  pgConnectTimeoutMs?: number;
  /** statement_timeout of every connection but the migrations' (default 60 s; 0: none). */
  pgStatementTimeoutMs?: number;
}

/** Node's codes for a connection that failed or broke, and PostgreSQL's for a server that cannot serve. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
// node-postgres says these in words only.
const UNREACHABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection terminated due to connection timeout)/;

/**
 * Whether `err` says the database cannot be reached or cannot serve right now (refused, broken or
 * timed-out connections, a server shutting down or full, a statement over its time limit), as
 * opposed to a fault in the request: what the API answers 503 `unavailable` for.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08')) return true;
  }
  if (typeof e.message === 'string' && UNREACHABLE_MESSAGES.test(e.message)) return true;
  // A host with several addresses fails with one error per address.
  return Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x));
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openSqlite(options.sqlitePath ?? ':memory:', options.sqliteSynchronous ?? 'full');
}

function openSqlite(file: string, synchronous: 'full' | 'normal'): Database {
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
  raw.pragma('wal_autocheckpoint = 10000');
  raw.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  // Prepared once: read on every authenticated request (accounts' session cache).
  const dataVersion = raw.prepare('pragma data_version').pluck();
  const commits = commitObserver();
  // Writes that arrive together share one transaction and one fsync (group-commit.ts).
  const writeTransaction = createGroupCommit(db, { maxWrites: 256, onCommit: (seconds) => commits.report(seconds) });
  return {
    dialect: 'sqlite',
    db,
    writeTransaction,
    readTransaction: (fn) => db.transaction().execute(fn),
    eventWatermark: async () => null,
    migrate: () => migrateToLatest(db as Kysely<unknown>, { dialect: 'sqlite', parts: migrationParts }),
    close: () => db.destroy(),
    othersWroteMark: () => dataVersion.get() as number,
    observeCommits: commits.observe,
    async skipIdsTo(tx, table, next) {
      // AUTOINCREMENT keeps the largest id handed out in sqlite_sequence; the next is one more.
      const r = await sql`update sqlite_sequence set seq = max(seq, ${next - 1}) where name = ${table}`.execute(tx);
      if (Number(r.numAffectedRows ?? 0) === 0) await sql`insert into sqlite_sequence (name, seq) values (${table}, ${next - 1})`.execute(tx);
    },
    async snapshot(file) {
      if (file === ':memory:') throw new Error('cannot snapshot to :memory:');
      // Every page in one step: one read transaction, so the copy is one consistent moment. In
      // smaller steps, each write by another connection would restart the copy, and a busy server
      // could keep it from ever finishing. Readers never block writers in WAL mode.
      // Created private: the copy holds everything the database does.
      makePrivateFile(file);
      await raw.backup(file, { progress: () => 0x7fffffff });
      chmodSync(file, 0o600);
      const copy = new BetterSqlite3(file);
      try {
        // A self-contained file: no -wal or -shm beside it (the server turns WAL on when it opens it).
        copy.pragma('journal_mode = DELETE');
        const check = copy.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new Error(`the copy of the database fails quick_check: ${String(check)}`);
      } finally {
        copy.close();
      }
    },
  };
}

/** Times the COMMIT of write transactions for whoever listens (metrics); free when nobody does. */
function commitObserver() {
  const listeners = new Set<(seconds: number) => void>();
  return {
    observe(listener: (seconds: number) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    report(seconds: number) {
      for (const listener of listeners) listener(seconds);
    },
    async timed<T>(run: (body: (tx: Tx) => Promise<T>) => Promise<T>, fn: (tx: Tx) => Promise<T>): Promise<T> {
      if (listeners.size === 0) return run(fn);
      let bodyDone = 0;
      const result = await run(async (tx) => {
        const value = await fn(tx);
        bodyDone = performance.now();
        return value;
      });
      const seconds = (performance.now() - bodyDone) / 1000;
      for (const listener of listeners) listener(seconds);
      return result;
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
  const statementTimeoutMs = options.pgStatementTimeoutMs ?? 60_000;
  const settings = (statementTimeout: number) => [...(schema ? [`-c search_path=${schema}`] : []), ...(statementTimeout > 0 ? [`-c statement_timeout=${statementTimeout}`] : [])].join(' ');
  const poolFor = (statementTimeout: number, max: number) => {
    const p = new pg.Pool({
      connectionString: url,
      max,
      // A request never waits forever: for a connection (the server unreachable or the pool busy)…
      connectionTimeoutMillis: options.pgConnectTimeoutMs ?? 5000,
      // …nor for an answer on a connection that went silent (no RST from a host that vanished).
      ...(statementTimeout > 0 ? { query_timeout: statementTimeout + 5000 } : {}),
      keepAlive: true,
      ...(settings(statementTimeout) ? { options: settings(statementTimeout) } : {}),
    });
    // An idle pooled connection that breaks (the server restarted, the network cut) is dropped by
    // the pool, which reports it here; unheard, the 'error' would end the process.
    p.on('error', () => {});
    // So does a connection that breaks while a query holds it: the query fails with the error
    // (answered 503, see isDatabaseUnavailable) and the pool discards the connection on release.
    p.on('connect', (client) => client.on('error', () => {}));
    return p;
  };
  const pool = poolFor(statementTimeoutMs, options.pgPoolSize ?? 10);
  const db = new Kysely<DB>({ dialect: new SchemaScopedPostgresDialect({ pool }, schema ?? 'public') });
  // Without a schema option the search_path's default applies: public (main.ts maps it so).
  const schemaName = schema ?? 'public';
  const watermark = createEventWatermark({ pool, schema: schemaName });
  eventMarks.set(db.getExecutor().adapter, watermark.markExpression);
  const commits = commitObserver();
  // Taken with BEGIN, in its message (postgres-driver.ts): no round trip of its own.
  const writers = scopeLockKey(schemaName, WRITERS_SCOPE);
  const writersShared = `select pg_advisory_xact_lock_shared(${SCOPE_LOCK_KEY}::int4, ${writers}::int4)`;
  const writersExclusive = `select pg_advisory_xact_lock(${SCOPE_LOCK_KEY}::int4, ${writers}::int4)`;
  return {
    dialect: 'postgres',
    db,
    // Event cursors need no lock (readers stop at the watermark, event-watermark.ts); the writers'
    // lock is for check-then-write code: shared by audited paths (`concurrentWrite`), else exclusive.
    writeTransaction: (fn) => {
      const concurrent = takeConcurrentPermission();
      return commits.timed(
        (body) =>
          beginWith(concurrent ? writersShared : writersExclusive, () => db.transaction().execute(async (tx) => {
            let marked: Promise<void> | null = null;
            const locked = new Set<string>();
            writeHooks.set(tx, {
              markEvents: () => (marked ??= sql.raw(watermark.markSql).execute(tx).then(() => undefined)),
              withMark(insert) {
                // After the statement that took the mark, never beside it: its ids must not come first.
                if (marked) return marked.then(() => insert(false));
                const first = insert(true);
                // Failed: the transaction is aborted, or rolled back to a savepoint (forgetLocks clears this).
                marked = first.then(
                  () => undefined,
                  () => undefined,
                );
                return first;
              },
              async lock(scope) {
                if (locked.has(scope)) return;
                locked.add(scope);
                await sql`select pg_advisory_xact_lock(${SCOPE_LOCK_KEY}::int4, ${scopeLockKey(schemaName, scope)}::int4)`.execute(tx);
              },
              forgetLocks() {
                marked = null;
                locked.clear();
              },
            });
            return body(tx);
          })),
        fn,
      );
    },
    eventWatermark: () => watermark.read(),
    observeCommits: commits.observe,
    async skipIdsTo(tx, table, next) {
      // The search path names this MMD's schema, so the unqualified table is its own.
      await sql`select setval(pg_get_serial_sequence(${table}, 'id'), ${next - 1}::bigint)`.execute(tx);
    },
    async snapshot(file) {
      makePrivateFile(file);
      await runTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--schema=${schema ?? 'public'}`, `--file=${file}`, `--dbname=${url}`]);
      chmodSync(file, 0o600);
    },
    readTransaction: (fn) => db.transaction().setIsolationLevel('repeatable read').execute(fn),
    migrate: async () => {
      if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      // Migrations rewrite whole tables and may take longer than any request should: a pool of
      // their own without the statement limit.
      const migrations = new Kysely<DB>({ dialect: new SchemaScopedPostgresDialect({ pool: poolFor(0, 2) }, schema ?? 'public') });
      try {
        return await migrateToLatest(migrations as Kysely<unknown>, { dialect: 'postgres', parts: migrationParts, schema });
      } finally {
        await migrations.destroy();
      }
    },
    close: () => db.destroy(),
    othersWroteMark: () => null,
  };
}

/**
 * Puts a snapshot made by `Database.snapshot` in place of the database `options` name, which no
 * server may be using: SQLite's file is replaced (through a temporary name, so a crash leaves the
 * old file or the new one); PostgreSQL's schema is dropped and restored with `pg_restore`.
 */
export async function restoreSnapshot(options: DatabaseOptions & { file: string }): Promise<void> {
  if (options.databaseUrl) {
    const schema = options.pgSchema ?? 'public';
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 1 });
    try {
      // The dump creates its schema (pg_dump --schema=… includes CREATE SCHEMA, public's too).
      await pool.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await pool.end();
    }
    await runTool('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${options.databaseUrl}`, options.file]);
    return;
  }
  const target = options.sqlitePath;
  if (!target || target === ':memory:') throw new Error('restoreSnapshot needs a SQLite file');
  makePrivateDir(path.dirname(target));
  const staged = `${target}.restoring`;
  await copyFile(options.file, staged);
  makePrivateFile(staged);
  // A WAL or shared-memory file left from the old database would be replayed onto the new one.
  await rm(`${target}-wal`, { force: true });
  await rm(`${target}-shm`, { force: true });
  await rename(staged, target);
}

/** Runs a PostgreSQL client tool (pg_dump, pg_restore); rejects with its stderr when it fails. */
function runTool(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 10_000) stderr += d.toString();
    });
    child.on('error', (err) => reject(new Error(`${command} could not be started (${err.message}); install the PostgreSQL client tools`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr.trim()}`))));
  });
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
