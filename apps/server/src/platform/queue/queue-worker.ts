/**
 * One worker: claims due jobs up to its concurrency, runs them, keeps their leases alive with
 * heartbeats, and records the outcome through the fenced store calls. It sleeps between polls
 * unless woken (a local enqueue, a finished job freeing a slot).
 */
import { type BackoffOptions, retryDelay } from './backoff.ts';
import { LeaseLostError, PermanentJobError } from './errors.ts';
import type { JobRow, JobStore } from './job-store.ts';
import type { Job, QueueLog, QueueWorker } from './types.ts';
import { createWakeSignal } from './wake-signal.ts';

export type AnyHandler = (job: Job<unknown>) => Promise<unknown>;

export interface QueueWorkerDeps {
  store: JobStore;
  handlers: Record<string, AnyHandler>;
  clock: () => number;
  log: QueueLog;
  backoff: BackoffOptions;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Registers for local enqueue wake-ups; returns the unsubscribe. */
  subscribe(wake: () => void): () => void;
  /** Told each run this worker recorded: how it ended and how long the handler took (metrics). */
  onFinished?: (run: JobRun) => void;
}

/** One run of a job, as recorded: succeeded, put back for a retry, or failed for good. */
export interface JobRun {
  type: string;
  outcome: 'succeeded' | 'retried' | 'failed';
  seconds: number;
}

interface Running {
  controller: AbortController;
  heartbeat: NodeJS.Timeout;
  done: Promise<void>;
}

export function startQueueWorker(deps: QueueWorkerDeps): QueueWorker {
  const { store, handlers, clock, log, concurrency, leaseMs, pollMs } = deps;
  const types = Object.keys(handlers);
  const running = new Map<string, Running>();
  const signal = createWakeSignal();
  const unsubscribe = deps.subscribe(() => signal.notify());
  let stopping = false;

  const loop = (async () => {
    while (!stopping) {
      const free = concurrency - running.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const claim = await store.claim(types, free, leaseMs);
          claimed = claim.jobs.length;
          for (const row of claim.jobs) start(row, claim.token);
        } catch (err) {
          log.error({ err }, 'job queue: claiming failed');
        }
      }
      if (stopping) break;
      // A full batch suggests more are due: claim again at once, if there is room.
      if (free > 0 && claimed === free && running.size < concurrency) continue;
      await signal.wait(pollMs);
    }
  })();

  function start(row: JobRow, token: string) {
    const controller = new AbortController();
    const heartbeat = setInterval(
      () => {
        store.renew(row.id, token, leaseMs).then(
          (held) => {
            if (!held && !controller.signal.aborted) controller.abort(new LeaseLostError(row.id));
          },
          // A failed heartbeat is not a lost lease; the next one may succeed before it expires.
          (err) => log.warn({ err, jobId: row.id }, 'job queue: lease renewal failed'),
        );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    const entry: Running = { controller, heartbeat, done: Promise.resolve() };
    running.set(row.id, entry);
    entry.done = execute(row, token, controller.signal)
      .catch((err) => log.error({ err, jobId: row.id }, 'job queue: recording the outcome failed'))
      .finally(() => {
        clearInterval(heartbeat);
        running.delete(row.id);
        signal.notify();
      });
  }

  async function execute(row: JobRow, token: string, abort: AbortSignal) {
    const attempt = Number(row.attempts);
    const maxAttempts = Number(row.max_attempts);
    // Its previous holder died on the last allowed run: running it again would exceed the budget.
    if (attempt > maxAttempts) {
      await store.fail(row.id, token, 'the worker running its final attempt was lost (lease expired)');
      return;
    }
    const handler = handlers[row.type];
    const started = performance.now();
    let outcome: { ok: true; result: string } | { ok: false; error: unknown };
    try {
      if (!handler) throw new PermanentJobError(`no handler for job type ${row.type}`);
      const job: Job<unknown> = {
        id: row.id,
        type: row.type,
        payload: JSON.parse(row.payload),
        attempt,
        maxAttempts,
        signal: abort,
        progress: async (percent) => {
          await store.setProgress(row.id, token, clampPercent(percent));
        },
      };
      const value = await handler(job);
      let result: string;
      try {
        result = JSON.stringify(value ?? null);
      } catch (err) {
        throw new PermanentJobError('the handler returned a value that is not JSON', { cause: err });
      }
      outcome = { ok: true, result };
    } catch (error) {
      outcome = { ok: false, error };
    }

    const seconds = (performance.now() - started) / 1000;
    let recorded: boolean;
    let ended: JobRun['outcome'];
    if (outcome.ok) {
      ended = 'succeeded';
      recorded = await store.complete(row.id, token, outcome.result);
    } else {
      const message = describe(outcome.error);
      if (outcome.error instanceof PermanentJobError || attempt >= maxAttempts) {
        ended = 'failed';
        recorded = await store.fail(row.id, token, message);
      } else {
        ended = 'retried';
        recorded = await store.retry(row.id, token, message, clock() + retryDelay(attempt, deps.backoff));
      }
    }
    if (recorded) deps.onFinished?.({ type: row.type, outcome: ended, seconds });
    // Fencing at work: another worker reclaimed the job after our lease expired; its outcome wins.
    if (!recorded) log.warn({ jobId: row.id, type: row.type }, 'job queue: lease lost; outcome discarded');
  }

  return {
    get active() {
      return running.size;
    },
    async stop(options = {}) {
      stopping = true;
      unsubscribe();
      signal.notify();
      await loop;
      const all = Promise.all([...running.values()].map((r) => r.done));
      if (options.timeoutMs === undefined) {
        await all;
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), options.timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!timedOut) return;
      for (const r of running.values()) {
        clearInterval(r.heartbeat);
        r.controller.abort(new Error('worker stopped'));
      }
    },
  };
}

export function clampPercent(percent: number): number {
  if (!Number.isFinite(percent))
    throw new RangeError(`progress must be a number from 0 to 100, got ${percent}`);
  return Math.min(100, Math.max(0, Math.round(percent)));
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
