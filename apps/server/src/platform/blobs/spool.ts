/**
 * Writes a blob source to a new file in one pass, optionally hashing it and enforcing a size limit
 * as it goes. On any failure the partial file is gone before the promise rejects: the handle is
 * ours (not an fs stream's lazily opened one), so nothing can recreate the file after the cleanup.
 */
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm, stat } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobError } from './errors.ts';
import type { BlobSource } from './types.ts';

export interface SpoolOptions {
  maxBytes?: number;
  hash?: Hash;
  /** fsync before returning, for files that become blobs by rename. */
  durable?: boolean;
}

export async function spoolToFile(
  source: BlobSource,
  file: string,
  options: SpoolOptions = {},
): Promise<number> {
  const readable = toReadable(source);
  // Until the pipeline below takes over, a source that errors (a client that went away while the
  // temp file was being opened) must not become an uncaught exception; pipeline still sees it.
  const ignore = () => {};
  readable.on('error', ignore);
  try {
    return await spool(readable, source, file, options);
  } catch (err) {
    readable.destroy(); // a refused source is not read further (and a file source's fd is closed)
    throw err;
  } finally {
    readable.off('error', ignore);
  }
}

async function spool(
  readable: Readable,
  source: BlobSource,
  file: string,
  options: SpoolOptions,
): Promise<number> {
  const { maxBytes, hash } = options;
  const tooLarge = (size: number) =>
    new BlobError('upload_too_large', `upload exceeds the limit of ${maxBytes} bytes`, {
      size,
      limit: maxBytes,
    });
  // Sizes known up front fail before a byte is written.
  if (maxBytes !== undefined) {
    if (source instanceof Uint8Array && source.byteLength > maxBytes) throw tooLarge(source.byteLength);
    if (isFileSource(source)) {
      const { size } = await stat(source.file);
      if (size > maxBytes) throw tooLarge(size);
    }
  }
  const handle = await open(file, 'wx');
  let size = 0;
  try {
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) return callback(tooLarge(size));
        hash?.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(readable, meter, sinkTo(handle));
    if (options.durable) await handle.sync();
    await handle.close();
    return size;
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(file, { force: true });
    throw err;
  }
}

/** A Writable over a handle it never closes (fs streams that don't close never finish). */
function sinkTo(handle: FileHandle): Writable {
  return new Writable({
    async write(chunk: Buffer, _encoding, callback) {
      try {
        for (let offset = 0; offset < chunk.length; ) {
          offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
        }
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

export function isFileSource(source: BlobSource): source is { file: string } {
  return !(source instanceof Uint8Array) && !(source instanceof Readable) && typeof source.file === 'string';
}

export function toReadable(source: BlobSource): Readable {
  if (source instanceof Readable) return source;
  if (source instanceof Uint8Array)
    return Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]);
  return createReadStream(source.file);
}
