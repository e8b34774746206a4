/**
 * A queue worker in its own process, for the crash test: it claims the job, says so on stdout,
 * and hangs until the test kills it with SIGKILL.
 */
import { openDatabase } from '../../db/index.ts';
import { createDbQueue } from '../db-queue.ts';

const db = openDatabase({
  databaseUrl: process.env.CRASH_DATABASE_URL || undefined,
  pgSchema: process.env.CRASH_PG_SCHEMA || undefined,
  sqlitePath: process.env.CRASH_SQLITE_PATH || undefined,
});
const queue = createDbQueue<{ hang: { n: number } }>({ db });
queue.work(
  {
    hang: async (job) => {
      process.stdout.write(`claimed ${job.id}\n`);
      return new Promise(() => {});
    },
  },
  { concurrency: 1, leaseMs: Number(process.env.CRASH_LEASE_MS), pollMs: 20 },
);
