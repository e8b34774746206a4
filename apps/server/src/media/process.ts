/**
 * The media ladder for one upload: inspect (type from content, limits), then per kind produce the
 * renditions every recipient can use — stripped of metadata — and store them; finally mark the
 * item ready (or failed, with the reason) and release messages that were waiting for it.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  audioWaveform,
  extractPoster,
  inspectMedia,
  isMediaError,
  type MediaInfo,
  processImage,
  readProvenance,
  transcodeAudio,
  transcodeHls,
  transcodeMp4,
} from '@mmd/media';
import type { Config } from '../config.ts';
import type { SpreadPolicy } from '../messaging/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import { PermanentJobError } from '../platform/queue/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { settlePendingMessages } from './attach.ts';
import { type PixelGate, createPixelGate, pixelWeight } from './processing-gate.ts';
import { type MediaRow, type StoredRendition, loadMedia, summarise } from './store.ts';

const EXTENSIONS: Record<string, string> = { 'image/avif': 'avif', 'image/webp': 'webp', 'image/jpeg': 'jpg' };

export interface ProcessDeps {
  db: Database;
  blobs: BlobStore;
  write: WriteWithEvents;
  clock: () => number;
  config: Config;
  /** Friction on what spreads too fast: a held message released with its media is shared then. */
  spread: SpreadPolicy;
  log: { warn(o: object, m: string): void; error(o: object, m: string): void };
  /**
   * Trust and safety (safety/screening.ts): hashes the original and matches it against the banks
   * after inspection and before any rendition is made, so nothing is delivered unchecked and a
   * banned file never costs a transcode.
   */
  screen?: (upload: { row: MediaRow; input: string; kind: MediaRow['kind']; signal: AbortSignal }) => Promise<ScreenVerdict>;
  /** Bounds decode memory across this process's jobs (default: a budget of mediaDecodePixelBudget). */
  gate?: PixelGate;
}

/**
 * What screening decided: deliver, deliver behind a warning, hold for a moderator, or refuse;
 * with the item's near-duplicate cluster (what spread is counted by) when it has one.
 */
export type ScreenVerdict = { action: 'allow' | 'blur' | 'hold'; cluster?: number } | { action: 'block'; reason: string; reasonCode: string };

interface Outcome {
  width?: number;
  height?: number;
  durationMs?: number;
  placeholder?: string;
  waveform?: number[];
  renditions: Record<string, StoredRendition>;
  kind: MediaRow['kind'];
  mime: string;
}

