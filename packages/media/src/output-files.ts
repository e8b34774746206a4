import { copyFile, cp, mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Moves a finished file from scratch space to its destination. Outputs are always produced in a
 * scratch directory first, so the destination never holds a half-written file after a failure.
 * Falls back to copy + delete across file systems (tmpfs → disk).
 * @param from finished file
 * @param to destination path (parent folders are created)
 */
export async function moveFile(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await unlink(from);
  }
}

/**
 * Moves a finished directory tree (an HLS package) to its destination, replacing what is there.
 * @param from finished directory
 * @param to destination directory
 */
export async function moveDirectory(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await cp(from, to, { recursive: true });
    await rm(from, { recursive: true, force: true });
  }
}
