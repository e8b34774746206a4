/**
 * The job queue on BullMQ (Redis), for a cluster: workers on many machines take jobs from Redis
 * without polling the database. Same `Queue` interface as the database queue (db-queue.ts): the
 * same handlers run unchanged. One BullMQ queue per MMD queue (media and automation, webhooks,
 * campaigns, imports… each has its own, with its own workers and concurrency), so a campaign's
 * backlog never takes the slots media processing or webhook deliveries need.
 *
 * What differs, and how it is bridged:
 * - `enqueueIn(tx, …)` must create the job exactly when the caller's transaction commits, which
 *   Redis cannot take part in. The job goes into the database queue given as `outbox` (in the
 *   transaction), and `relay()` moves committed ones to BullMQ under a job id derived from the
 *   outbox job's, so a relay that dies after adding and before completing adds nothing twice.
 *   `enqueue` (no transaction) takes the same path: once it returns, the job is in the database,
 *   so a process killed a moment later (or a Redis that had not yet written it to disk) loses
 *   nothing that was acknowledged. Each queue's outbox jobs have a type of their own
 *   (`bullmq-relay-<name>`): queues sharing one outbox never relay each other's jobs.
 * - Deduplication keys become BullMQ job ids (hashed: BullMQ ids may not hold ':'), so a second
 *   enqueue with the same key returns the first job while BullMQ keeps it (completed and failed
 *   jobs are kept 7 days, then `prune` or BullMQ's own cleanup removes them).
 * - A worker that dies holds its job's lock until `leaseMs` passes; BullMQ's stalled-job check
 *   then hands the job to another worker (up to maxAttempts times).
 */
import { createHash } from 'node:crypto';
import { Queue as BullQueue, type Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type BackoffOptions, retryDelay } from './backoff.ts';
import { PermanentJobError } from './errors.ts';
import type { Tx } from '../db/index.ts';
import type { JobRun } from './queue-worker.ts';
import type { EnqueueOptions, Enqueued, JobInfo, JobStatus, PayloadMap, Queue, QueueLog, QueueWorker } from './types.ts';

const DEFAULT_MAX_ATTEMPTS = 5;
const KEEP_FINISHED_SECONDS = 7 * 24 * 60 * 60;

/** The outbox job that carries one BullMQ job across a database transaction. */
export interface RelayJob {
  type: string;
  payload: unknown;
  runAt: number;
  maxAttempts: number;
  dedupeKey: string | null;
}

/** Outbox job types: `bullmq-relay-<queue name>` → the job to add to that BullMQ queue. */
export type RelayPayloads = Record<string, RelayJob>;

/** The outbox job type of the BullMQ queue `name`. */
export function relayTypeOf(name: string): string {
  return `bullmq-relay-${name}`;
}

/** A BullMQ queue as `createBullQueue` returns it. */
export type BullBackedQueue<P extends PayloadMap<P>> = Queue<P> & {
  /** This queue's outbox job type. */
  readonly relayType: string;
  /** Adds one relayed outbox job to BullMQ (idempotent: the id derives from the outbox job's). */
  relayed(job: { id: string; payload: RelayJob }): Promise<Enqueued>;
  /** A worker moving this queue's committed outbox jobs to BullMQ. */
  relay(options?: { concurrency?: number }): QueueWorker;
  /** What waits in this BullMQ queue now (a few cheap Redis reads; see `readBacklog`). */
  backlog(now: number): Promise<BullBacklog>;
  close(): Promise<void>;
};

/** One BullMQ queue's depth, and when its oldest waiting job became due (null when none waits). */
export interface BullBacklog {
  waiting: number;
  scheduled: number;
  running: number;
  failed: number;
  oldestDueAt: number | null;
}

export interface BullQueueDeps {
  /** MMD's Redis client; BullMQ's connections are duplicated from it. */
  redis: Redis;
  /** This MMD's key prefix (`mmd:<schema>:`). */
  prefix: string;
  /** The queue's name within MMD: `core`, `webhooks`, `campaigns`… */
  name: string;
  /** A database queue for `enqueueIn`; see the top of this file. */
  outbox: Queue<RelayPayloads>;
  clock?: () => number;
  log?: QueueLog;
  backoff?: BackoffOptions;
  onFinished?: (run: JobRun) => void;
}

const silent: QueueLog = { warn() {}, error() {} };

function jobIdFor(dedupeKey: string | null, fallback?: string): string | undefined {
  if (dedupeKey) return `d-${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 40)}`;
  return fallback;
}

