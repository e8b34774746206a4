/**
 * Stores an upload under the SHA-256 of its bytes (`sha256/<hex>`), so identical media is kept
 * once. The source is read exactly once — hashed while it is written to a temp file, cut off as
 * soon as it passes `maxBytes` — and only then handed to the store, if the store lacks it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spoolToFile } from './spool.ts';
import type { BlobSource, BlobStore } from './types.ts';

export interface ContentAddressedOptions {
  contentType: string;
  /** Larger sources are refused with BlobError `upload_too_large`, without reading them to the end. */
  maxBytes?: number;
  /** Where the upload is spooled (default: the OS temp folder). */
  tmpDir?: string;
}

export interface ContentAddressedResult {
  key: string;
  /** Lower-case hex. */
  sha256: string;
  size: number;
  /** True when the store already held these bytes and nothing was written. */
  deduplicated: boolean;
}

export async function putContentAddressed(
  store: BlobStore,
  source: BlobSource,
  options: ContentAddressedOptions,
): Promise<ContentAddressedResult> {
  const tmp = path.join(options.tmpDir ?? tmpdir(), `mmd-upload-${randomUUID()}`);
  const hash = createHash('sha256');
  try {
    const size = await spoolToFile(source, tmp, { maxBytes: options.maxBytes, hash });
    const sha256 = hash.digest('hex');
    const key = `sha256/${sha256}`;
    // Two concurrent uploads of the same bytes may both write; same key, same bytes, no harm.
    if (await store.exists(key)) return { key, sha256, size, deduplicated: true };
    await store.put(key, { file: tmp }, { contentType: options.contentType });
    return { key, sha256, size, deduplicated: false };
  } finally {
    await rm(tmp, { force: true });
  }
}
