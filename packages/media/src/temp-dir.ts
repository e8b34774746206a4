import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of every scratch directory this package creates, so stray ones are easy to spot. */
export const TEMP_PREFIX = 'mmd-media-';

/**
 * Runs `fn` with a fresh private scratch directory and always removes it afterwards, whether `fn`
 * resolves or throws. Every operation that needs files (ffmpeg outputs, SSIM inputs) goes through this,
 * so failures on hostile input never leave partial files behind.
 * @param tmpRoot parent directory (defaults to the OS temp dir)
 * @param fn work to do inside the directory
 */
export async function withTempDir<T>(
  tmpRoot: string | undefined,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpRoot ?? tmpdir(), TEMP_PREFIX));
  try {
    return await fn(dir);
  } finally {
    // maxRetries: ffmpeg may still be closing a file handle for a moment after being killed.
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
