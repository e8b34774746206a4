/** Tasks for thread-pool.test.ts. TypeScript on purpose: the pool must load .ts in its threads. */
import { isMainThread } from 'node:worker_threads';
import { transfer } from '../thread-transfer.ts';

/** Burns CPU for `ms`, as a perceptual hash of a large frame would. */
export function spin(ms: number): { iterations: number; onMainThread: boolean } {
  const until = performance.now() + ms;
  let iterations = 0;
  while (performance.now() < until) iterations++;
  return { iterations, onMainThread: isMainThread };
}

export function sumBytes(buffer: ArrayBuffer): number {
  const bytes = new Uint8Array(buffer);
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += bytes[i]!;
  return sum;
}

/** Inverts pixels and hands the result back by transfer. */
export function invert(buffer: ArrayBuffer): ArrayBuffer {
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = 255 - bytes[i]!;
  return transfer(buffer, [buffer]);
}

export async function fail(message: string): Promise<never> {
  throw new TypeError(message);
}

export function crash(): never {
  process.exit(3);
}
