/**
 * A BullMQ queue worker in its own process, for the kill test: it takes the job, says so on
 * stdout, and hangs until the test kills it with SIGKILL.
 */
import { openRedis } from '../../redis/index.ts';
import { createBullQueue } from '../bullmq-queue.ts';
import { createDbQueue } from '../db-queue.ts';
import { openDatabase } from '../../db/index.ts';

const redis = openRedis(process.env.BULL_REDIS_URL!);
const outbox = createDbQueue({ db: openDatabase({ sqlitePath: ':memory:' }) });
const queue = createBullQueue<{ hang: { n: number } }>({ redis, prefix: process.env.BULL_PREFIX!, name: 'test', outbox: outbox as never });
queue.work(
  {
    hang: async (job) => {
      process.stdout.write(`took ${job.id}\n`);
      return new Promise(() => {});
    },
  },
  { concurrency: 1, leaseMs: Number(process.env.BULL_LEASE_MS) },
);
