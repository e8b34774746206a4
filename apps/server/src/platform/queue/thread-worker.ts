/**
 * The code inside each pool thread: imports the task module once, then runs one task per message
 * and answers with its value or its error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { transferListOf } from './thread-transfer.ts';

export interface TaskRequest {
  id: number;
  task: string;
  args: unknown[];
}

export type TaskResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };

const port = parentPort;
if (!port) throw new Error('thread-worker.ts runs only inside a worker thread');
const tasks = (await import((workerData as { file: string }).file)) as Record<string, unknown>;

port.on('message', async ({ id, task, args }: TaskRequest) => {
  try {
    const fn = tasks[task];
    if (typeof fn !== 'function') throw new Error(`the task module has no function named ${task}`);
    const value: unknown = await fn(...args);
    port.postMessage({ id, ok: true, value } satisfies TaskResponse, [...transferListOf(value)]);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    port.postMessage({
      id,
      ok: false,
      error: { name: e.name, message: e.message, stack: e.stack },
    } satisfies TaskResponse);
  }
});
