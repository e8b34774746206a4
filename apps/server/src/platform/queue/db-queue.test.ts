import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { createDbQueue } from './db-queue.ts';
import { PermanentJobError } from './errors.ts';
import { dueJobs } from './job-store.ts';
import {
  eventually,
  onEachDatabase,
  openTestDatabase,
  type TestDatabase,
} from './test-fixtures/test-database.ts';
import type { JobHandlers, Queue, QueueWorker } from './types.ts';

interface Jobs {
  echo: { text: string };
  flaky: { failTimes: number };
  corrupt: { file: string };
  slow: { ms: number };
}

const noop: JobHandlers<Jobs> = {
  echo: async (job) => job.payload.text,
  flaky: async () => null,
  corrupt: async () => null,
  slow: async () => null,
};

// Compile-time check, never run: a handler map missing a job type does not type-check.
export function missingHandlerIsACompileError(queue: Queue<Jobs>) {
  // @ts-expect-error 'slow' has no handler
  queue.work({ echo: noop.echo, flaky: noop.flaky, corrupt: noop.corrupt });
  // @ts-expect-error the payload of 'echo' is { text: string }
  void queue.enqueue('echo', { n: 1 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

onEachDatabase('job queue', (dialect) => {
  let t: TestDatabase;
  const workers: QueueWorker[] = [];
  beforeEach(async () => {
    t = await openTestDatabase(dialect);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop({ timeoutMs: 1000 });
    await t.close();
  });
  const start = (queue: Queue<Jobs>, handlers: Partial<JobHandlers<Jobs>>, options = {}) => {
    const w = queue.work({ ...noop, ...handlers }, { pollMs: 20, leaseMs: 5000, ...options });
    workers.push(w);
    return w;
  };
  const finished = (queue: Queue<Jobs>, id: string) =>
    eventually(`job ${id} to finish`, async () => {
      const job = await queue.get(id);
      return job && (job.status === 'succeeded' || job.status === 'failed') ? job : undefined;
    });

  test('runs a job and records its result', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    const { id, deduplicated } = await queue.enqueue('echo', { text: 'hello' });
    assert.equal(deduplicated, false);
    assert.equal((await queue.get(id))?.status, 'queued');
    start(queue, {});
    const job = await finished(queue, id);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result, 'hello');
    assert.equal(job.attempts, 1);
    assert.equal(job.progress, 100);
    assert.deepEqual(job.payload, { text: 'hello' });
    assert.deepEqual(await queue.stats(), { queued: 0, running: 0, succeeded: 1, failed: 0 });
  });

  test('an enqueue wakes an idle worker at once, not at its next poll', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    start(queue, {}, { pollMs: 60_000 });
    await sleep(50); // the worker has polled once and is asleep
    const began = Date.now();
    const { id } = await queue.enqueue('echo', { text: 'now' });
    await finished(queue, id);
    assert.ok(Date.now() - began < 2000);
  });

  test('retries with backoff, then succeeds', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db, backoff: { baseMs: 20, maxMs: 100 } });
    const runs: number[] = [];
    start(queue, {
      flaky: async (job) => {
        runs.push(Date.now());
        if (job.attempt <= job.payload.failTimes) throw new Error(`boom ${job.attempt}`);
        return { ok: job.attempt };
      },
    });
    const { id } = await queue.enqueue('flaky', { failTimes: 2 }, { maxAttempts: 5 });
    const job = await finished(queue, id);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.attempts, 3);
    assert.deepEqual(job.result, { ok: 3 });
    assert.equal(job.lastError, 'Error: boom 2');
    assert.equal(runs.length, 3);
    // Second wait is at least half of 2 × base (equal jitter).
    assert.ok(runs[2]! - runs[1]! >= 20, `waited ${runs[2]! - runs[1]!} ms`);
  });

  test('fails with the last error once attempts run out', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db, backoff: { baseMs: 5, maxMs: 10 } });
    start(queue, { flaky: async (job) => Promise.reject(new Error(`boom ${job.attempt}`)) });
    const { id } = await queue.enqueue('flaky', { failTimes: 99 }, { maxAttempts: 3 });
    const job = await finished(queue, id);
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 3);
    assert.equal(job.lastError, 'Error: boom 3');
  });

  test('a PermanentJobError fails the job without retrying', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db, backoff: { baseMs: 5 } });
    let runs = 0;
    start(queue, {
      corrupt: async (job) => {
        runs++;
        throw new PermanentJobError(`${job.payload.file} is not a valid image`);
      },
    });
    const { id } = await queue.enqueue('corrupt', { file: 'x.png' }, { maxAttempts: 5 });
    const job = await finished(queue, id);
    await sleep(50);
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 1);
    assert.equal(runs, 1);
    assert.equal(job.lastError, 'PermanentJobError: x.png is not a valid image');
  });

  test('never runs more jobs at once than its concurrency', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    let now = 0;
    let peak = 0;
    start(
      queue,
      {
        slow: async (job) => {
          now++;
          peak = Math.max(peak, now);
          await sleep(job.payload.ms);
          now--;
        },
      },
      { concurrency: 3 },
    );
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push((await queue.enqueue('slow', { ms: 40 })).id);
    for (const id of ids) assert.equal((await finished(queue, id)).status, 'succeeded');
    assert.equal(peak, 3);
  });

  test('concurrent workers run each job exactly once', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    const seen = new Map<string, number>();
    const handler = {
      echo: async (job: { id: string }) => seen.set(job.id, (seen.get(job.id) ?? 0) + 1) && null,
    };
    for (let i = 0; i < 3; i++) start(queue, handler, { concurrency: 4, pollMs: 5 });
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push((await queue.enqueue('echo', { text: String(i) })).id);
    for (const id of ids) await finished(queue, id);
    assert.equal(seen.size, 40);
    assert.ok([...seen.values()].every((n) => n === 1));
  });

  test('a stale lease holder cannot complete a job another worker reclaimed', async () => {
    // A controllable clock stands in for time passing while the first worker is stuck (a GC
    // pause, a partitioned host): its lease expires without its heartbeat getting to run.
    let clock = 1_000_000;
    const queue = createDbQueue<Jobs>({ db: t.db, clock: () => clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let staleSignal: AbortSignal | undefined;
    const stale = start(
      queue,
      {
        echo: async (job) => {
          staleSignal = job.signal;
          await job.progress(30);
          await gate;
          return 'stale';
        },
      },
      { leaseMs: 60_000 },
    );
    const { id } = await queue.enqueue('echo', { text: 'x' });
    await eventually('first claim', () => staleSignal);
    // The handler is seen before its progress write commits: wait for the write, not the claim.
    await eventually('first progress', async () => (await queue.get(id))?.progress === 30 || undefined);

    clock += 120_000; // the first lease has expired
    const fresh = start(queue, { echo: async () => 'fresh' }, { leaseMs: 60_000 });
    const job = await finished(queue, id);
    assert.equal(job.result, 'fresh');
    assert.equal(job.attempts, 2);

    release(); // the stale worker finishes late…
    await stale.stop();
    await fresh.stop();
    const after = await queue.get(id);
    assert.equal(after?.status, 'succeeded');
    assert.equal(after?.result, 'fresh'); // …and its outcome was discarded
    assert.equal(after?.updatedAt, job.updatedAt);
  });

  test('a heartbeat that finds the lease gone aborts the handler', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    let aborted: unknown;
    start(
      queue,
      {
        slow: (job) =>
          new Promise((resolve) => {
            job.signal.addEventListener('abort', () => {
              aborted = job.signal.reason;
              resolve(null);
            });
          }),
      },
      { leaseMs: 60 },
    );
    const { id } = await queue.enqueue('slow', { ms: 0 });
    await eventually('claim', async () => (await queue.get(id))?.status === 'running');
    // Another worker took the job over: the token changed under the first one.
    await t.db.db.updateTable('jobs').set({ lease_token: 'someone-else' }).where('id', '=', id).execute();
    await eventually('abort', () => aborted);
    assert.equal((aborted as Error).name, 'LeaseLostError');
  });

  test('dedupeKey makes a second enqueue a no-op returning the first job', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    const first = await queue.enqueue('echo', { text: 'a' }, { dedupeKey: 'media:1:hash' });
    const second = await queue.enqueue('echo', { text: 'b' }, { dedupeKey: 'media:1:hash' });
    const inTx = await t.db.writeTransaction((tx) =>
      queue.enqueueIn(tx, 'echo', { text: 'c' }, { dedupeKey: 'media:1:hash' }),
    );
    assert.deepEqual(second, { id: first.id, deduplicated: true });
    assert.deepEqual(inTx, { id: first.id, deduplicated: true });
    assert.deepEqual((await queue.get(first.id))?.payload, { text: 'a' });
    assert.equal((await queue.stats()).queued, 1);
  });

  test('enqueueIn commits and rolls back with the caller’s transaction', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    start(queue, {}, { pollMs: 60_000 });
    await assert.rejects(
      t.db.writeTransaction(async (tx) => {
        await queue.enqueueIn(tx, 'echo', { text: 'lost' });
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    const { id } = await t.db.writeTransaction((tx) => queue.enqueueIn(tx, 'echo', { text: 'kept' }));
    assert.equal((await finished(queue, id)).result, 'kept');
    assert.deepEqual(await queue.stats(), { queued: 0, running: 0, succeeded: 1, failed: 0 });
  });

  test('runAt delays a job; progress and prune', async () => {
    const queue = createDbQueue<Jobs>({ db: t.db });
    const later = await queue.enqueue('echo', { text: 'later' }, { runAt: Date.now() + 60_000 });
    const { id } = await queue.enqueue('echo', { text: 'now' });
    start(queue, {});
    await finished(queue, id);
    assert.equal((await queue.get(later.id))?.status, 'queued');
    await queue.progress(later.id, 40); // not running: ignored
    assert.equal((await queue.get(later.id))?.progress, 0);
    await assert.rejects(queue.progress(later.id, Number.NaN), RangeError);
    assert.equal(await queue.prune(Date.now() + 1), 1);
    assert.equal(await queue.get(id), undefined);
    assert.ok(await queue.get(later.id));
  });

  test('polling reads the partial index of live jobs', async () => {
    const compiled = dueJobs(t.db.db, ['echo', 'slow'], Date.now(), 4).compile();
    const explain = CompiledQuery.raw(`explain ${dialect === 'sqlite' ? 'query plan ' : ''}${compiled.sql}`, [
      ...compiled.parameters,
    ]);
    // PostgreSQL rightly scans a tiny table; forbid that to see which index it would use.
    const plan = await t.db.db.connection().execute(async (c) => {
      if (dialect === 'postgres') await c.executeQuery(CompiledQuery.raw('set enable_seqscan = off'));
      const rows = (await c.executeQuery(explain)).rows;
      if (dialect === 'postgres') await c.executeQuery(CompiledQuery.raw('reset enable_seqscan'));
      return rows.map((r) => Object.values(r as object).join(' ')).join('\n');
    });
    assert.match(plan, /jobs_due/);
  });
});
