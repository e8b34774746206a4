import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Root of the monorepo (packages/media/test → ../../..). */
export const REPO_ROOT = resolve(here, '..', '..', '..');

/** Shared read-only test media, beside the project root (see MANIFEST.md there). */
export const DATA_DIR = process.env.MMD_TEST_DATA ?? resolve(REPO_ROOT, '..', 'shared', 'data');

/** Committed hostile corpus. */
export const HOSTILE_DIR = resolve(here, 'hostile');

/** `skip` option value for tests that need the shared media: false, or a clear reason. */
export const NEEDS_DATA: false | string = existsSync(DATA_DIR)
  ? false
  : `shared test data not found at ${DATA_DIR}`;

/**
 * Absolute path of a file in the shared data folder.
 * @param parts path segments under the data folder
 */
export function dataPath(...parts: string[]): string {
  return join(DATA_DIR, ...parts);
}

/** Creates an empty private directory to use as `tmpRoot`, so a test can assert nothing was left behind. */
export async function makeTmpRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mmd-media-test-'));
}

/**
 * Lists what is left in a tmpRoot (should be nothing after any operation, failed or not).
 * @param dir directory made by {@link makeTmpRoot}
 */
export async function leftovers(dir: string): Promise<string[]> {
  return readdir(dir);
}

/**
 * Removes a tmpRoot.
 * @param dir directory made by {@link makeTmpRoot}
 */
export async function removeTmpRoot(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Whether an EXIF (TIFF) block's IFD0 holds a GPS IFD pointer (tag 0x8825). sharp only tells us the
 * raw EXIF bytes, and searching for the string "GPS" would not work: tags are numeric.
 * @param exif EXIF block as returned by sharp's metadata(), starting with "Exif\0\0" or the TIFF header
 */
export function exifHasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const little = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (o: number): number => (little ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (little ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd0 = u32(4);
  const count = u16(ifd0);
  for (let i = 0; i < count; i++) {
    if (u16(ifd0 + 2 + i * 12) === 0x8825) return true;
  }
  return false;
}
