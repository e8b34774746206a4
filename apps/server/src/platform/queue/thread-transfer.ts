/**
 * Lets a task running in a worker thread hand its result back by transfer instead of copy:
 * `return transfer(pixels, [pixels.buffer])`. The list is remembered beside the value, which is
 * returned unchanged, so the task's return type stays honest.
 */
import type { Transferable } from 'node:worker_threads';

const lists = new WeakMap<object, readonly Transferable[]>();

export function transfer<T extends object>(value: T, list: readonly Transferable[]): T {
  lists.set(value, list);
  return value;
}

/** The transfer list registered for `value`, if any. */
export function transferListOf(value: unknown): readonly Transferable[] {
  return typeof value === 'object' && value !== null ? (lists.get(value) ?? []) : [];
}
