/**
 * A real MMD server in a child process, for the tests that kill it with SIGKILL and start it
 * again on the same data (nothing acknowledged may be lost). One copy of the spawning, readiness
 * and per-database set-up, shared by every kill -9 test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { POSTGRES_URL, eventually } from './harness.ts';

const root = path.resolve(import.meta.dirname, '../../..');

/** A TCP port nobody listens on right now (one copy, shared with `npm run cluster`). */
export { freePort } from '../../../scripts/cluster.ts';

/**
 * Starts `mmd serve` with a clean environment plus `env` (MMD_PORT and the database or data dir
 * at least). Cheap password hashing and short job leases keep restarts quick. `nodeArgs` go to node
 * itself (`--cpu-prof`: NODE_OPTIONS refuses it).
 */
export function spawnServer(env: Record<string, string>, nodeArgs: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(root, 'apps/server/src/main.ts'), 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      MMD_LOG_LEVEL: 'warn',
      MMD_HOST: '127.0.0.1',
      MMD_ARGON2_MEMORY_KIB: '1024',
      MMD_ARGON2_ITERATIONS: '1',
      MMD_JOB_LEASE_MS: '2000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Waits until the server at `url` answers /readyz. */
export async function waitReady(url: string) {
  await eventually('server ready', async () => {
    try {
      return (await fetch(`${url}/readyz`)).ok;
    } catch {
      return false;
    }
  }, 60_000);
}

/** SIGKILL, then waits for the process to be gone. */
export async function killHard(child: ChildProcess) {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
}

/**
 * Declares one kill -9 test per database: `[sqlite]` with a fresh data dir, `[postgres]` with a
 * fresh schema (skipped, saying why, when MMD_TEST_POSTGRES_URL is not set). `body` gets the
 * database part of the server's environment.
 */
export function crashTestOnEachDatabase(name: string, body: (env: Record<string, string>) => Promise<void>) {
  test(`${name} [sqlite]`, { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmd-crash-'));
    try {
      await body({ MMD_DATA_DIR: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test(`${name} [postgres]`, { timeout: 300_000, skip: POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, async () => {
    const schema = `crash_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const dir = mkdtempSync(path.join(tmpdir(), 'mmd-crash-'));
    try {
      await body({ MMD_DATABASE_URL: POSTGRES_URL!, MMD_DATABASE_SCHEMA: schema, MMD_DATA_DIR: dir });
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
