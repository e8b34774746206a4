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
import { AI_DISCLOSURES, type AiDisclosure, type MediaItem, type UploadReply } from '@mmd/contracts';
import { type AcceptedType, adaptToBudget, isMediaError } from '@mmd/media';
import type { Principal } from '../accounts/index.ts';
import type { Config } from '../config.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type BlobStore, isBlobError, putContentAddressed } from '../platform/blobs/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { UrlSigner } from './signing.ts';
import { type MediaRow, loadMedia, mayView, toMediaItem } from './store.ts';
import { adaptedKey, budgetTier, normaliseAccept } from './adapt-cache.ts';
import { createUploadGate } from './upload-gate.ts';
import { type Limits, createMemoryLimits } from '../platform/limits/index.ts';

export interface MediaDeps {
  db: Database;
  blobs: BlobStore;
  signer: UrlSigner;
  clock: () => number;
  config: Config;
  /** Queues processing inside the transaction that creates the row. */
  enqueueProcessing: (tx: Tx, mediaId: string) => Promise<unknown>;
  /** Queues the processing of a server-made item (ingest); default: enqueueProcessing. */
  enqueueIngested?: (tx: Tx, mediaId: string) => Promise<unknown>;
  /** Where budget adaptations are counted (default: this process's memory). */
  limits?: Limits;
}

