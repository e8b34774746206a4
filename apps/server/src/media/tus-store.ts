/**
 * Where resumable (tus) uploads keep what has arrived: the upload's state (size, bytes received,
 * metadata, owner) in the database and each PATCH's bytes as a part in the blob store (S3 in a
 * cluster), never on one node's disk. Any node can answer a HEAD and take the next PATCH of an
 * upload another node started, and the node that receives the last byte assembles the parts.
 *
 * - A PATCH's bytes pass through the upload gate (type sniffed from the first bytes of the upload,
 *   read back from the first parts on a later PATCH), go to a spool file, then to the blob store as
 *   one part, `uploads/<id>/<start>-<random>`; only then does a conditional update move the
 *   offset (`received = start + n where received = start`) and record the part. Two PATCHes racing
 *   on two nodes for the same offset: one wins, the other's part is deleted and it answers 409.
 * - A client cut off mid-PATCH keeps the bytes that arrived (as tus promises): they become a part.
 * - Parts are plain blobs of any size, so no S3 multipart minimums apply; assembling streams them
 *   in order into one spool file for media's ingest, which stores the original once more by content.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { AppError } from '../errors.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import { GATE_HEAD_BYTES, type KindLimits, createUploadGate } from './upload-gate.ts';

export interface SharedUploadStoreDeps {
  db: Database;
  blobs: BlobStore;
  /** Local spool files (a PATCH's bytes on their way to the blob store, the assembled upload). */
  tmpDir: string;
  /** Unfinished uploads older than this are refused and swept. */
  expiryMs: number;
  limits: KindLimits;
  maxSize: number;
  /**
   * Pieces (PATCHes) one upload may arrive in: each is a blob, read back when the upload is put
   * together, so an upload sent a byte at a time must not cost thousands of them.
   */
  maxParts: number;
  clock: () => number;
  /** How a refusal of the gate is answered (tus's own error shape). */
  refusal: (err: AppError) => unknown;
}

const partPrefix = (id: string) => `uploads/${id}/`;
const spoolPath = (tmpDir: string, id: string) => path.join(tmpDir, `tus-${id}-${randomBytes(6).toString('hex')}`);

