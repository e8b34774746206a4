/**
 * Blob storage: media originals and renditions, by key. The server sees only `BlobStore`; whether
 * bytes sit on local disk or in an S3-compatible bucket is chosen once, at start (index.ts).
 */
import type { Readable } from 'node:stream';

/** Bytes to store: in memory, a stream (read once), or a file on local disk (`{ file: path }`). */
export type BlobSource = Buffer | Uint8Array | Readable | { file: string };

export interface PutOptions {
  contentType: string;
}

export interface BlobInfo {
  /** Total size in bytes. */
  size: number;
  contentType: string;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start?: number;
  /** Inclusive; clamped to the last byte, as HTTP allows. */
  end?: number;
}

export interface BlobRead extends BlobInfo {
  body: Readable;
  /** The range actually served, inclusive (`end` is -1 for an empty blob). */
  start: number;
  end: number;
}

/**
 * Keys are `/`-separated names of letters, digits, `.`, `_` and `-` (not starting with `.`), e.g.
 * `sha256/<hex>` or `media/<id>/thumb.webp`; anything else is refused with `invalid_key`.
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Stores a blob, replacing any at `key`; readers see the old or the new bytes, never a mix. */
  put(key: string, body: BlobSource, options: PutOptions): Promise<BlobInfo>;
  /** Reads a blob or a range of it. Throws `not_found`, or `range_not_satisfiable`. */
  get(key: string, range?: ByteRange): Promise<BlobRead>;
  stat(key: string): Promise<BlobInfo | undefined>;
  exists(key: string): Promise<boolean>;
  /** Deletes a blob; deleting a missing one is fine. */
  delete(key: string): Promise<void>;
  /**
   * Deletes every blob whose key starts with `prefix` (a plain string prefix, as in S3: use a
   * trailing `/` for a folder, e.g. `media/<id>/`); returns how many. An empty prefix is refused.
   */
  deletePrefix(prefix: string): Promise<number>;
}