export function createMedia(deps: MediaDeps) {
  const { db, blobs, config, clock } = deps;
  const limits = {
    image: config.mediaMaxImageBytes,
    video: config.mediaMaxVideoBytes,
    audio: config.mediaMaxAudioBytes,
    document: config.mediaMaxDocumentBytes,
  };

  /**
   * Per-account upload limits, counted from the media rows themselves (so every API process sees
   * the same numbers): uploads per window, and items still waiting or processing. Uploading is
   * how anyone can test a file against the banks, so it must not be cheap to do in bulk.
   */
  async function admit(principal: Principal): Promise<void> {
    const now = clock();
    const windowStart = now - config.mediaUploadRateWindowMs;
    const recent = await db.db
      .selectFrom('media')
      .select(['created_at'])
      .where('owner_id', '=', principal.accountId)
      .where('created_at', '>', windowStart)
      .orderBy('created_at', 'asc')
      .limit(config.mediaUploadRateLimit)
      .execute();
    if (recent.length >= config.mediaUploadRateLimit) {
      const retryAfter = Math.max(1, Math.ceil((Number(recent[0]!.created_at) - windowStart) / 1000));
      throw new AppError('rate_limited', `at most ${config.mediaUploadRateLimit} uploads per ${Math.round(config.mediaUploadRateWindowMs / 60_000)} minutes; retry in ${retryAfter} s`, { headers: { 'retry-after': String(retryAfter) } });
    }
    const processing = await db.db
      .selectFrom('media')
      .select('id')
      .where('owner_id', '=', principal.accountId)
      .where('status', '=', 'processing')
      .limit(config.mediaMaxProcessingPerAccount)
      .execute();
    if (processing.length >= config.mediaMaxProcessingPerAccount) {
      throw new AppError('rate_limited', `${processing.length} of your uploads are still processing; wait for them to finish`, { headers: { 'retry-after': '10' } });
    }
  }

  async function requireViewable(principal: Principal, mediaId: string): Promise<MediaRow> {
    const row = await loadMedia(db.db, mediaId);
    if (!row || row.status === 'removed') throw notFound('media');
    if (!(await mayView(db.db, row, principal.accountId))) throw notFound('media');
    return row;
  }

  /** Records a stored original and queues its processing, atomically. */
  async function register(
    principal: Pick<Principal, 'accountId'>,
    stored: { key: string; size: number },
    options: { filename: string | null; aiDisclosure?: AiDisclosure | null; enqueue?: MediaDeps['enqueueProcessing'] },
  ): Promise<UploadReply> {
    const { filename, enqueue = deps.enqueueProcessing } = options;
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
      ai_disclosure: options.aiDisclosure ?? null,
      reason: stored.size === 0 ? 'the file is empty' : null,
      reason_code: stored.size === 0 ? 'empty_file' : null,
      created_at: now,
      updated_at: now,
    };
    await db.writeTransaction(async (tx) => {
      await tx.insertInto('media').values(row).execute();
      if (row.status === 'processing') await enqueue(tx, row.id);
    });
    return { id: row.id, status: row.status === 'processing' ? 'processing' : 'failed' };
  }

  const adaptLimiter = (deps.limits ?? createMemoryLimits()).limiter({ name: 'media-adapt', max: config.mediaAdaptRateLimit, windowMs: config.rateLimitWindowMs, clock });

  /** Records a new adapted copy; past the per-item cap the oldest copies are deleted. */
  async function remember(mediaId: string, key: string) {
    const evicted = await db.writeTransaction(async (tx) => {
      const current = await tx.selectFrom('media').select('adapted').where('id', '=', mediaId).executeTakeFirst();
      const keys = (JSON.parse(current?.adapted ?? '[]') as string[]).filter((k) => k !== key);
      keys.push(key);
      const drop = keys.splice(0, Math.max(0, keys.length - config.mediaAdaptCopiesPerItem));
      await tx.updateTable('media').set({ adapted: JSON.stringify(keys) }).where('id', '=', mediaId).execute();
      return drop;
    });
    for (const k of evicted) await blobs.delete(k).catch(() => {});
  }

  return {
    /** Refuses (429) when this account has uploaded too much lately or has too much still processing. */
    admit,
    /** Per-type size limits, for gates outside this service (tus). */
    limits,

    /** A single-request upload: the body streams through the size gate into the blob store. */
    async upload(principal: Principal, source: Readable, options: { filename?: string | null; aiDisclosure?: AiDisclosure | null; declaredLength?: number; lengthIncludesEnvelope?: boolean }): Promise<UploadReply> {
      if (options.declaredLength !== undefined && options.declaredLength > config.mediaMaxSingleUploadBytes) {
        throw new AppError('upload_too_large', `single-request uploads are limited to ${Math.floor(config.mediaMaxSingleUploadBytes / (1024 * 1024))} MB; use resumable uploads (/v1/uploads, tus) for larger files`);
      }
      const gate = createUploadGate(limits, config.mediaMaxSingleUploadBytes, { declaredLength: options.lengthIncludesEnvelope ? undefined : options.declaredLength });
      // Listen before the first await: a cut-off body can fail while the limits are checked.
      // A multipart parser may have failed the part before it was handed over (the whole body
      // arrived, cut off, while the request was being authenticated).
      let unreadable: Error | null = source.errored ?? (source.destroyed && !source.readableEnded ? new Error('the body ended early') : null);
      source.on('error', (err) => {
        unreadable = err;
        gate.destroy(err);
      });
      await admit(principal).catch((err) => {
        source.resume();
        throw err;
      });
      if (unreadable) throw new AppError('validation_failed', `the upload body could not be read: ${(unreadable as Error).message}`, { errors: [{ path: 'body', message: 'incomplete or malformed' }] });
      let stored: Awaited<ReturnType<typeof putContentAddressed>>;
      try {
        stored = await putContentAddressed(blobs, source.pipe(gate), { contentType: 'application/octet-stream', tmpDir: path.join(config.dataDir, 'tmp') });
      } catch (err) {
        source.resume();
        if (err instanceof AppError) throw err;
        if (isBlobError(err, 'upload_too_large')) throw new AppError('upload_too_large', 'the upload is too large');
        // The body itself broke off or could not be parsed (a cut multipart form, an aborted
        // request): the client's side, answered 400 and not logged as our failure.
        if (unreadable) throw new AppError('validation_failed', `the upload body could not be read: ${(unreadable as Error).message}`, { errors: [{ path: 'body', message: 'incomplete or malformed' }] });
        throw err;
      }
      return register(principal, stored, { filename: options.filename ?? null, aiDisclosure: options.aiDisclosure });
    },

    /** A finished resumable upload: the file is on disk already. */
    async uploadFromFile(principal: Principal, file: string, filename: string | null, aiDisclosure?: AiDisclosure | null): Promise<UploadReply> {
      await admit(principal);
      const stored = await putContentAddressed(blobs, { file }, { contentType: 'application/octet-stream', tmpDir: path.join(config.dataDir, 'tmp') });
      return register(principal, stored, { filename, aiDisclosure });
    },

    /**
     * A file the server made for an account (a personalised template render): stored and processed
     * exactly like an upload (the same ladder, screening and budget adaptation), but outside the
     * account's upload allowance: the caller bounds its own work (templates cache renders by
     * content hash and run a few at a time), and its processing may go to a queue of its own
     * (`enqueueIngested`) so that it never waits in line with people's uploads.
     */
    async ingest(ownerId: string, file: string, filename: string): Promise<UploadReply> {
      const stored = await putContentAddressed(blobs, { file }, { contentType: 'application/octet-stream', tmpDir: path.join(config.dataDir, 'tmp') });
      return register({ accountId: ownerId }, stored, { filename, enqueue: deps.enqueueIngested ?? deps.enqueueProcessing });
    },

    async view(principal: Principal, mediaId: string): Promise<MediaItem> {
      const row = await requireViewable(principal, mediaId);
      const expiresAt = clock() + config.mediaUrlTtlSeconds * 1000;
      return toMediaItem(row, deps.signer.prefix(row.id, principal.accountId, expiresAt), expiresAt);
    },

    async adapt(principal: Principal, mediaId: string, options: { maxBytes: number; accept: string[] }) {
      const wait = await adaptLimiter.hit(principal.accountId);
      if (wait > 0) {
        const seconds = String(Math.ceil(wait / 1000));
        throw new AppError('rate_limited', `too many adaptations; retry in ${seconds} s`, { headers: { 'retry-after': seconds } });
      }
      const tier = budgetTier(options.maxBytes);
      const acceptSet = normaliseAccept(options.accept);
      const row = await requireViewable(principal, mediaId);
      if (row.status !== 'ready') throw new AppError('conflict', `media ${mediaId} is ${row.status}, not ready`);
      if (row.kind === 'document') throw new AppError('validation_failed', 'documents cannot be adapted; send them as files');
      const renditions = JSON.parse(row.renditions) as Record<string, { key: string }>;
      // Adapt from the best stripped rendition we keep: the preview (images), the MP4 (video).
      const sourceKey = renditions['preview.jpg']?.key ?? renditions.mp4?.key ?? renditions.aac?.key ?? renditions.opus?.key;
      if (!sourceKey) throw new AppError('conflict', 'this item has nothing to adapt from');
      const cacheKey = adaptedKey(row.id, tier, acceptSet);
      const cached = await blobs.stat(cacheKey);
      if (cached) return { key: cacheKey, mime: cached.contentType, size: cached.size };
      const work = await mkdtemp(path.join(tmpdir(), 'mmd-adapt-'));
      try {
        const input = path.join(work, 'source');
        await pipeline((await blobs.get(sourceKey)).body, createWriteStream(input));
        const accept: AcceptedType[] = acceptSet.map(parseAccept);
        const result = await adaptToBudget({ input, maxBytes: tier, accept, tmpRoot: work, maxPixels: config.mediaMaxImagePixels });
        await blobs.put(cacheKey, result.bytes, { contentType: result.mime });
        await remember(row.id, cacheKey);
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

/** A disclosure as a client spelled it (tus metadata is free text): one of AI_DISCLOSURES or nothing. */
export function parseAiDisclosure(value: string | undefined | null): AiDisclosure | null {
  if (value === undefined || value === null || value === '') return null;
  if ((AI_DISCLOSURES as readonly string[]).includes(value)) return value as AiDisclosure;
  throw new AppError('validation_failed', `ai must be one of ${AI_DISCLOSURES.join(', ')}`, { errors: [{ path: 'ai', message: `one of ${AI_DISCLOSURES.join(', ')}` }] });
}

export type Media = ReturnType<typeof createMedia>;
