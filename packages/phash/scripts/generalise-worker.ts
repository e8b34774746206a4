/**
 * A worker thread of generalise-eval.ts's hashSplit: hashes the photos it is handed, one index at
 * a time, with the parameters the main thread had (a probe may have changed them).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ROBUST_PARAMS } from '../src/robust-hashes.ts';
import { type HashSplitOptions, hashPhoto } from './generalise-eval.ts';

const { files, options, params } = workerData as { files: string[]; options: Omit<HashSplitOptions, 'threads' | 'log'>; params: typeof ROBUST_PARAMS };
Object.assign(ROBUST_PARAMS, params);
parentPort!.on('message', (i: number) => {
  hashPhoto(files, i, options).then(
    (result) => parentPort!.postMessage({ i, result }),
    (err: unknown) => parentPort!.postMessage({ i, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
