/**
 * A small pool of worker threads for CPU-bound steps (perceptual hashing of decoded pixels,
 * checksums) so one heavy job does not stall every request on the event loop. Each thread runs one
 * task at a time from a module's exported functions; ArrayBuffers can be transferred both ways.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { type Transferable, Worker } from 'node:worker_threads';
import type { TaskRequest, TaskResponse } from './thread-worker.ts';

/** The names in module type `M` that are functions. */
export type TaskName<M> = {
  [K in keyof M]: M[K] extends (...args: never[]) => unknown ? K : never;
}[keyof M] &
  string;
type TaskArgs<F> = F extends (...args: infer A) => unknown ? A : never;
type TaskResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

export interface ThreadPoolOptions {
  /** The task module (path or file: URL), TypeScript or JavaScript. */
  file: string | URL;
  /** Threads at most, started on demand (default: the number of cores). */
  size?: number;
}

/** Runs `M`'s exported functions (`typeof import('./tasks.ts')`) on worker threads. */
export interface ThreadPool<M> {
  readonly size: number;
  /**
   * Runs `task(...args)` on a free thread. Arguments are structured-cloned; those in `transfer`
   * are moved instead (the caller's copies become empty). Rejects with the task's error.
   */
  run<K extends TaskName<M>>(
    task: K,
    args: TaskArgs<M[K]>,
    options?: { transfer?: readonly Transferable[] },
  ): Promise<TaskResult<M[K]>>;
  /** Stops every thread; queued and running tasks reject. */
  close(): Promise<void>;
}

interface Pending {
  request: TaskRequest;
  transfer: readonly Transferable[];
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  current?: Pending;
}

const workerEntry = new URL('./thread-worker.ts', import.meta.url).href;

// Worker threads do not inherit tsx's module hooks, and on Node 20 `--import tsx` in a worker's
// execArgv does not cover its entry point either; so each thread registers tsx itself, first.
const tsxApi = (() => {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined; // Not run through tsx (built to JavaScript): no hooks needed.
  }
})();

const bootstrap = `
const { workerData } = require('node:worker_threads');
(workerData.tsxApi ? import(workerData.tsxApi).then((api) => api.register()) : Promise.resolve())
  .then(() => import(workerData.entry));
`;

export function createThreadPool<M>(options: ThreadPoolOptions): ThreadPool<M> {
  const size = options.size ?? availableParallelism();
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  const file = options.file instanceof URL ? options.file.href : pathToFileURL(options.file).href;
  const slots = new Set<Slot>();
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: { entry: workerEntry, file, tsxApi },
      // The parent's flags include tsx's loader, which only slows each thread's start here.
      execArgv: [],
    });
    const slot: Slot = { worker };
    // Idle threads must not keep the process alive; busy ones must (see dispatch).
    worker.unref();
    worker.on('message', (response: TaskResponse) => {
      const pending = slot.current;
      if (!pending || pending.request.id !== response.id) return;
      slot.current = undefined;
      worker.unref();
      if (response.ok) pending.resolve(response.value);
      else pending.reject(Object.assign(new Error(response.error.message), response.error));
      dispatch();
    });
    // A thread that crashed (or could not load the module) takes only its own task down.
    const lost = (err: Error) => {
      if (!slots.delete(slot)) return;
      const pending = slot.current;
      slot.current = undefined;
      pending?.reject(err);
      dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`worker thread exited with code ${code}`)));
    slots.add(slot);
    return slot;
  }

  function dispatch() {
    while (queue.length > 0 && !closed) {
      let slot = [...slots].find((s) => !s.current);
      if (!slot && slots.size < size) slot = spawn();
      if (!slot) return;
      const pending = queue.shift()!;
      slot.current = pending;
      slot.worker.ref();
      try {
        slot.worker.postMessage(pending.request, pending.transfer);
      } catch (err) {
        slot.current = undefined;
        pending.reject(err as Error);
      }
    }
  }

  return {
    size,
    run(task, args, runOptions = {}) {
      if (closed) return Promise.reject(new Error('thread pool is closed'));
      return new Promise((resolve, reject) => {
        queue.push({
          request: { id: nextId++, task, args: args as unknown[] },
          transfer: runOptions.transfer ?? [],
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        dispatch();
      });
    },
    async close() {
      closed = true;
      const err = new Error('thread pool closed');
      for (const pending of queue.splice(0)) pending.reject(err);
      const all = [...slots];
      slots.clear();
      for (const slot of all) slot.current?.reject(err);
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
