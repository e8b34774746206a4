/**
 * The job queue kept in MMD's own database (SQLite or PostgreSQL), so jobs share its backups and
 * its transactions: `enqueueIn` creates a job atomically with the row it is about.
 */
import { availableParallelism } from 'node:os';
import type { Database } from '../db/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { createJobStore } from './job-store.ts';
import { type AnyHandler, type JobRun, clampPercent, startQueueWorker } from './queue-worker.ts';
import type { EnqueueOptions, PayloadMap, Queue, QueueLog } from './types.ts';

export interface DbQueueDeps {
  db: Database;
  clock?: () => number;
  log?: QueueLog;
  /** Delays between attempts. */
  backoff?: BackoffOptions;
  /** Told each recorded run of a job (metrics). */
  onFinished?: (run: JobRun) => void;
}

const DEFAULT_MAX_ATTEMPTS = 5;
// A transaction's insert is invisible to other connections until it commits, which the queue
// cannot observe; these later wake-ups catch the usual commit within a few milliseconds.
const AFTER_COMMIT_WAKES_MS = [5, 50, 250];

const silent: QueueLog = { warn() {}, error() {} };

export function createDbQueue<P extends PayloadMap<P>>(deps: DbQueueDeps): Queue<P> {
  const clock = deps.clock ?? Date.now;
  const log = deps.log ?? silent;
  const store = createJobStore({ database: deps.db, clock });
  const wakers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of wakers) wake();
  };

  const toNewJob = (type: string, payload: unknown, options: EnqueueOptions = {}) => {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new RangeError('maxAttempts must be a positive integer');
    return {
      type,
      payload,
      runAt: options.runAt ?? clock(),
      maxAttempts,
      dedupeKey: options.dedupeKey ?? null,
    };
  };

  return {
    async enqueue(type, payload, options) {
      const enqueued = await store.insert(deps.db.db, toNewJob(type, payload, options));
      if (!enqueued.deduplicated) wakeAll();
      return enqueued;
    },
    async enqueueIn(tx, type, payload, options) {
      const enqueued = await store.insert(tx, toNewJob(type, payload, options));
      if (!enqueued.deduplicated && wakers.size > 0) {
        wakeAll();
        for (const ms of AFTER_COMMIT_WAKES_MS) setTimeout(wakeAll, ms).unref();
      }
      return enqueued;
    },
    work(handlers, options = {}) {
      const concurrency = options.concurrency ?? availableParallelism();
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new RangeError('concurrency must be a positive integer');
      return startQueueWorker({
        store,
        handlers: handlers as unknown as Record<string, AnyHandler>,
        clock,
        log,
        backoff: deps.backoff ?? {},
        concurrency,
        leaseMs: options.leaseMs ?? 30_000,
        pollMs: options.pollMs ?? 1000,
        onFinished: deps.onFinished,
        subscribe(wake) {
          wakers.add(wake);
          return () => wakers.delete(wake);
        },
      });
    },
    async progress(jobId, percent) {
      await store.setProgress(jobId, null, clampPercent(percent));
    },
    get: (jobId) => store.get(jobId),
    stats: () => store.stats(),
    prune: (finishedBefore) => store.prune(finishedBefore),
  };
}