export function createMediaProcessor(deps: ProcessDeps) {
  const { db, blobs, config } = deps;
  const gate = deps.gate ?? createPixelGate(config.mediaDecodePixelBudget);

  async function produce(row: MediaRow, info: MediaInfo, input: string, work: string, progress: (p: number) => Promise<void>): Promise<Outcome> {
    const prefix = `media/${row.id}`;
    const renditions: Record<string, StoredRendition> = {};
    const put = async (name: string, body: Buffer | { file: string }, mime: string, extra: Partial<StoredRendition> = {}) => {
      const stored = await blobs.put(`${prefix}/${name}`, body, { contentType: mime });
      renditions[name] = { key: `${prefix}/${name}`, mime, size: stored.size, ...extra };
    };
    if (info.kind === 'image') {
      const image = await processImage({ input, maxPixels: config.mediaMaxImagePixels, onProgress: (f) => void progress(10 + f * 80) });
      for (const r of image.renditions) {
        await put(`${r.name}.${EXTENSIONS[r.mime] ?? r.format}`, r.bytes, r.mime, { width: r.width, height: r.height });
      }
      return { kind: 'image', mime: info.mime, width: image.width, height: image.height, placeholder: image.placeholder?.dataUrl, renditions };
    }
    if (info.kind === 'video') {
      const limits = { maxSeconds: config.mediaMaxVideoSeconds };
      const poster = await extractPoster({ input, format: 'jpeg', ...limits, tmpRoot: work });
      await put('poster', poster.bytes, poster.mime, { width: poster.width, height: poster.height });
      const mp4 = await transcodeMp4({ input, outputPath: path.join(work, 'video.mp4'), ...limits, tmpRoot: work, onProgress: (f) => void progress(10 + f * 30) });
      await put('mp4', { file: mp4.outputPath }, mp4.mime, { width: mp4.width, height: mp4.height });
      const hlsDir = path.join(work, 'hls');
      const hls = await transcodeHls({ input, outputDir: hlsDir, ...limits, tmpRoot: work, onProgress: (f) => void progress(40 + f * 55) });
      for (const file of await listFiles(hlsDir)) {
        const relative = path.relative(hlsDir, file).split(path.sep).join('/');
        const mime = relative.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : relative.endsWith('.mp4') || relative.endsWith('.m4s') ? 'video/mp4' : 'application/octet-stream';
        const stored = await blobs.put(`${prefix}/hls/${relative}`, { file }, { contentType: mime });
        if (file === hls.masterPlaylist) renditions.hls = { key: `${prefix}/hls/${relative}`, mime, size: stored.size };
      }
      return { kind: 'video', mime: info.mime, width: mp4.width, height: mp4.height, durationMs: Math.round(mp4.durationSeconds * 1000), placeholder: undefined, renditions };
    }
    if (info.kind === 'audio') {
      // Voice notes too: browsers record them as audio-only WebM (Opus) with no stated duration;
      // inspect measured it, and each step below is held to the same limit inspect applied.
      const audioLimits = { maxAudioSeconds: config.mediaMaxVideoSeconds, tmpRoot: work };
      const opus = await transcodeAudio({ input, format: 'ogg-opus', ...audioLimits, onProgress: (f) => void progress(10 + f * 40) });
      await put('opus', opus.bytes, opus.mime);
      const aac = await transcodeAudio({ input, format: 'm4a-aac', ...audioLimits, onProgress: (f) => void progress(50 + f * 40) });
      await put('aac', aac.bytes, aac.mime);
      const wave = await audioWaveform({ input, count: 64, ...audioLimits });
      return { kind: 'audio', mime: info.mime, durationMs: Math.round(opus.durationSeconds * 1000), waveform: wave.peaks.map((p) => Math.round(p * 1000) / 1000), renditions };
    }
    // Documents are served as uploaded (as an attachment, never inline), from the original blob.
    renditions.file = { key: row.original_key, mime: info.mime, size: Number(row.size) };
    return { kind: 'document', mime: info.mime, renditions };
  }

  async function finish(row: MediaRow, update: Partial<MediaRow>) {
    const now = deps.clock();
    await deps.write(async (tx, emit) => {
      const changed = await tx.updateTable('media').set({ ...update, updated_at: now }).where('id', '=', row.id).where('status', '=', 'processing').executeTakeFirst();
      // Another run finished it first (a worker thought dead whose job was handed on, then woke):
      // it told everyone already; a second media.updated or settling would be a double event.
      if (Number(changed.numUpdatedRows) === 0) return;
      const updated = (await loadMedia(tx, row.id))!;
      await emit({ type: 'media.updated', conversationId: null, targetAccountId: row.owner_id, data: { ...summarise(updated), reason: updated.reason, reason_code: updated.reason_code }, at: now });
      await settlePendingMessages(tx, emit, { mediaId: row.id, now, spread: deps.spread });
    });
  }

  return {
    /** The `media-process` job. Idempotent: a finished item is left alone. */
    async process(job: { payload: { mediaId: string }; signal: AbortSignal; progress(p: number): Promise<void> }) {
      const row = await loadMedia(db.db, job.payload.mediaId);
      if (row?.status !== 'processing') return { skipped: true };
      const work = await mkdtemp(path.join(tmpdir(), 'mmd-media-'));
      try {
        const input = path.join(work, 'original');
        const original = await blobs.get(row.original_key);
        await pipeline(original.body, createWriteStream(input));
        // A file that is itself the problem (retrying cannot help): say why, plainly.
        const refuse = async (err: unknown): Promise<never> => {
          if (isMediaError(err) && err.code !== 'timeout' && err.code !== 'binary_missing' && err.code !== 'aborted') {
            await blobs.deletePrefix(`media/${row.id}/`).catch(() => {});
            await finish(row, { status: 'failed', reason: err.message, reason_code: err.code });
            await dropOriginal(row);
            throw new PermanentJobError(`${err.code}: ${err.message}`);
          }
          throw err;
        };
        // Type from content and every limit (size, pixels, duration) from headers: nothing is decoded yet.
        const info = await inspectMedia(input, {
          maxPixels: config.mediaMaxImagePixels,
          maxVideoSeconds: config.mediaMaxVideoSeconds,
          maxAudioSeconds: config.mediaMaxVideoSeconds,
          tmpRoot: work,
        }).catch(refuse);
        const release = await gate.acquire(pixelWeight(info), job.signal);
        let outcome: Outcome;
        let verdict: ScreenVerdict;
        try {
          // Screening first, on the original: a banned file is stopped before it costs a transcode.
          verdict = deps.screen ? await deps.screen({ row, input, kind: info.kind, signal: job.signal }) : { action: 'allow' };
          if (verdict.action === 'block') {
            // Nothing of it may ever be served; the uploader hears a reason that names no bank.
            await blobs.deletePrefix(`media/${row.id}/`).catch(() => {});
            await finish(row, { status: 'failed', kind: info.kind, mime: info.mime, renditions: '{}', reason: verdict.reason, reason_code: verdict.reasonCode });
            await dropOriginal(row);
            return { blocked: true };
          }
          outcome = await produce(row, info, input, work, (p) => job.progress(Math.round(p))).catch(refuse);
        } finally {
          release();
        }
        // Read from the original before it goes: the renditions carry no metadata, so the item
        // keeps what its credentials (or XMP) said. Bounded in size and time; never throws for
        // what the file contains.
        const provenance =
          outcome.kind === 'image' || outcome.kind === 'video'
            ? await readProvenance({ input, mime: info.mime, maxBytes: config.mediaProvenanceMaxBytes, timeoutMs: config.mediaProvenanceTimeoutMs }).catch((err: unknown) => {
                deps.log.warn({ err, mediaId: row.id }, 'could not read provenance');
                return null;
              })
            : null;
        await finish(row, {
          provenance: provenance ? JSON.stringify(provenance) : null,
          // Held: renditions exist (moderators preview them) but nothing is served or delivered.
          status: verdict.action === 'hold' ? 'held' : 'ready',
          safety: verdict.action === 'blur' ? 'blur' : null,
          cluster_id: verdict.cluster ?? null,
          kind: outcome.kind,
          mime: outcome.mime,
          width: outcome.width ?? null,
          height: outcome.height ?? null,
          duration_ms: outcome.durationMs ?? null,
          placeholder: outcome.placeholder ?? null,
          waveform: outcome.waveform ? JSON.stringify(outcome.waveform) : null,
          renditions: JSON.stringify(outcome.renditions),
        });
        if (outcome.kind !== 'document') await dropOriginal(row);
        return { ready: true };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },

    /** Marks an item failed for good once its job has given up (retries exhausted). */
    async fail(mediaId: string, reason: string) {
      const row = await loadMedia(db.db, mediaId);
      if (row && row.status === 'processing') await finish(row, { status: 'failed', reason, reason_code: 'processing_failed' });
    },
  };

  /**
   * Privacy by default: once the stripped renditions exist, the original (with its GPS and camera
   * metadata) goes, unless the operator keeps originals. Another upload of the same bytes that is
   * still processing needs it, so it stays until the last one is done.
   */
  async function dropOriginal(row: MediaRow) {
    if (config.mediaKeepOriginals) return;
    const others = await db.db
      .selectFrom('media')
      .select('id')
      .where('original_key', '=', row.original_key)
      .where('id', '!=', row.id)
      .where((eb) => eb.or([eb('status', '=', 'processing'), eb('kind', '=', 'document')]))
      .limit(1)
      .executeTakeFirst();
    if (!others) await blobs.delete(row.original_key).catch((err) => deps.log.warn({ err }, 'could not delete an original'));
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if ((await stat(full)).size >= 0) out.push(full);
  }
  return out;
}

export type MediaProcessor = ReturnType<typeof createMediaProcessor>;
