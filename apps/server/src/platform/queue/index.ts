/**
 * Background work. `createJobQueues` picks the durable job queue's implementation once, from
 * config (MMD_QUEUE): the database MMD already has (SQLite or PostgreSQL, the default: no extra
 * service), or BullMQ on MMD's Redis for a cluster. Every implementation keeps the same `Queue`
 * interface, so handlers and callers never know which one runs. CPU-heavy steps inside a job go to
 * a worker-thread pool so the event loop keeps serving.
 */
import type { Redis } from '../redis/index.ts';
import { type BullBacklog, type BullBackedQueue, type RelayPayloads, createBullQueue, relayTypeOf } from './bullmq-queue.ts';
import { createDbQueue, type DbQueueDeps } from './db-queue.ts';
import { jobBacklog } from './job-store.ts';
import type { PayloadMap, Queue, QueuesBacklog, QueueWorker } from './types.ts';

export type { BackoffOptions } from './backoff.ts';
export { createDbQueue, type DbQueueDeps } from './db-queue.ts';
export { jobBacklog } from './job-store.ts';
export type { JobRun } from './queue-worker.ts';
export { LeaseLostError, PermanentJobError } from './errors.ts';
export { createThreadPool, type ThreadPool, type ThreadPoolOptions } from './thread-pool.ts';
export { transfer } from './thread-transfer.ts';
export type * from './types.ts';

/** Plain queue settings, as read from config. */
export type QueueConfig =
  /** Jobs live in MMD's own database: each named queue is a set of job types of the one `jobs` table. */
  | { kind: 'database'; retryBaseMs?: number; retryMaxMs?: number }
  /**
   * Jobs live in Redis (BullMQ), one BullMQ queue per named queue, each with its own workers and
   * concurrency. Enqueues still go through the database first (an outbox), so an acknowledged
   * enqueue survives a process killed at any moment.
   */
  | {
      kind: 'bullmq';
      redis: Redis;
      prefix: string;
      retryBaseMs?: number;
      retryMaxMs?: number;
      /** How long a reading of the backlog is reused (default 1 s: Redis is asked at most that often, however many scrape). */
      backlogCacheMs?: number;
    };

/** The queues of one process, by name (`core`, `webhooks`, `campaigns`…). */
export interface JobQueues {
  readonly kind: QueueConfig['kind'];
  /**
   * The queue named `name`. Queues never share workers: a backlog in one (a campaign's million
   * sends) never takes the slots another's jobs (media processing, webhook deliveries) run in.
   */
  open<P extends PayloadMap<P>>(name: string): Queue<P>;
  /**
   * BullMQ only (null on the database): starts moving committed outbox jobs of every opened queue
   * to BullMQ. Run it in every process that enqueues (API nodes and workers): a local enqueue
   * wakes it at once, and any process's relay takes over another's outbox rows.
   */
  startRelay(options?: { concurrency?: number; pollMs?: number }): QueueWorker | null;
  /** Outbox rows (BullMQ) relayed before `finishedBefore` are deleted; returns how many. */
  pruneOutbox(finishedBefore: number): Promise<number>;
  /**
   * What waits where the jobs live, for metrics: on the database, per job type from the jobs
   * table; on BullMQ, per queue from Redis (every opened queue, zeros included), plus the outbox
   * rows not yet relayed. BullMQ's figures are read at most once a second, and scrapes share a
   * read still in flight; ages are reckoned from `now` all the same, so they grow between reads.
   */
  backlog(now: number): Promise<QueuesBacklog>;
  close(): Promise<void>;
}

export interface JobQueuesDeps extends Omit<DbQueueDeps, 'backoff'> {
  /**
   * The queue a job type belongs to, for the database queue's backlog (its queues share one
   * table, and a process may count types it never opened); unknown types are under `other`.
   */
  queueOf?: (type: string) => string | undefined;
}

