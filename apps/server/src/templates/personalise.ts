/**
 * Personalised media per recipient: the resolved layer spec (variables filled in) is drawn over
 * the business's base image or clip, once. The cache key is the SHA-256 of the canonical spec —
 * layers in order, each image layer naming its source by content hash (a media item's original)
 * or URL — and the base's content hash, so a thousand recipients called Ann share one render.
 * A render becomes an ordinary media item of the business (media's `ingest`): MMD's ladder makes
 * its renditions, and recipients get variants and budget adaptation like any upload.
 *
 * Image layers by URL are fetched through platform/outbound.ts (private and reserved addresses
 * refused, DNS pinned, size and time bounded). A URL's image is fetched once per distinct render:
 * the URL, not its bytes, is part of the key (change the URL to show a new picture).
 */
import { createHash } from 'node:crypto';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, availableParallelism } from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { isUniqueViolation, type Database } from '../platform/db/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import { type MediaRow, loadMedia, renditionsOf } from '../media/index.ts';
import { OutboundError, outboundFetch } from '../platform/outbound.ts';
import { AppError } from '../errors.ts';
import { type Limits, createMemoryLimits } from '../platform/limits/index.ts';
import { type DrawLayer, DrawRefusal, drawOverImage, drawOverVideo } from './draw.ts';
import type { ResolvedMedia } from './render.ts';

/** Bumped when drawing changes, so older renders are not reused for the new look. */
const RENDERER_VERSION = 1;
/** A template clip longer than this is refused: personalised video is for short clips. */
export const MAX_BASE_VIDEO_MS = 60_000;
const MAX_LAYER_IMAGE_BYTES = 10 * 1024 * 1024;

export interface PersonaliseDeps {
  db: Database;
  blobs: BlobStore;
  clock: () => number;
  log: FastifyBaseLogger;
  config: { outboundAllowPrivate: boolean; outboundTimeoutMs: number; mediaMaxImagePixels: number; templatePreviewRendersPerHour: number };
  /** Stores a rendered file as a media item of `ownerId`, processed like an upload (media's ingest). */
  ingest: (ownerId: string, file: string, filename: string) => Promise<{ id: string }>;
  /** Where preview renders are counted (default: this process's memory). */
  limits?: Limits;
}

export type PersonaliseResult = { ok: true; mediaId: string; kind: 'image' | 'video'; cached: boolean } | { ok: false; reason: string };

class Refusal extends Error {}

