import { open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaError } from './errors.ts';

/** A media file given either by path or as bytes already in memory (e.g. a remote worker's upload buffer). */
export type MediaInput = string | Uint8Array;

/**
 * Reads up to `length` leading bytes of the input.
 * @param input path or bytes
 * @param length how many bytes to read at most
 */
export async function readHead(input: MediaInput, length: number): Promise<Uint8Array> {
  if (typeof input !== 'string') return input.subarray(0, length);
  const handle = await openInput(input);
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the last `length` bytes of an input of known size.
 * @param input path or bytes
 * @param size total size in bytes
 * @param length how many trailing bytes to read
 */
export async function readTail(input: MediaInput, size: number, length: number): Promise<Uint8Array> {
  const start = Math.max(0, size - length);
  if (typeof input !== 'string') return input.subarray(start);
  const handle = await openInput(input);
  try {
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Size of the input in bytes.
 * @param input path or bytes
 */
export async function inputSize(input: MediaInput): Promise<number> {
  if (typeof input !== 'string') return input.byteLength;
  try {
    const info = await stat(input);
    if (!info.isFile()) throw new MediaError('unsupported_type', `${input} is not a regular file`);
    return info.size;
  } catch (error) {
    if (error instanceof MediaError) throw error;
    throw new MediaError('invalid_options', `cannot read ${input}`, { cause: error });
  }
}

/**
 * Returns a path ffmpeg can open: the input itself, or the bytes written into `dir`. MP4 and friends
 * need seeking (moov at the end), so piping through stdin is not an option.
 * @param input path or bytes
 * @param dir scratch directory owned by the caller
 */
export async function inputPath(input: MediaInput, dir: string): Promise<string> {
  if (typeof input === 'string') return input;
  const path = join(dir, 'input.bin');
  await writeFile(path, input);
  return path;
}

async function openInput(path: string) {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new MediaError('invalid_options', `cannot open ${path}`, { cause: error });
  }
}