function statusOf(state: string): JobStatus {
  if (state === 'active') return 'running';
  if (state === 'completed') return 'succeeded';
  if (state === 'failed') return 'failed';
  return 'queued';
}

/**
 * A BullMQ queue's depth from its lists' lengths, and the due time of its oldest waiting job, in
 * four small reads whatever the backlog (list and sorted-set lengths, one ZCOUNT, two jobs' hashes):
 *
 * - BullMQ moves a delayed job to its wait list only when a worker next looks, so with no worker
 *   running (the very backlog to see) a job past its time still sits among the delayed: those due
 *   by `now` count as waiting, the rest as scheduled.
 * - The wait list is in arrival order, so its oldest is its next; a job is due at its creation plus
 *   the delay it was added with, or, waiting again after a failed or stalled attempt, at that
 *   attempt's start at the latest (BullMQ clears the delay it promotes and keeps no due time), so
 *   a retried job's wait can read a little long (by its last attempt and backoff), never short.
 * - The earliest delayed job's due time is its creation plus its delay (a retry sets the delay).
 * `prioritized` jobs (MMD sets no priorities) count as waiting, without an age.
 */
async function readBacklog(queue: BullQueue, now: number): Promise<BullBacklog> {
  const [counts, dueDelayed, [oldestWaiting]] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'),
    // Counts delayed jobs due strictly before the timestamp: `now` included.
    queue.getDelayedCount(Math.floor(now) + 1),
    queue.getWaiting(0, 0),
  ]);
  const [earliestDelayed] = dueDelayed > 0 ? await queue.getDelayed(0, 0) : [];
  const dues: number[] = [];
  if (oldestWaiting) dues.push(Math.max(oldestWaiting.timestamp + (oldestWaiting.opts.delay ?? 0), oldestWaiting.processedOn ?? 0));
  if (earliestDelayed) dues.push(earliestDelayed.timestamp + (earliestDelayed.delay ?? 0));
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + dueDelayed,
    scheduled: Math.max(0, (counts.delayed ?? 0) - dueDelayed),
    running: counts.active ?? 0,
    failed: counts.failed ?? 0,
    oldestDueAt: dues.length > 0 ? Math.min(...dues) : null,
  };
}

