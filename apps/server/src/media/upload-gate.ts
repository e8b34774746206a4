/**
 * Enforces per-type size limits while an upload streams in, before the whole body is read: the
 * first bytes say what the file is (content, not name), and that type's limit then applies.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { type MediaKind, SNIFF_BYTES, sniffBytes } from '@mmd/media';
import { AppError } from '../errors.ts';

export type KindLimits = Record<MediaKind, number>;

/** Bytes to look at before deciding; enough for every signature MMD recognises up front. */
const HEAD = Math.min(SNIFF_BYTES, 4096);

export function createUploadGate(limits: KindLimits, fallbackLimit: number) {
  let head: Buffer | null = Buffer.alloc(0);
  let limit = fallbackLimit;
  let seen = 0;
  const decide = () => {
    const sniffed = head && head.length > 0 ? sniffBytes(head) : undefined;
    limit = Math.min(fallbackLimit, sniffed ? limits[sniffed.kind] : fallbackLimit);
  };
  const tooLarge = () =>
    new AppError('upload_too_large', `this file is larger than the ${Math.floor(limit / (1024 * 1024))} MB allowed for its type`);
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < HEAD) return callback();
        decide();
        const buffered = head;
        head = null;
        if (seen > limit) return callback(tooLarge());
        return callback(null, buffered);
      }
      if (seen > limit) return callback(tooLarge());
      callback(null, chunk);
    },
    flush(callback) {
      if (head) {
        decide();
        const buffered = head;
        head = null;
        if (seen > limit) return callback(tooLarge());
        if (buffered.length > 0) this.push(buffered);
      }
      callback();
    },
  });
  return gate;
}
