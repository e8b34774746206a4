/**
 * A file sent to a safety endpoint (to hash, never to store): the multipart body is spooled to a
 * temporary file, which the callback reads and which is deleted afterwards whatever happens.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

export async function withUploadedFile<T>(request: FastifyRequest, tmpRoot: string, use: (file: string, fields: Record<string, string>) => Promise<T>): Promise<T> {
  if (!request.isMultipart()) {
    throw new AppError('validation_failed', 'send the file as multipart/form-data in a field named "file"', { errors: [{ path: 'body/file', message: 'required' }] });
  }
  const dir = await mkdtemp(path.join(tmpRoot, 'mmd-safety-'));
  try {
    const file = path.join(dir, 'upload');
    const fields: Record<string, string> = {};
    let got = false;
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || got) {
          part.file.resume();
          continue;
        }
        await pipeline(part.file, createWriteStream(file));
        if (part.file.truncated) throw new AppError('upload_too_large', 'the file is too large to check in one request');
        got = true;
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
    if (!got) throw new AppError('validation_failed', 'the multipart body has no "file" part', { errors: [{ path: 'body/file', message: 'required' }] });
    return await use(file, fields);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
