/**
 * Queues are apart, on every implementation MMD_QUEUE can pick (the database on SQLite and
 * PostgreSQL, BullMQ on Redis): with a campaign backlog queued and every campaign slot busy, a
 * media job and a webhook job enqueued after it still run and complete first. And on BullMQ, an
 * acknowledged enqueue survives its process being killed with SIGKILL: it runs, once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type Redis, openRedis } from '../redis/index.ts';
import { type JobQueues, createJobQueues } from './index.ts';
import { POSTGRES_URL, type TestDatabase, eventually, openTestDatabase } from './test-fixtures/test-database.ts';

const REDIS_URL = process.env.MMD_TEST_REDIS_URL;
const root = path.resolve(import.meta.dirname, '../../../../..');
let counter = 0;

const variants = [
  { name: 'database [sqlite]', kind: 'database' as const, dialect: 'sqlite' as const, skip: false as const },
  { name: 'database [postgres]', kind: 'database' as const, dialect: 'postgres' as const, skip: POSTGRES_URL ? (false as const) : 'MMD_TEST_POSTGRES_URL is not set' },
  { name: 'bullmq', kind: 'bullmq' as const, dialect: 'sqlite' as const, skip: REDIS_URL ? (false as const) : 'MMD_TEST_REDIS_URL is not set' },
];

for (const variant of variants) {
  describe(`job queues apart: ${variant.name}`, { skip: variant.skip }, () => {
    let t: TestDatabase;
    let redis: Redis | null = null;
    let prefix: string;
    let queues: JobQueues;
    const closers: (() => Promise<unknown>)[] = [];
    beforeEach(async () => {
      counter += 1;
      prefix = `mmd-test:apart${process.pid}x${counter}:`;
      t = await openTestDatabase(variant.dialect);
      if (variant.kind === 'bullmq') redis = openRedis(REDIS_URL!);
      queues = createJobQueues(variant.kind === 'bullmq' ? { kind: 'bullmq', redis: redis!, prefix } : { kind: 'database' }, { db: t.db });
    });
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close();
      await queues.close();
      if (redis) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      await t.close();
    });

    test('a campaign backlog with every slot busy never holds up a media job or a webhook delivery', async () => {
      const campaigns = queues.open<{ 'campaign-send': { n: number } }>('campaigns');
      const core = queues.open<{ 'media-process': { mediaId: string } }>('core');
      const webhooks = queues.open<{ 'webhook-deliver': { webhookId: string } }>('webhooks');
      const relay = queues.startRelay({ pollMs: 50 });
      if (relay) closers.push(() => relay.stop());

      const backlog = 300;
      for (let n = 0; n < backlog; n += 1) await campaigns.enqueue('campaign-send', { n });
      // Each campaign job holds its slot until the test lets go: the campaign worker is saturated.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const order: string[] = [];
      let campaignStarted = 0;
      const campaignWorker = campaigns.work(
        {
          'campaign-send': async (job) => {
            campaignStarted += 1;
            await released;
            order.push(`campaign ${job.payload.n}`);
          },
        },
        { concurrency: 2, leaseMs: 30_000, pollMs: 50 },
      );
      closers.push(() => campaignWorker.stop({ timeoutMs: 5000 }));
      await eventually('both campaign slots are busy', () => campaignStarted === 2, 30_000);

      const coreWorker = core.work({ 'media-process': async (job) => void order.push(`media ${job.payload.mediaId}`) }, { concurrency: 1, leaseMs: 30_000, pollMs: 50 });
      const webhookWorker = webhooks.work({ 'webhook-deliver': async (job) => void order.push(`webhook ${job.payload.webhookId}`) }, { concurrency: 1, leaseMs: 30_000, pollMs: 50 });
      closers.push(() => coreWorker.stop(), () => webhookWorker.stop());
      const media = await core.enqueue('media-process', { mediaId: 'm1' });
      const hook = await webhooks.enqueue('webhook-deliver', { webhookId: 'w1' });
      await eventually('the media job completed', async () => (await core.get(media.id))?.status === 'succeeded', 30_000);
      await eventually('the webhook job completed', async () => (await webhooks.get(hook.id))?.status === 'succeeded', 30_000);
      assert.deepEqual(order.slice().sort(), ['media m1', 'webhook w1'], 'both ran while no campaign job had finished');
      assert.equal(campaignStarted, 2, 'the campaign worker kept to its own two slots');
      // (On the database every queue shares one table, so its stats count them all: at least as many.)
      assert.ok((await campaigns.stats()).queued >= backlog - 2, 'the campaign backlog is still queued');

      // Let go: the backlog drains in full, after them.
      release();
      await eventually('the campaign backlog drained', () => order.length === backlog + 2, 120_000);
      assert.deepEqual(order.slice(0, 2).sort(), ['media m1', 'webhook w1']);
    });

    // BullMQ only: the database queue's kill -9 test is queue-crash.test.ts.
    if (variant.kind === 'bullmq')
      test('an acknowledged enqueue survives its process killed with SIGKILL, and runs once', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'test-fixtures/bullmq-enqueue-child.ts')], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', CHILD_SQLITE_PATH: t.location.sqlitePath ?? '', CHILD_REDIS_URL: REDIS_URL!, CHILD_PREFIX: prefix },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const acknowledged = new Set<number>();
      let buffered = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) acknowledged.add(Number(/^acknowledged (\d+)$/.exec(line)?.[1]));
      });
      await eventually('the child acknowledged enqueues', () => acknowledged.size >= 60, 60_000);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      // A new process: its relay moves what the dead one left in the outbox, its worker runs all.
      const notes = queues.open<{ note: { n: number } }>('notes');
      const runs = new Map<number, number>();
      const relay = queues.startRelay({ pollMs: 50 })!;
      const worker = notes.work({ note: async (job) => void runs.set(job.payload.n, (runs.get(job.payload.n) ?? 0) + 1) }, { concurrency: 4, leaseMs: 30_000 });
      closers.push(() => relay.stop(), () => worker.stop());
      await eventually('every acknowledged job ran', () => [...acknowledged].every((n) => runs.has(n)), 60_000);
      // The child may have enqueued one more whose answer it never printed; none ran twice.
      await eventually('the outbox is empty', async () => (await t.db.db.selectFrom('jobs').select('id').where('status', 'in', ['queued', 'running']).execute()).length === 0, 30_000);
      await eventually('BullMQ ran everything relayed', async () => {
        const stats = await notes.stats();
        return stats.queued + stats.running === 0;
      }, 30_000);
      assert.deepEqual([...runs].filter(([, count]) => count > 1), [], 'each job ran once');
    });
  });
}
