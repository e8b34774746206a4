import { BlobError } from './errors.ts';
import type { ByteRange } from './types.ts';

/**
 * Resolves a requested range against a blob's size, as HTTP does: `end` is clamped to the last
 * byte; a range that starts past the end (or any range of an empty blob) is not satisfiable.
 */
export function resolveRange(size: number, range: ByteRange = {}): { start: number; end: number } {
  const { start, end } = range;
  for (const v of [start, end]) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
      throw new BlobError('range_not_satisfiable', 'range bounds must be non-negative integers');
    }
  }
  if (start === undefined && end === undefined) return { start: 0, end: size - 1 };
  const s = start ?? 0;
  const e = Math.min(end ?? size - 1, size - 1);
  if (s >= size || (end !== undefined && end < s)) {
    throw new BlobError(
      'range_not_satisfiable',
      `range ${s}-${end ?? ''} is outside a blob of ${size} bytes`,
      { size },
    );
  }
  return { start: s, end: e };
}
