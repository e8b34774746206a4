/**
 * Enqueues on the BullMQ queues in its own process, for the kill -9 test: alternately with
 * `enqueue` and inside a write transaction (`enqueueIn`), relaying as it goes, and prints each
 * acknowledged job's number until the test kills it with SIGKILL.
 */
import { openDatabase } from '../../db/index.ts';
import { openRedis } from '../../redis/index.ts';
import { createJobQueues } from '../index.ts';

const db = openDatabase({
  databaseUrl: process.env.CHILD_DATABASE_URL || undefined,
  pgSchema: process.env.CHILD_PG_SCHEMA || undefined,
  sqlitePath: process.env.CHILD_SQLITE_PATH || undefined,
});
const redis = openRedis(process.env.CHILD_REDIS_URL!);
const queues = createJobQueues({ kind: 'bullmq', redis, prefix: process.env.CHILD_PREFIX! }, { db });
const queue = queues.open<{ note: { n: number } }>('notes');
queues.startRelay({ pollMs: 20 });
for (let n = 0; ; n += 1) {
  if (n % 2 === 0) await queue.enqueue('note', { n });
  else await db.writeTransaction((tx) => queue.enqueueIn(tx, 'note', { n }));
  process.stdout.write(`acknowledged ${n}\n`);
}
