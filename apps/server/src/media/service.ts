/**
 * Uploads and media items: accept a stream (type sniffed from content, per-type limits enforced
 * while it streams), store it content-addressed, queue its processing; show items only to those
 * who may see them, with signed URLs; adapt an item to a byte budget on request.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MediaItem, UploadReply } from '@mmd/contracts';
import { type AcceptedType, adaptToBudget, isMediaError } from '@mmd/media';
import type { Principal } from '../accounts/service.ts';
import type { Config } from '../config.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type BlobStore, isBlobError, putContentAddressed } from '../platform/blobs/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { UrlSigner } from './signing.ts';
import { type MediaRow, loadMedia, mayView, toMediaItem } from './store.ts';
import { createUploadGate } from './upload-gate.ts';

export interface MediaDeps {
  db: Database;
  blobs: BlobStore;
  signer: UrlSigner;
  clock: () => number;
  config: Config;
  /** Queues processing inside the transaction that creates the row. */
  enqueueProcessing: (tx: Tx, mediaId: string) => Promise<unknown>;
}

export function createMedia(deps: MediaDeps) {
  const { db, blobs, config, clock } = deps;
  const limits = {
    image: config.mediaMaxImageBytes,
    video: config.mediaMaxVideoBytes,
    audio: config.mediaMaxAudioBytes,
    document: config.mediaMaxDocumentBytes,
  };

  async function requireViewable(principal: Principal, mediaId: string): Promise<MediaRow> {
    const row = await loadMedia(db.db, mediaId);
    if (!row || row.status === 'removed') throw notFound('media');
    if (!(await mayView(db.db, row, principal.accountId))) throw notFound('media');
    return row;
  }

  /** Records a stored original and queues its processing, atomically. */
  async function register(principal: Principal, stored: { key: string; size: number }, filename: string | null): Promise<UploadReply> {
    if (stored.size === 0) {
      // Nothing to process, but the uploader deserves a media item that says why it failed.
      await blobs.delete(stored.key).catch(() => {});
    }
    const now = clock();
    const row: MediaRow = {
      id: newId('med'),
      owner_id: principal.accountId,
      status: stored.size === 0 ? 'failed' : 'processing',
      kind: null,
      mime: null,
      filename: filename ? filename.slice(0, 255) : null,
      size: stored.size,
      original_key: stored.key,
      width: null,
      height: null,
      duration_ms: null,
      placeholder: null,
      waveform: null,
      renditions: '{}',
      reason: stored.size === 0 ? 'the file is empty' : null,
      reason_code: stored.size === 0 ? 'empty_file' : null,
      created_at: now,
      updated_at: now,
    };
    await db.writeTransaction(async (tx) => {
      await tx.insertInto('media').values(row).execute();
      if (row.status === 'processing') await deps.enqueueProcessing(tx, row.id);
    });
    return { id: row.id, status: row.status === 'processing' ? 'processing' : 'failed' };
  }

  return {
    /** A single-request upload: the body streams through the size gate into the blob store. */
    async upload(principal: Principal, source: Readable, options: { filename?: string | null; declaredLength?: number }): Promise<UploadReply> {
      if (options.declaredLength !== undefined && options.declaredLength > config.mediaMaxSingleUploadBytes) {
        throw new AppError('upload_too_large', `single-request uploads are limited to ${Math.floor(config.mediaMaxSingleUploadBytes / (1024 * 1024))} MB; use resumable uploads (/v1/uploads, tus) for larger files`);
      }
      const gate = createUploadGate(limits, config.mediaMaxSingleUploadBytes);
      source.on('error', (err) => gate.destroy(err));
      let stored: Awaited<ReturnType<typeof putContentAddressed>>;
      try {
        stored = await putContentAddressed(blobs, source.pipe(gate), { contentType: 'application/octet-stream', tmpDir: path.join(config.dataDir, 'tmp') });
      } catch (err) {
        source.resume();
        if (err instanceof AppError) throw err;
        if (isBlobError(err, 'upload_too_large')) throw new AppError('upload_too_large', 'the upload is too large');
        throw err;
      }
      return register(principal, stored, options.filename ?? null);
    },

    /** A finished resumable upload: the file is on disk already. */
    async uploadFromFile(principal: Principal, file: string, filename: string | null): Promise<UploadReply> {
      const stored = await putContentAddressed(blobs, { file }, { contentType: 'application/octet-stream', tmpDir: path.join(config.dataDir, 'tmp') });
      return register(principal, stored, filename);
    },

    async view(principal: Principal, mediaId: string): Promise<MediaItem> {
      const row = await requireViewable(principal, mediaId);
      const expiresAt = clock() + config.mediaUrlTtlSeconds * 1000;
      return toMediaItem(row, deps.signer.prefix(row.id, expiresAt), expiresAt);
    },

    async adapt(principal: Principal, mediaId: string, options: { maxBytes: number; accept: string[] }) {
      const row = await requireViewable(principal, mediaId);
      if (row.status !== 'ready') throw new AppError('conflict', `media ${mediaId} is ${row.status}, not ready`);
      if (row.kind === 'document') throw new AppError('validation_failed', 'documents cannot be adapted; send them as files');
      const renditions = JSON.parse(row.renditions) as Record<string, { key: string }>;
      // Adapt from the best stripped rendition we keep: the preview (images), the MP4 (video).
      const sourceKey = renditions['preview.jpg']?.key ?? renditions.mp4?.key ?? renditions.aac?.key ?? renditions.opus?.key;
      if (!sourceKey) throw new AppError('conflict', 'this item has nothing to adapt from');
      const cacheKey = `media/${row.id}/adapted/${options.maxBytes}-${Buffer.from(options.accept.join(',')).toString('base64url')}`;
      const cached = await blobs.stat(cacheKey);
      if (cached) return { key: cacheKey, mime: cached.contentType, size: cached.size };
      const work = await mkdtemp(path.join(tmpdir(), 'mmd-adapt-'));
      try {
        const input = path.join(work, 'source');
        await pipeline((await blobs.get(sourceKey)).body, createWriteStream(input));
        const accept: AcceptedType[] = options.accept.map(parseAccept);
        const result = await adaptToBudget({ input, maxBytes: options.maxBytes, accept, tmpRoot: work, maxPixels: config.mediaMaxImagePixels });
        await blobs.put(cacheKey, result.bytes, { contentType: result.mime });
        return { key: cacheKey, mime: result.mime, size: result.bytes.length };
      } catch (err) {
        if (isMediaError(err, 'budget_unreachable')) throw new AppError('budget_unreachable', err.message);
        if (isMediaError(err, 'unsupported_type') || isMediaError(err, 'invalid_options')) throw new AppError('validation_failed', err.message);
        throw err;
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

/** `video/mp4;profile=baseline;audio=no;max_width=320` → the library's AcceptedType. */
function parseAccept(spec: string): AcceptedType {
  const [mime, ...params] = spec.split(';').map((s) => s.trim());
  if (params.length === 0) return mime!;
  const options: Record<string, string> = Object.fromEntries(params.map((p) => p.split('=').map((s) => s.trim()) as [string, string]));
  return {
    mime: mime!,
    ...(options.profile ? { h264Profile: options.profile as 'baseline' | 'main' | 'high' } : {}),
    ...(options.audio ? { audio: options.audio !== 'no' && options.audio !== 'false' } : {}),
    ...(options.max_width ? { maxWidth: Number(options.max_width) } : {}),
    ...(options.max_height ? { maxHeight: Number(options.max_height) } : {}),
  };
}

export type Media = ReturnType<typeof createMedia>;
