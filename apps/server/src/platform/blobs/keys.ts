/**
 * Key rules shared by every store. They are strict on purpose: a key becomes a file path on local
 * disk, so `..`, absolute paths, backslashes and control characters must never get through, and
 * names starting with `.` are kept for the stores' own temp and metadata folders.
 */
import { BlobError } from './errors.ts';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 512;
const MAX_SEGMENTS = 16;

export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new BlobError('invalid_key', `invalid blob key: must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  const segments = key.split('/');
  if (segments.length > MAX_SEGMENTS || !segments.every((s) => SEGMENT.test(s))) {
    throw new BlobError('invalid_key', `invalid blob key ${JSON.stringify(key)}`);
  }
  return key;
}

/** A prefix is a key, or a key followed by `/`; the empty prefix (everything) is refused. */
export function validatePrefix(prefix: string): string {
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw new BlobError('invalid_key', 'the blob prefix must not be empty');
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
