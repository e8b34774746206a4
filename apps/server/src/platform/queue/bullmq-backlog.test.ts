/**
 * What the BullMQ queues report as their backlog (the figures behind the `mmd_jobs_*` gauges with
 * MMD_QUEUE=bullmq): Redis's own lists, not the database outbox's rows. Jobs enqueued with no
 * worker running show as waiting (due) or scheduled (later) in their queue, with the age of the
 * oldest growing; enqueues not yet relayed show as the outbox's; once processed, zeros. Skipped
 * without MMD_TEST_REDIS_URL.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type Redis, openRedis } from '../redis/index.ts';
import { PermanentJobError } from './errors.ts';
import { type JobQueues, createJobQueues } from './index.ts';
import { eventually, openTestDatabase, type TestDatabase } from './test-fixtures/test-database.ts';
import type { JobBacklog, QueuesBacklog, QueueWorker } from './types.ts';

const REDIS_URL = process.env.MMD_TEST_REDIS_URL;
let counter = 0;

type Work = { sleep: { ms: number }; fail: { why: string } };

function ofQueue(backlog: QueuesBacklog, queue: string): JobBacklog {
  const found = backlog.jobs.find((j) => j.queue === queue);
  assert.ok(found, `queue ${queue} reported`);
  return found;
}

describe('BullMQ queues’ backlog', { skip: REDIS_URL ? false : 'BullMQ suite not run: MMD_TEST_REDIS_URL is not set' }, () => {
  let redis: Redis;
  let t: TestDatabase;
  let prefix: string;
  let queues: JobQueues;
  const stops: (() => Promise<unknown>)[] = [];
  beforeEach(async () => {
    counter += 1;
    prefix = `mmd-test:backlog${process.pid}x${counter}:`;
    redis = openRedis(REDIS_URL!);
    t = await openTestDatabase('sqlite');
    // Every reading fresh; the cache has a test of its own.
    queues = createJobQueues({ kind: 'bullmq', redis, prefix, backlogCacheMs: 0 }, { db: t.db });
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await queues.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await t.close();
  });

  test('counts what waits in Redis per queue, ages the oldest, and reaches zero once processed', async () => {
    const work = queues.open<Work>('work');
    queues.open<Work>('idle');
    // Before any relay: the enqueues are the outbox's, not yet BullMQ's.
    await work.enqueue('sleep', { ms: 0 });
    await work.enqueue('sleep', { ms: 0 });
    await work.enqueue('sleep', { ms: 0 }, { runAt: Date.now() + 3_600_000 });
    await work.enqueue('fail', { why: 'broken for good' });
    await new Promise((r) => setTimeout(r, 20));
    const staged = await queues.backlog(Date.now());
    assert.deepEqual(staged.outbox?.find((o) => o.queue === 'work')?.pending, 4);
    assert.ok((staged.outbox?.find((o) => o.queue === 'work')?.oldestPendingMs ?? 0) >= 20);
    assert.equal(ofQueue(staged, 'work').waiting, 0, 'nothing in Redis yet');

    const relay = queues.startRelay({ pollMs: 50 })!;
    stops.push(() => relay.stop());
    const relayed = await eventually('every enqueue relayed', async () => {
      const b = await queues.backlog(Date.now());
      return b.outbox?.every((o) => o.pending === 0) && ofQueue(b, 'work').waiting === 3 ? b : null;
    });
    const w = ofQueue(relayed, 'work');
    assert.deepEqual({ type: w.type, waiting: w.waiting, scheduled: w.scheduled, running: w.running, failed: w.failed }, { type: null, waiting: 3, scheduled: 1, running: 0, failed: 0 });
    assert.deepEqual(ofQueue(relayed, 'idle'), { queue: 'idle', type: null, waiting: 0, scheduled: 0, running: 0, failed: 0, oldestWaitingMs: 0 });
    assert.equal(relayed.outbox?.find((o) => o.queue === 'work')?.oldestPendingMs, 0);

    // The oldest waiting job's age grows with the clock.
    const first = ofQueue(await queues.backlog(Date.now()), 'work').oldestWaitingMs;
    await new Promise((r) => setTimeout(r, 300));
    const later = ofQueue(await queues.backlog(Date.now()), 'work');
    assert.ok(later.oldestWaitingMs >= first + 300, `${later.oldestWaitingMs} grew from ${first}`);

    // A worker: one job held running, one failing for good, the rest done.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started = 0;
    const worker: QueueWorker = work.work(
      {
        sleep: async () => {
          started += 1;
          if (started === 1) await held;
        },
        fail: async (job) => {
          throw new PermanentJobError(job.payload.why);
        },
      },
      { concurrency: 2 },
    );
    stops.push(() => worker.stop({ timeoutMs: 2000 }));
    const busy = await eventually('one job running, the failing one failed', async () => {
      const b = ofQueue(await queues.backlog(Date.now()), 'work');
      return b.running === 1 && b.failed === 1 && b.waiting === 0 ? b : null;
    });
    assert.equal(busy.oldestWaitingMs, 0, 'nothing waits, so no age');
    release();
    const done = await eventually('all processed', async () => {
      const b = ofQueue(await queues.backlog(Date.now()), 'work');
      return b.running === 0 ? b : null;
    });
    assert.deepEqual({ waiting: done.waiting, scheduled: done.scheduled, running: done.running, failed: done.failed, age: done.oldestWaitingMs }, { waiting: 0, scheduled: 1, running: 0, failed: 1, age: 0 });
  });

  test('a delayed job past its time counts as waiting, aged from when it became due, while no worker promotes it', async () => {
    const work = queues.open<Work>('work');
    const relay = queues.startRelay({ pollMs: 50 })!;
    stops.push(() => relay.stop());
    const dueAt = Date.now() + 3000; // far enough ahead to see it relayed as delayed first, even on a loaded machine
    await work.enqueue('sleep', { ms: 0 }, { runAt: dueAt });
    const before = await eventually('relayed as delayed', async () => {
      const b = ofQueue(await queues.backlog(Date.now()), 'work');
      return b.scheduled === 1 ? b : null;
    });
    assert.equal(before.waiting, 0);
    // No worker runs, so BullMQ leaves it among its delayed jobs: still, it is due.
    const at = dueAt + 5000;
    const b = ofQueue(await queues.backlog(at), 'work');
    assert.equal(b.waiting, 1);
    assert.equal(b.scheduled, 0);
    // Due at its runAt (relayed as a delay from the relay's clock: a few ms either way).
    assert.ok(Math.abs(b.oldestWaitingMs - 5000) < 200, `${b.oldestWaitingMs} ≈ 5000`);
  });

  test('a reading is reused for a second, its ages still reckoned from the time asked', async () => {
    const cachedQueues = createJobQueues({ kind: 'bullmq', redis, prefix: `${prefix}cached:` }, { db: t.db });
    stops.push(() => cachedQueues.close());
    const work = cachedQueues.open<Work>('work');
    const relay = cachedQueues.startRelay({ pollMs: 50 })!;
    stops.push(() => relay.stop());
    await work.enqueue('sleep', { ms: 0 });
    await eventually('relayed', async () => (await cachedQueues.backlog(Date.now())).jobs[0]?.waiting === 1 || null, 5000);
    const now = Date.now() + 1500; // a fresh reading
    const first = ofQueue(await cachedQueues.backlog(now), 'work');
    await work.enqueue('sleep', { ms: 0 });
    await eventually('the second relayed', async () => (await t.db.db.selectFrom('jobs').select('id').where('status', '=', 'succeeded').execute()).length === 2 || null);
    const again = ofQueue(await cachedQueues.backlog(now + 400), 'work');
    assert.equal(again.waiting, 1, 'the reading of 400 ms ago');
    assert.equal(again.oldestWaitingMs, first.oldestWaitingMs + 400);
    const fresh = ofQueue(await cachedQueues.backlog(now + 1000), 'work');
    assert.equal(fresh.waiting, 2, 'read again after a second');
  });
});
