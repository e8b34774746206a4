/**
 * The job queue's public shape. A queue is generic over a payload map — job type name to payload
 * type — so `enqueue('media.transcode', …)` checks its payload and `work(handlers)` demands a
 * handler for every type.
 */
import type { Tx } from '../db/index.ts';

/** Job type name → payload type. Declare it as an interface or a type alias. */
export type PayloadMap<P> = Record<keyof P, unknown>;

export type JobType<P> = keyof P & string;

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface EnqueueOptions {
  /** Unix ms before which the job is not run (default: now). */
  runAt?: number;
  /** Runs allowed, counting a run whose worker died (default 5). */
  maxAttempts?: number;
  /**
   * At most one job is ever created per key (until it is pruned): a second enqueue is a no-op
   * that returns the first job's id.
   */
  dedupeKey?: string;
}

export interface Enqueued {
  id: string;
  /** True when `dedupeKey` matched an existing job and nothing was created. */
  deduplicated: boolean;
}

/** What a handler receives. */
export interface Job<T, K extends string = string> {
  readonly id: string;
  readonly type: K;
  readonly payload: T;
  /** 1 on the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /**
   * Aborted when this worker no longer holds the job — its lease was lost to another worker, or the
   * worker was stopped and gave up waiting. Long handlers should pass it on (fetch, streams).
   */
  readonly signal: AbortSignal;
  /** Records progress (0..100); ignored once this worker no longer holds the job. */
  progress(percent: number): Promise<void>;
}

/**
 * One handler per job type; the mapped type makes a missing one a compile error. Handlers may run
 * more than once for one job (a worker can die after the work and before recording it), so they
 * must be idempotent; the job is still recorded as completed exactly once.
 */
export type JobHandlers<P> = { [K in JobType<P>]: (job: Job<P[K], K>) => Promise<unknown> };

export interface WorkOptions {
  /** Jobs run at once by this worker (default: the number of cores). */
  concurrency?: number;
  /** How long a claim lasts without a heartbeat; heartbeats renew it every third of this (default 30 s). */
  leaseMs?: number;
  /** Idle polling interval; local enqueues wake the worker at once regardless (default 1 s). */
  pollMs?: number;
}

/** A running worker. */
export interface QueueWorker {
  /** Jobs running now. */
  readonly active: number;
  /**
   * Stops claiming and waits for running jobs. After `timeoutMs` it abandons them instead: their
   * signals abort, heartbeats stop, and another worker takes them over once their leases expire.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** A job as stored. */
export interface JobInfo {
  id: string;
  type: string;
  status: JobStatus;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  progress: number;
  /** The handler's return value (JSON round-tripped), once succeeded. */
  result: unknown;
  lastError: string | null;
  /** Next due time while queued; lease expiry while running. */
  availableAt: number;
  dedupeKey: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export type QueueStats = Record<JobStatus, number>;

/** A durable job queue. */
export interface Queue<P extends PayloadMap<P>> {
  enqueue<K extends JobType<P>>(type: K, payload: P[K], options?: EnqueueOptions): Promise<Enqueued>;
  /**
   * Enqueues inside the caller's write transaction, so the job exists exactly when the row it is
   * about does. Local workers are woken shortly after (the commit itself cannot be observed).
   */
  enqueueIn<K extends JobType<P>>(
    tx: Tx,
    type: K,
    payload: P[K],
    options?: EnqueueOptions,
  ): Promise<Enqueued>;
  /** Starts a worker in this process for every type in `handlers`. */
  work(handlers: JobHandlers<P>, options?: WorkOptions): QueueWorker;
  /** Sets a running job's progress (0..100) from outside its handler; no-op otherwise. */
  progress(jobId: string, percent: number): Promise<void>;
  get(jobId: string): Promise<JobInfo | undefined>;
  stats(): Promise<QueueStats>;
  /** Deletes succeeded and failed jobs finished before `finishedBefore`; returns how many. */
  prune(finishedBefore: number): Promise<number>;
}

/** Where the queue reports what it cannot throw to anyone (pino-compatible). */
export interface QueueLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * What waits in one queue, for metrics: per job type where the store can tell types apart cheaply
 * (the database queue, one grouped read of its live-jobs index), per queue where it cannot
 * (BullMQ keeps one list per queue; counting types would mean reading every job).
 */
export interface JobBacklog {
  /** The named queue (`core`, `webhooks`…). */
  queue: string;
  /** The job type, or null when the figures cover the whole queue (BullMQ). */
  type: string | null;
  /** Due and not yet claimed: the backlog workers have not reached. */
  waiting: number;
  /** Queued for later (a retry's backoff, a scheduled close). */
  scheduled: number;
  /** Claimed by a worker. */
  running: number;
  /** Failed for good and still kept (BullMQ, 7 days); null where not counted (the database). */
  failed: number | null;
  /** How long the oldest waiting job has been due, in ms (0 when none waits). */
  oldestWaitingMs: number;
}

/** Enqueues committed to the database and not yet moved to BullMQ, per BullMQ queue. */
export interface OutboxBacklog {
  queue: string;
  /** Outbox rows not yet relayed (waiting or being relayed). */
  pending: number;
  /** How long the oldest pending row has been due, in ms (0 when none). */
  oldestPendingMs: number;
}

/** Every queue's backlog, and (BullMQ only) the outbox's. */
export interface QueuesBacklog {
  jobs: JobBacklog[];
  /** Null on the database queue, which has no outbox. */
  outbox: OutboxBacklog[] | null;
}
