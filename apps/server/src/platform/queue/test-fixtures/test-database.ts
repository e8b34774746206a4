/**
 * Fresh migrated databases for platform tests: SQLite in a temporary folder, PostgreSQL in a
 * schema of its own (dropped on close) when MMD_TEST_POSTGRES_URL is set. Kept here rather than in
 * test/harness.ts because the harness loads the whole app, which these tests do not need.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'node:test';
import { sql } from 'kysely';
import { type Database, type Dialect, openDatabase } from '../../db/index.ts';

export const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;

export interface TestDatabase {
  db: Database;
  /** How a second process opens the same database. */
  location: { sqlitePath?: string; databaseUrl?: string; pgSchema?: string };
  close(): Promise<void>;
}

let counter = 0;

export async function openTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-platform-'));
  counter += 1;
  const location =
    dialect === 'postgres'
      ? { databaseUrl: POSTGRES_URL, pgSchema: `q_${process.pid}_${Date.now().toString(36)}_${counter}` }
      : { sqlitePath: path.join(dir, 'mmd.sqlite') };
  if (dialect === 'postgres' && !POSTGRES_URL) throw new Error('MMD_TEST_POSTGRES_URL is not set');
  const db = openDatabase({ ...location, pgPoolSize: 4 });
  await db.migrate();
  return {
    db,
    location,
    async close() {
      if (location.pgSchema)
        await sql`drop schema if exists ${sql.id(location.pgSchema)} cascade`.execute(db.db);
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a suite on SQLite, and on PostgreSQL when configured — else reports it skipped, with why. */
export function onEachDatabase(name: string, suite: (dialect: Dialect) => void) {
  describe(`${name} [sqlite]`, () => suite('sqlite'));
  if (POSTGRES_URL) describe(`${name} [postgres]`, () => suite('postgres'));
  else
    describe(`${name} [postgres]`, {
      skip: 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set',
    }, () => {});
}

/** Polls `probe` until it returns something truthy; fails after `ms`. */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  ms = 5000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
