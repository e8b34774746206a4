/**
 * Enforces per-type size limits while an upload streams in, before the whole body is read: the
 * first bytes say what the file is (content, not name), and that type's limit then applies — to
 * the bytes seen and to the length the client declared, whichever says "too large" first.
 * Single-request uploads and every tus PATCH go through the same gate.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { type MediaKind, SNIFF_BYTES, sniffBytes } from '@mmd/media';
import { AppError } from '../errors.ts';

export type KindLimits = Record<MediaKind, number>;

/** Bytes to look at before deciding; enough for every signature MMD recognises up front. */
export const GATE_HEAD_BYTES = Math.min(SNIFF_BYTES, 4096);

export interface UploadGateOptions {
  /** Bytes of this upload already stored (a resumed tus upload): they count towards the limit. */
  offset?: number;
  /** The first stored bytes (up to GATE_HEAD_BYTES) of a resumed upload, for sniffing only. */
  storedHead?: Buffer;
  /** The total length the client announced (Content-Length, tus Upload-Length), if any. */
  declaredLength?: number;
}

/** The limit for bytes that start with `head` (the fallback when they say nothing yet). */
export function limitFor(head: Buffer, limits: KindLimits, fallbackLimit: number): number {
  const sniffed = head.length > 0 ? sniffBytes(head) : undefined;
  return Math.min(fallbackLimit, sniffed ? limits[sniffed.kind] : fallbackLimit);
}

export function tooLarge(limit: number) {
  return new AppError(
    'upload_too_large',
    `this file is larger than the ${Math.floor(limit / (1024 * 1024))} MB allowed for its type`,
  );
}

export function createUploadGate(limits: KindLimits, fallbackLimit: number, options: UploadGateOptions = {}) {
  // Until the type is known, new bytes are held back (and the stored head only looked at).
  let head: Buffer | null = options.storedHead ?? Buffer.alloc(0);
  let held: Buffer[] = [];
  let limit = fallbackLimit;
  let seen = options.offset ?? 0;
  const over = () => seen > limit || (options.declaredLength !== undefined && options.declaredLength > limit);
  const decide = (): Buffer[] => {
    limit = limitFor(head!, limits, fallbackLimit);
    head = null;
    const out = held;
    held = [];
    return out;
  };
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (head) {
        head = Buffer.concat([head, chunk]);
        held.push(chunk);
        if (head.length < GATE_HEAD_BYTES) return callback();
        const out = decide();
        if (over()) return callback(tooLarge(limit));
        for (const b of out) this.push(b);
        return callback();
      }
      if (over()) return callback(tooLarge(limit));
      callback(null, chunk);
    },
    flush(callback) {
      if (head) {
        const out = decide();
        if (over()) return callback(tooLarge(limit));
        for (const b of out) this.push(b);
      }
      callback();
    },
  });
  return gate;
}