export function createJobQueues(config: QueueConfig, deps: JobQueuesDeps): JobQueues {
  const { queueOf, ...dbDeps } = deps;
  const backoff = { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs };
  if (config.kind === 'database') {
    return {
      kind: 'database',
      open: <P extends PayloadMap<P>>() => createDbQueue<P>({ ...dbDeps, backoff }),
      startRelay: () => null,
      pruneOutbox: async () => 0,
      async backlog(now) {
        const rows = await jobBacklog(deps.db, now);
        return { jobs: rows.map((r) => ({ ...r, queue: queueOf?.(r.type) ?? 'other', failed: null })), outbox: null };
      },
      close: async () => {},
    };
  }
  // One outbox for every queue: relay job types differ per queue (`bullmq-relay-<name>`).
  const outbox = createDbQueue<RelayPayloads>({ db: deps.db, clock: deps.clock, log: deps.log });
  const opened = new Map<string, BullBackedQueue<never>>();
  const cacheMs = config.backlogCacheMs ?? 1000;
  /** One reading of every queue in Redis and of the outbox, with due times (not ages) so it can be reused. */
  interface Reading {
    at: number;
    queues: { queue: string; depth: BullBacklog }[];
    outbox: { queue: string; pending: number; oldestDueAt: number | null }[];
  }
  let last: { at: number; reading: Promise<Reading>; done: boolean } | null = null;
  async function read(now: number): Promise<Reading> {
    const [queues, rows] = await Promise.all([
      Promise.all([...opened].map(async ([queue, q]) => ({ queue, depth: await q.backlog(now) }))),
      jobBacklog(deps.db, now),
    ]);
    const outbox = [...opened.keys()].map((queue) => {
      const row = rows.find((r) => r.type === relayTypeOf(queue));
      const pending = row ? row.waiting + row.scheduled + row.running : 0;
      return { queue, pending, oldestDueAt: row && row.waiting > 0 ? now - row.oldestWaitingMs : null };
    });
    return { at: now, queues, outbox };
  }
  return {
    kind: 'bullmq',
    open<P extends PayloadMap<P>>(name: string): Queue<P> {
      if (opened.has(name)) throw new Error(`queue ${name} is already open`);
      const queue = createBullQueue<P>({ ...deps, redis: config.redis, prefix: config.prefix, name, outbox, backoff });
      opened.set(name, queue as unknown as BullBackedQueue<never>);
      return queue;
    },
    startRelay(options = {}) {
      const handlers = Object.fromEntries([...opened.values()].map((q) => [q.relayType, (job: { id: string; payload: RelayPayloads[string] }) => q.relayed(job)]));
      // A short lease: a relay's step takes milliseconds, and a dead process's rows wait out the lease.
      return outbox.work(handlers, { concurrency: options.concurrency ?? 4, pollMs: options.pollMs ?? 1000, leaseMs: 5000 });
    },
    pruneOutbox: (finishedBefore) => outbox.prune(finishedBefore),
    async backlog(now) {
      let current = last;
      // A read still in flight is shared whatever its age: while Redis is away BullMQ's commands
      // wait for it to return, and scrapes must not pile up one waiting read each.
      if (!current || (current.done && (now - current.at >= cacheMs || now < current.at))) {
        const reading = read(now);
        const entry = { at: now, reading, done: false };
        current = last = entry;
        reading.then(
          () => {
            entry.done = true;
          },
          // A failed read is not reused: the next scrape tries again.
          () => {
            if (last === entry) last = null;
          },
        );
      }
      const { queues, outbox } = await current.reading;
      const age = (dueAt: number | null) => (dueAt === null ? 0 : Math.max(0, now - dueAt));
      return {
        jobs: queues.map(({ queue, depth }) => ({ queue, type: null, waiting: depth.waiting, scheduled: depth.scheduled, running: depth.running, failed: depth.failed, oldestWaitingMs: depth.waiting > 0 ? age(depth.oldestDueAt) : 0 })),
        outbox: outbox.map((o) => ({ queue: o.queue, pending: o.pending, oldestPendingMs: age(o.oldestDueAt) })),
      };
    },
    async close() {
      await Promise.all([...opened.values()].map((q) => q.close()));
    },
  };
}
