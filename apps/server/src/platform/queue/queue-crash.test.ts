/**
 * A job survives its worker's death: a worker in another process claims a job and is killed with
 * SIGKILL mid-run; once its lease expires, a worker here reclaims the job and completes it, once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { createDbQueue } from './db-queue.ts';
import {
  eventually,
  onEachDatabase,
  openTestDatabase,
  type TestDatabase,
} from './test-fixtures/test-database.ts';

const root = path.resolve(import.meta.dirname, '../../../../..');
const fixture = path.join(import.meta.dirname, 'test-fixtures/crash-worker.ts');
const LEASE_MS = 1500;

onEachDatabase('job queue crash', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(dialect);
  });
  afterEach(() => t.close());

  test('a job whose worker is killed is reclaimed after its lease and completed exactly once', async () => {
    const queue = createDbQueue<{ hang: { n: number } }>({ db: t.db });
    const { id } = await queue.enqueue('hang', { n: 1 });

    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        CRASH_SQLITE_PATH: t.location.sqlitePath ?? '',
        CRASH_DATABASE_URL: t.location.databaseUrl ?? '',
        CRASH_PG_SCHEMA: t.location.pgSchema ?? '',
        CRASH_LEASE_MS: String(LEASE_MS),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await eventually('the child to claim the job', () => out.includes(`claimed ${id}`), 20_000);
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');

    const orphaned = await queue.get(id);
    assert.equal(orphaned?.status, 'running');
    assert.equal(orphaned?.attempts, 1);
    const leaseExpiry = orphaned!.availableAt;

    // Two workers compete for the orphan; only one may run it.
    const runs: { at: number; attempt: number }[] = [];
    const handlers = {
      hang: async (job: { attempt: number }) => {
        runs.push({ at: Date.now(), attempt: job.attempt });
        return 'recovered';
      },
    };
    const workers = [1, 2].map(() => queue.work(handlers, { leaseMs: LEASE_MS, pollMs: 25 }));
    try {
      const job = await eventually(
        'the job to be reclaimed and completed',
        async () => {
          const j = await queue.get(id);
          return j?.status === 'succeeded' ? j : undefined;
        },
        10_000,
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.attempt, 2);
      assert.ok(runs[0]!.at >= leaseExpiry, 'reclaimed only after the lease expired');
      assert.equal(job.attempts, 2);
      assert.equal(job.result, 'recovered');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});
