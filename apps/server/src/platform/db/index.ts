/**
 * The database handle: Kysely over SQLite (better-sqlite3, the embedded default) or PostgreSQL.
 * This is the only place that knows which; the rest of the server sees `Database`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
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
  return {
    dialect: 'sqlite',
    db,
    writeTransaction: (fn) => db.transaction().execute(fn),
    readTransaction: (fn) => db.transaction().execute(fn),
    migrate: () => migrateToLatest(db as Kysely<unknown>, { dialect: 'sqlite', parts: migrationParts }),
    close: () => db.destroy(),
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