async function readBlob(blobs: BlobStore, key: string): Promise<Buffer> {
  const read = await blobs.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** JSON with keys sorted at every level: equal specs, equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A small counting semaphore: rendering is CPU-bound, so only a few run at once per process. */
function limiter(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await fn();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

export function createPersonaliser(deps: PersonaliseDeps) {
  const { db, blobs, config } = deps;
  const images = limiter(Math.max(1, availableParallelism()));
  const videos = limiter(1);
  // Identical renders asked for at once (a campaign's first recipients called Ann) share one.
  const inFlight = new Map<string, Promise<PersonaliseResult>>();
  // New (uncached) renders a business's previews may make per hour: each is a stored media item.
  const previewRenders = (deps.limits ?? createMemoryLimits()).limiter({ name: 'template-preview-render', max: config.templatePreviewRendersPerHour, windowMs: 60 * 60 * 1000, clock: deps.clock });

  async function ownMedia(businessId: string, mediaId: string, what: string): Promise<MediaRow> {
    const row = await loadMedia(db.db, mediaId);
    if (!row || row.owner_id !== businessId || row.status === 'removed') throw new Refusal(`${what} ${mediaId} is not a media item of this business`);
    if (row.status !== 'ready') throw new Refusal(`${what} ${mediaId} is ${row.status}, not ready`);
    return row;
  }

  async function fetchImage(url: string, index: number): Promise<Buffer> {
    try {
      const answer = await outboundFetch({ url, allowPrivate: config.outboundAllowPrivate, timeoutMs: config.outboundTimeoutMs, maxResponseBytes: MAX_LAYER_IMAGE_BYTES, maxRedirects: 3 });
      if (answer.status !== 200) throw new Refusal(`image layer ${index}: ${url} answered ${answer.status}`);
      return answer.body;
    } catch (err) {
      if (err instanceof OutboundError) throw new Refusal(`image layer ${index}: ${err.code === 'blocked_address' ? 'the URL points at a private or reserved address' : err.message}`);
      throw err;
    }
  }

  /** The base and each layer's source, checked, and the cache key they make. */
  async function resolve(businessId: string, spec: ResolvedMedia) {
    const base = await ownMedia(businessId, spec.base_media_id, 'the base media');
    if (base.kind !== 'image' && base.kind !== 'video') throw new Refusal(`the base media is ${base.kind ?? 'unknown'}: an image or a short video is needed`);
    if (base.kind === 'video' && Number(base.duration_ms ?? 0) > MAX_BASE_VIDEO_MS) throw new Refusal(`the base video is longer than ${MAX_BASE_VIDEO_MS / 1000} s`);
    const sources: (MediaRow | string | null)[] = [];
    const keyed: unknown[] = [];
    const baseArea = Math.max(1, Number(base.width ?? 0) * Number(base.height ?? 0));
    for (const [i, layer] of spec.layers.entries()) {
      // Anything past the base's edges is cut off anyway; a huge box would only cost memory.
      if (layer.type === 'image' && layer.width * layer.height > 4 * baseArea) throw new Refusal(`image layer ${i} is much larger than the base`);
      if (layer.type === 'text') {
        sources.push(null);
        keyed.push(layer);
      } else if (layer.media_id !== undefined) {
        const row = await ownMedia(businessId, layer.media_id, `image layer ${i}:`);
        if (row.kind !== 'image') throw new Refusal(`image layer ${i}: ${layer.media_id} is not an image`);
        sources.push(row);
        keyed.push({ ...layer, media_id: undefined, source: row.original_key });
      } else {
        sources.push(layer.url!);
        keyed.push(layer);
      }
    }
    const key = createHash('sha256')
      .update(canonicalJson({ renderer: RENDERER_VERSION, business: businessId, base: base.original_key, kind: base.kind, layers: keyed }))
      .digest('hex');
    return { base, sources, key };
  }

  async function cachedRender(key: string): Promise<{ mediaId: string; kind: 'image' | 'video' } | null> {
    const row = await db.db.selectFrom('template_renders').select(['media_id', 'kind']).where('cache_key', '=', key).executeTakeFirst();
    if (!row) return null;
    const media = await loadMedia(db.db, row.media_id);
    // A render taken down or failed is drawn again rather than sent broken.
    if (!media || media.status === 'removed' || media.status === 'failed') {
      await db.db.deleteFrom('template_renders').where('cache_key', '=', key).where('media_id', '=', row.media_id).execute();
      return null;
    }
    return { mediaId: row.media_id, kind: row.kind as 'image' | 'video' };
  }

  async function draw(spec: ResolvedMedia, base: MediaRow, sources: (MediaRow | string | null)[]): Promise<{ bytes: Buffer; ext: string }> {
    const layers: DrawLayer[] = [];
    for (const [i, layer] of spec.layers.entries()) {
      const source = sources[i];
      if (layer.type === 'text') layers.push(layer);
      else if (typeof source === 'string') layers.push({ ...layer, bytes: await fetchImage(source, i) });
      else if (source) {
        const r = renditionsOf(source);
        const k = r['preview.jpg']?.key ?? r['preview.webp']?.key;
        if (!k) throw new Refusal(`image layer ${i}: the image has no preview rendition`);
        layers.push({ ...layer, bytes: await readBlob(blobs, k) });
      }
    }
    const r = renditionsOf(base);
    const designWidth = Number(base.width ?? 0);
    if (base.kind === 'image') {
      const k = r['preview.jpg']?.key;
      if (!k) throw new Refusal('the base image has no preview rendition');
      const out = await images(async () => drawOverImage({ base: await readBlob(blobs, k), designWidth, layers, maxPixels: config.mediaMaxImagePixels }));
      return { bytes: out.bytes, ext: 'jpg' };
    }
    const mp4 = r.mp4;
    if (!mp4) throw new Refusal('the base video has no mp4 rendition');
    const videoWidth = Number((mp4 as { width?: number }).width ?? designWidth);
    const out = await videos(async () => drawOverVideo({ base: await readBlob(blobs, mp4.key), designWidth, videoWidth, layers, maxPixels: config.mediaMaxImagePixels }));
    return { bytes: out.bytes, ext: 'mp4' };
  }

  async function renderOnce(businessId: string, spec: ResolvedMedia, key: string, base: MediaRow, sources: (MediaRow | string | null)[], preview: boolean): Promise<PersonaliseResult> {
    const hit = await cachedRender(key);
    if (hit) return { ok: true, ...hit, cached: true };
    if (preview) {
      const wait = await previewRenders.hit(businessId);
      if (wait > 0) throw new AppError('rate_limited', `this business's previews made ${config.templatePreviewRendersPerHour} new personalised renders this hour; retry in ${Math.ceil(wait / 60_000)} min (previews of values already rendered still answer)`);
    }
    let drawn: { bytes: Buffer; ext: string };
    try {
      drawn = await draw(spec, base, sources);
    } catch (err) {
      if (err instanceof DrawRefusal) throw new Refusal(err.message);
      throw err;
    }
    const work = await mkdtemp(path.join(tmpdir(), 'mmd-render-'));
    let mediaId: string;
    try {
      const file = path.join(work, `personalised.${drawn.ext}`);
      await writeFile(file, drawn.bytes);
      mediaId = (await deps.ingest(businessId, file, `personalised.${drawn.ext}`)).id;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const kind = base.kind as 'image' | 'video';
    try {
      await db.writeTransaction(async (tx) => {
        await tx.insertInto('template_renders').values({ cache_key: key, business_id: businessId, media_id: mediaId, kind, created_at: deps.clock() }).execute();
      });
    } catch (err) {
      // Another process drew the same render at the same moment: use the one recorded first.
      if (!isUniqueViolation(err)) throw err;
      const winner = await cachedRender(key);
      if (winner) return { ok: true, ...winner, cached: true };
    }
    return { ok: true, mediaId, kind, cached: false };
  }

  return {
    /**
     * The media item showing `spec` for a business: an earlier identical render, or a new one.
     * A recipient-level problem (a layer URL refused, a base not ready, a layer too large to draw)
     * is `{ ok: false, reason }`. `preview`: the render counts against the business's hourly
     * allowance of new preview renders (templatePreviewRendersPerHour; past it, rate_limited).
     */
    async personalise(businessId: string, spec: ResolvedMedia, options: { preview?: boolean } = {}): Promise<PersonaliseResult> {
      try {
        const { base, sources, key } = await resolve(businessId, spec);
        let pending = inFlight.get(key);
        if (!pending) {
          pending = renderOnce(businessId, spec, key, base, sources, options.preview === true).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        return await pending;
      } catch (err) {
        if (err instanceof Refusal) return { ok: false, reason: err.message };
        throw err;
      }
    },
    /** The cache key a spec would have (for tests and diagnostics). */
    async cacheKey(businessId: string, spec: ResolvedMedia): Promise<string> {
      return (await resolve(businessId, spec)).key;
    },
  };
}

export type Personaliser = ReturnType<typeof createPersonaliser>;