/** A tus DataStore over MMD's database and blob store; see the top of this file. */
export class SharedUploadStore extends DataStore {
  constructor(private readonly deps: SharedUploadStoreDeps) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const created = upload.creation_date ? Date.parse(upload.creation_date) : this.deps.clock();
    await this.deps.db.db
      .insertInto('resumable_uploads')
      .values({
        id: upload.id,
        owner_id: upload.metadata?.owner ?? '',
        size: upload.size ?? null,
        received: 0,
        metadata: JSON.stringify(upload.metadata ?? {}),
        created_at: Number.isFinite(created) ? created : this.deps.clock(),
      })
      .execute();
    upload.storage = { type: 'mmd-blobs', path: partPrefix(upload.id) };
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const row = await this.deps.db.db.selectFrom('resumable_uploads').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw ERRORS.FILE_NOT_FOUND;
    return new Upload({
      id,
      size: row.size === null ? undefined : Number(row.size),
      offset: Number(row.received),
      metadata: JSON.parse(row.metadata) as Record<string, string | null>,
      creation_date: new Date(Number(row.created_at)).toISOString(),
      storage: { type: 'mmd-blobs', path: partPrefix(id) },
    });
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    await this.deps.db.db.updateTable('resumable_uploads').set({ size: length }).where('id', '=', id).where('size', 'is', null).execute();
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const upload = await this.getUpload(id);
    const pieces = await this.deps.db.db.selectFrom('resumable_upload_parts').select((eb) => eb.fn.countAll<number>().as('n')).where('upload_id', '=', id).executeTakeFirst();
    if (Number(pieces?.n ?? 0) >= this.deps.maxParts) {
      throw this.deps.refusal(new AppError('limit_reached', `an upload arrives in at most ${this.deps.maxParts} pieces; send bigger ones, or start again`));
    }
    const storedHead = offset > 0 ? await this.head(id, Math.min(offset, GATE_HEAD_BYTES)) : undefined;
    const gate = createUploadGate(this.deps.limits, this.deps.maxSize, { offset, storedHead, declaredLength: upload.size });
    let refusal: AppError | null = null;
    gate.on('error', (err) => {
      if (err instanceof AppError) refusal = err;
    });
    const spool = spoolPath(this.deps.tmpDir, id);
    let failure: unknown = null;
    // Piped, not pipelined from `readable`: a refusal must not destroy tus's request stream (its own
    // pipeline would then fail with a premature close instead of answering with our refusal).
    readable.on('error', (err) => gate.destroy(err));
    try {
      await pipeline(readable.pipe(gate), createWriteStream(spool, { mode: 0o600 }));
    } catch (err) {
      failure = err;
    }
    try {
      if (refusal) {
        // Nothing of a refused upload is kept; resuming it finds nothing.
        await this.remove(id).catch(() => {});
        throw this.deps.refusal(refusal);
      }
      // A client cut off mid-PATCH keeps what arrived: the next HEAD tells it where to go on.
      const size = (await stat(spool).catch(() => ({ size: 0 }))).size;
      const next = size > 0 ? await this.storePart(id, offset, spool, size) : offset;
      if (failure) throw failure;
      return next;
    } finally {
      await rm(spool, { force: true });
    }
  }

  private async storePart(id: string, start: number, file: string, size: number): Promise<number> {
    const key = `${partPrefix(id)}${start}-${randomBytes(6).toString('hex')}`;
    await this.deps.blobs.put(key, { file }, { contentType: 'application/octet-stream' });
    const moved = await this.deps.db.writeTransaction(async (tx) => {
      const updated = await tx
        .updateTable('resumable_uploads')
        .set({ received: start + size })
        .where('id', '=', id)
        .where('received', '=', start)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await tx.insertInto('resumable_upload_parts').values({ upload_id: id, start, size, blob_key: key }).execute();
      return true;
    });
    if (!moved) {
      // Another node stored bytes at this offset first (or the upload was removed): ours go.
      await this.deps.blobs.delete(key);
      throw ERRORS.INVALID_OFFSET;
    }
    return start + size;
  }

  private async parts(id: string) {
    const rows = await this.deps.db.db.selectFrom('resumable_upload_parts').select(['start', 'size', 'blob_key']).where('upload_id', '=', id).orderBy('start').execute();
    return rows.map((r) => ({ start: Number(r.start), size: Number(r.size), key: r.blob_key }));
  }

  /** The upload's first `length` bytes, read back from its first parts. */
  async head(id: string, length: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let have = 0;
    for (const part of await this.parts(id)) {
      if (have >= length || part.size === 0) break;
      const read = await this.deps.blobs.get(part.key, { start: 0, end: Math.min(part.size, length - have) - 1 });
      for await (const chunk of read.body) chunks.push(chunk as Buffer);
      have = chunks.reduce((n, c) => n + c.length, 0);
    }
    return Buffer.concat(chunks).subarray(0, length);
  }

  /**
   * The whole upload as one local file (the caller deletes it). Throws if the parts do not add up
   * to the bytes received: no item is ever made from a file with a hole.
   */
  async assemble(id: string): Promise<string> {
    const upload = await this.getUpload(id);
    const file = spoolPath(this.deps.tmpDir, id);
    try {
      let expected = 0;
      for (const part of await this.parts(id)) {
        if (part.start !== expected) throw new Error(`upload ${id}: part at ${part.start}, expected ${expected}`);
        const read = await this.deps.blobs.get(part.key);
        await pipeline(read.body, createWriteStream(file, { flags: 'a', mode: 0o600 }));
        expected += part.size;
      }
      if (expected !== upload.offset) throw new Error(`upload ${id}: parts hold ${expected} bytes, ${upload.offset} received`);
      return file;
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
  }

  override async remove(id: string): Promise<void> {
    const row = await this.deps.db.db.selectFrom('resumable_uploads').select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw ERRORS.FILE_NOT_FOUND;
    // Bytes first: a crash between the two leaves a row the expiry sweep removes, never bytes
    // nothing points to.
    await this.deps.blobs.deletePrefix(partPrefix(id));
    await this.deps.db.writeTransaction(async (tx) => {
      await tx.deleteFrom('resumable_upload_parts').where('upload_id', '=', id).execute();
      await tx.deleteFrom('resumable_uploads').where('id', '=', id).execute();
    });
  }

  override async deleteExpired(): Promise<number> {
    const before = this.deps.clock() - this.deps.expiryMs;
    const expired = await this.deps.db.db.selectFrom('resumable_uploads').select('id').where('created_at', '<', before).limit(1000).execute();
    let count = 0;
    for (const { id } of expired) {
      await this.remove(id).then(
        () => (count += 1),
        () => {},
      );
    }
    return count;
  }

  override getExpiration(): number {
    return this.deps.expiryMs;
  }
}
