/**
 * The BullMQ queue (MMD_REDIS_URL) keeps the database queue's promises: a job runs and its result
 * is recorded, a dedupe key makes one job, a failing job is retried with backoff until it works,
 * a permanent failure is not retried, a job enqueued in a rolled-back transaction never runs, and
 * a job whose worker is killed with SIGKILL is finished by another. Skipped without
 * MMD_TEST_REDIS_URL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type Redis, openRedis } from '../redis/index.ts';
import { type RelayPayloads, createBullQueue } from './bullmq-queue.ts';
import { createDbQueue } from './db-queue.ts';
import { PermanentJobError } from './errors.ts';
import { eventually, openTestDatabase, type TestDatabase } from './test-fixtures/test-database.ts';

const REDIS_URL = process.env.MMD_TEST_REDIS_URL;
const root = path.resolve(import.meta.dirname, '../../../../..');
let counter = 0;

describe('BullMQ job queue', { skip: REDIS_URL ? false : 'BullMQ suite not run: MMD_TEST_REDIS_URL is not set' }, () => {
  let redis: Redis;
  let t: TestDatabase;
  let prefix: string;
  const closers: (() => Promise<unknown>)[] = [];
  beforeEach(async () => {
    counter += 1;
    prefix = `mmd-test:bull${process.pid}x${counter}:`;
    redis = openRedis(REDIS_URL!);
    t = await openTestDatabase('sqlite');
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await t.close();
  });

  function queueOf<P extends Record<string, unknown>>(options: { backoffMs?: number } = {}) {
    const outbox = createDbQueue<RelayPayloads>({ db: t.db });
    const queue = createBullQueue<P>({ redis, prefix, name: 'test', outbox, backoff: { baseMs: options.backoffMs ?? 100, maxMs: 1000 } });
    // Every enqueue goes through the database outbox: the relay moves it to BullMQ.
    const relay = queue.relay();
    closers.push(() => queue.close(), () => relay.stop());
    return queue;
  }

  test('runs a job and records its result; a second enqueue with the same dedupe key is the same job', async () => {
    const queue = queueOf<{ add: { a: number; b: number } }>();
    const first = await queue.enqueue('add', { a: 2, b: 3 }, { dedupeKey: 'add:2:3' });
    const again = await queue.enqueue('add', { a: 2, b: 3 }, { dedupeKey: 'add:2:3' });
    assert.equal(first.deduplicated, false);
    assert.deepEqual(again, { id: first.id, deduplicated: true });
    let runs = 0;
    const add = async (job: { payload: { a: number; b: number } }) => {
      runs += 1;
      return job.payload.a + job.payload.b;
    };
    const worker = queue.work({ add }, { concurrency: 2, leaseMs: 5000 });
    closers.push(() => worker.stop());
    const info = await eventually('job done', async () => ((await queue.get(first.id))?.status === 'succeeded' ? queue.get(first.id) : null));
    assert.equal(info.result, 5);
    assert.equal(runs, 1);
    assert.equal((await queue.stats()).succeeded, 1);
  });

  test('retries a failing job with growing delays until it succeeds, and gives up at once on a permanent failure', async () => {
    const queue = queueOf<{ flaky: { n: number }; broken: { n: number } }>({ backoffMs: 200 });
    const attempts: { attempt: number; at: number }[] = [];
    let brokenRuns = 0;
    const worker = queue.work(
      {
        flaky: async (job) => {
          attempts.push({ attempt: job.attempt, at: Date.now() });
          if (job.attempt < 3) throw new Error('not yet');
          return 'ok';
        },
        broken: async () => {
          brokenRuns += 1;
          throw new PermanentJobError('cannot work');
        },
      },
      { concurrency: 2, leaseMs: 5000 },
    );
    closers.push(() => worker.stop());
    const flaky = await queue.enqueue('flaky', { n: 1 }, { maxAttempts: 5 });
    const broken = await queue.enqueue('broken', { n: 1 }, { maxAttempts: 5 });
    await eventually('flaky succeeded', async () => (await queue.get(flaky.id))?.status === 'succeeded', 15_000);
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
    // Equal jitter: at least half the delay (100 ms after the first failure, 200 after the second).
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 90, `first retry waited ${attempts[1]!.at - attempts[0]!.at} ms`);
    assert.ok(attempts[2]!.at - attempts[1]!.at >= 190, `second retry waited ${attempts[2]!.at - attempts[1]!.at} ms`);
    const failed = await eventually('broken failed', async () => ((await queue.get(broken.id))?.status === 'failed' ? queue.get(broken.id) : null));
    assert.equal(brokenRuns, 1);
    assert.match(failed.lastError ?? '', /cannot work/);
  });

  test('a job enqueued in a transaction runs once that transaction commits, never if it rolls back', async () => {
    const queue = queueOf<{ note: { text: string } }>();
    const seen: string[] = [];
    const worker = queue.work({ note: async (job) => void seen.push(job.payload.text) }, { concurrency: 1, leaseMs: 5000 });
    closers.push(() => worker.stop());
    await t.db.writeTransaction(async (tx) => {
      await queue.enqueueIn(tx, 'note', { text: 'committed' });
    });
    await assert.rejects(
      t.db.writeTransaction(async (tx) => {
        await queue.enqueueIn(tx, 'note', { text: 'rolled back' });
        throw new Error('abort');
      }),
    );
    await eventually('committed job ran', () => seen.includes('committed'), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(seen, ['committed']);
  });

  test('a job whose worker is killed with SIGKILL is finished by another worker, once', async () => {
    const queue = queueOf<{ hang: { n: number } }>();
    const { id } = await queue.enqueue('hang', { n: 1 });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'test-fixtures/bullmq-hang-worker.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', BULL_REDIS_URL: REDIS_URL!, BULL_PREFIX: prefix, BULL_LEASE_MS: '1000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await eventually('the child took the job', () => out.includes(`took ${id}`), 60_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    let runs = 0;
    const hang = async () => {
      runs += 1;
      return 'finished';
    };
    const worker = queue.work({ hang }, { concurrency: 1, leaseMs: 1000 });
    closers.push(() => worker.stop());
    const info = await eventually('finished after the kill', async () => ((await queue.get(id))?.status === 'succeeded' ? queue.get(id) : null), 20_000);
    assert.equal(info.result, 'finished');
    assert.equal(runs, 1);
  });
});
