/**
 * Background work. `createQueue` picks the durable job queue's implementation once, from config;
 * today that is the database MMD already has (SQLite or PostgreSQL), which needs no extra service.
 * CPU-heavy steps inside a job go to a worker-thread pool so the event loop keeps serving.
 */
import { createDbQueue, type DbQueueDeps } from './db-queue.ts';
import type { PayloadMap, Queue } from './types.ts';

export type { BackoffOptions } from './backoff.ts';
export { createDbQueue, type DbQueueDeps } from './db-queue.ts';
export { jobBacklog } from './job-store.ts';
export type { JobRun } from './queue-worker.ts';
export { LeaseLostError, PermanentJobError } from './errors.ts';
export { createThreadPool, type ThreadPool, type ThreadPoolOptions } from './thread-pool.ts';
export { transfer } from './thread-transfer.ts';
export type * from './types.ts';

/** Plain queue settings, as read from config. */
export interface QueueConfig {
  /** 'database': jobs live in MMD's own database. */
  kind: 'database';
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export function createQueue<P extends PayloadMap<P>>(
  config: QueueConfig,
  deps: Omit<DbQueueDeps, 'backoff'>,
): Queue<P> {
  switch (config.kind) {
    case 'database':
      return createDbQueue<P>({ ...deps, backoff: { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs } });
    default:
      throw new Error(`unknown queue kind ${(config as { kind: string }).kind}`);
  }
}