export function createBullQueue<P extends PayloadMap<P>>(deps: BullQueueDeps): BullBackedQueue<P> {
  const clock = deps.clock ?? Date.now;
  const log = deps.log ?? silent;
  const prefix = `${deps.prefix}bull`;
  const connection = deps.redis.duplicate({ maxRetriesPerRequest: null });
  const queue = new BullQueue(deps.name, { connection, prefix });
  queue.on('error', (err) => log.warn({ err }, 'job queue (BullMQ): Redis error'));

  const relayType = relayTypeOf(deps.name);
  async function add(job: RelayJob, fallbackId?: string): Promise<Enqueued> {
    if (!Number.isInteger(job.maxAttempts) || job.maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer');
    const jobId = jobIdFor(job.dedupeKey, fallbackId);
    // BullMQ ignores an add whose id exists; asking first tells the caller it was deduplicated.
    if (jobId && (await queue.getJob(jobId))) return { id: jobId, deduplicated: true };
    const added = await queue.add(job.type, job.payload, {
      jobId,
      delay: Math.max(0, job.runAt - clock()),
      attempts: job.maxAttempts,
      backoff: { type: 'mmd' },
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });
    return { id: added.id!, deduplicated: false };
  }

  const toNewJob = (type: string, payload: unknown, options: EnqueueOptions = {}): RelayJob => {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer');
    return { type, payload, runAt: options.runAt ?? clock(), maxAttempts, dedupeKey: options.dedupeKey ?? null };
  };
  const stage = async (tx: Tx | null, job: RelayJob): Promise<Enqueued> => {
    const options = { dedupeKey: job.dedupeKey ? `bullmq:${deps.name}:${job.dedupeKey}` : undefined };
    const staged = tx ? await deps.outbox.enqueueIn(tx, relayType, job, options) : await deps.outbox.enqueue(relayType, job, options);
    return { id: jobIdFor(job.dedupeKey, `o-${staged.id}`)!, deduplicated: staged.deduplicated };
  };
  const relayed = (job: { id: string; payload: RelayJob }) => add(job.payload, `o-${job.id}`);

  function startWorker(handlers: Record<string, (job: never) => Promise<unknown>>, options: { concurrency: number; leaseMs: number }): QueueWorker {
    const controllers = new Set<AbortController>();
    // BullMQ leaves a connection it was handed open when the worker closes: ours, closed in stop().
    const workerConnection = deps.redis.duplicate({ maxRetriesPerRequest: null });
    const worker = new Worker(
      deps.name,
      async (job: BullJob) => {
        const handler = handlers[job.name];
        if (!handler) throw new UnrecoverableError(`no handler for job type ${job.name}`);
        const controller = new AbortController();
        controllers.add(controller);
        const started = performance.now();
        const maxAttempts = job.opts.attempts ?? DEFAULT_MAX_ATTEMPTS;
        const attempt = job.attemptsMade + 1;
        try {
          const result = await handler({
            id: job.id!,
            type: job.name,
            payload: job.data,
            attempt,
            maxAttempts,
            signal: controller.signal,
            progress: async (percent: number) => {
              if (!controller.signal.aborted) await job.updateProgress(Math.max(0, Math.min(100, Math.round(percent))));
            },
          } as never);
          deps.onFinished?.({ type: job.name, outcome: 'succeeded', seconds: (performance.now() - started) / 1000 });
          return result ?? null;
        } catch (err) {
          const last = err instanceof PermanentJobError || attempt >= maxAttempts;
          deps.onFinished?.({ type: job.name, outcome: last ? 'failed' : 'retried', seconds: (performance.now() - started) / 1000 });
          if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
          throw err;
        } finally {
          controllers.delete(controller);
        }
      },
      {
        connection: workerConnection,
        prefix,
        concurrency: options.concurrency,
        // A dead worker's job is handed on once its lock lapses (the database queue's lease).
        lockDuration: options.leaseMs,
        stalledInterval: Math.max(500, Math.floor(options.leaseMs / 2)),
        maxStalledCount: DEFAULT_MAX_ATTEMPTS,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, deps.backoff ?? {}) },
      },
    );
    worker.on('error', (err) => log.warn({ err }, 'job queue (BullMQ): worker error'));
    return {
      get active() {
        return controllers.size;
      },
      async stop(stopOptions = {}) {
        const closing = worker.close();
        const timeoutMs = stopOptions.timeoutMs;
        if (timeoutMs === undefined) await closing;
        else {
          const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs).unref());
          if ((await Promise.race([closing, timer])) === 'late') {
            // Abandoned: handlers are told; BullMQ hands their jobs on when their locks lapse.
            for (const c of controllers) c.abort(new Error('worker stopped'));
            await worker.close(true);
          }
        }
        workerConnection.disconnect();
      },
    };
  }

  return {
    relayType,
    relayed,
    enqueue: (type, payload, options) => stage(null, toNewJob(type, payload, options)),
    enqueueIn: (tx, type, payload, options) => stage(tx, toNewJob(type, payload, options)),
    relay(options = {}) {
      return deps.outbox.work({ [relayType]: relayed }, { concurrency: options.concurrency ?? 4, pollMs: 1000 });
    },
    work(handlers, options = {}) {
      return startWorker(handlers as unknown as Record<string, (job: never) => Promise<unknown>>, { concurrency: options.concurrency ?? 4, leaseMs: options.leaseMs ?? 30_000 });
    },
    async progress(jobId, percent) {
      const job = await queue.getJob(jobId);
      if (job && (await job.getState()) === 'active') await job.updateProgress(Math.max(0, Math.min(100, Math.round(percent))));
    },
    async get(jobId): Promise<JobInfo | undefined> {
      const job = await queue.getJob(jobId);
      if (!job) return undefined;
      const state = await job.getState();
      return {
        id: job.id!,
        type: job.name,
        status: statusOf(state),
        payload: job.data,
        attempts: job.attemptsMade + (state === 'active' ? 1 : 0),
        maxAttempts: job.opts.attempts ?? DEFAULT_MAX_ATTEMPTS,
        progress: typeof job.progress === 'number' ? job.progress : 0,
        result: job.returnvalue ?? null,
        lastError: job.failedReason || null,
        availableAt: job.timestamp + (job.delay ?? 0),
        dedupeKey: null,
        createdAt: job.timestamp,
        updatedAt: job.finishedOn ?? job.processedOn ?? job.timestamp,
        finishedAt: job.finishedOn ?? null,
      };
    },
    async stats() {
      const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'waiting-children', 'active', 'completed', 'failed');
      return {
        queued: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
        running: c.active ?? 0,
        succeeded: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    },
    backlog: (now) => readBacklog(queue, now),
    async prune(finishedBefore) {
      const grace = Math.max(0, clock() - finishedBefore);
      const done = await queue.clean(grace, 100_000, 'completed');
      const failed = await queue.clean(grace, 100_000, 'failed');
      return done.length + failed.length;
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
