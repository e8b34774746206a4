/** Failures a caller is expected to handle, each with a stable code. */
export type BlobErrorCode =
  | 'invalid_key'
  | 'not_found'
  | 'range_not_satisfiable'
  | 'upload_too_large'
  | 'key_conflict';

export class BlobError extends Error {
  constructor(
    readonly code: BlobErrorCode,
    message: string,
    readonly details: { size?: number; limit?: number } = {},
  ) {
    super(message);
    this.name = 'BlobError';
  }
}

export function isBlobError(err: unknown, code?: BlobErrorCode): err is BlobError {
  return err instanceof BlobError && (code === undefined || err.code === code);
}
