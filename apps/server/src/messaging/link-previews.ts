/**
 * Link previews: the server reads the page of the first link in a message and attaches its title,
 * description and picture — never the sender's device (which could forge them) and never the
 * readers' devices (which would tell every site who reads a chat, and when).
 *
 * The path: `send` writes a `pending` row and a `link-preview` job in the message's transaction
 * (nothing on the request path). The job, on a queue of its own so a slow site never holds the
 * slots media processing needs, reads the page through `platform/outbound.ts` (DNS checked
 * against private, loopback, link-local, ULA and IPv4-mapped ranges, the connection pinned to the
 * checked address, each of at most 3 redirects checked again, one deadline, only the first
 * 256 KiB read), scans its metadata with a bounded parser (link-preview-html.ts), and fetches the
 * picture the same way (5 MiB at most, an image type), handing it to the media engine as a file the
 * server made for the sender (`media.ingest`: probed, stripped, resized, screened like any upload).
 * Once that picture is processed (a follow-up step polls it) the preview is written and
 * `message.link_preview` tells the chat.
 *
 * Abuse: a failed, refused or empty fetch ends the same way (no preview, no event, no reason
 * kept), so a preview is no oracle for internal hosts; private targets are refused unless the
 * operator allows them. Each sender has an allowance of page fetches per minute; what a URL's page
 * said is kept a day (an empty answer an hour), so a link shared a thousand times is fetched once.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LinkPreview } from '@mmd/contracts';
import { linksOf, parseRichText } from '@mmd/contracts/rich-text';
import { attachPreviewImage, loadMediaRows, summarise } from '../media/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { OutboundError, type OutboundRequest, type OutboundResponse, outboundFetch } from '../platform/outbound.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { type PageMeta, parsePageMeta, MAX_HTML_CHARS } from './link-preview-html.ts';
import type { LinkPreviewsTable } from './schema.ts';
import { audienceOf } from './views.ts';

/** The link a message's preview is made of: the first http(s) link in its text outside code. */
export function previewLink(text: string | null | undefined): string | null {
  if (!text) return null;
  return linksOf(parseRichText(text))[0] ?? null;
}

const PAGE_TIMEOUT_MS = 5_000;
const IMAGE_BYTES = 5 * 1024 * 1024;
const CACHE_OK_MS = 24 * 3_600_000;
const CACHE_EMPTY_MS = 3_600_000;
/** How long the picture may take to be processed before the preview goes out without it. */
const IMAGE_WAIT_STEPS = 30;
const IMAGE_STEP_MS = 2_000;

export type LinkPreviewStep = { messageId: string; step: 'fetch' } | { messageId: string; step: 'image'; attempt: number };

export interface LinkPreviewDeps {
  db: Database;
  write: WriteWithEvents;
  clock: () => number;
  /** The operator's setting (config outboundAllowPrivate): tests reach loopback with it. */
  allowPrivate: boolean;
  /** Page fetches per sender per minute (cache hits are free). */
  perMinute: number;
  /** Where a fetched picture waits for the media engine. */
  tmpDir: string;
  /** The media engine: stores and processes a file made for an account (media.ingest). */
  ingest: (ownerId: string, file: string, filename: string) => Promise<{ id: string }>;
  /** The next step of a preview's job (on the link-preview queue), at `runAt`. */
  enqueue: (tx: Tx | null, step: LinkPreviewStep, runAt?: number) => Promise<unknown>;
  /** Tests stand in for the network's resolver or the fetch itself. */
  fetch?: (request: OutboundRequest) => Promise<OutboundResponse>;
  log?: { warn: (obj: object, msg: string) => void };
}

/** A preview row as the API shows it (its picture summarised, or null while it is not ready). */
export async function previewViews(db: Database['db'] | Tx, messageIds: string[]): Promise<Map<string, LinkPreview>> {
  const out = new Map<string, LinkPreview>();
  if (messageIds.length === 0) return out;
  const rows = await db.selectFrom('link_previews').selectAll().where('message_id', 'in', messageIds).where('status', '=', 'ready').execute();
  if (rows.length === 0) return out;
  const images = new Map((await loadMediaRows(db, rows.flatMap((r) => (r.image_media_id ? [r.image_media_id] : [])))).map((m) => [m.id, m]));
  for (const r of rows) {
    const image = r.image_media_id ? images.get(r.image_media_id) : undefined;
    out.set(r.message_id, {
      url: r.url,
      title: r.title,
      description: r.description,
      site_name: r.site_name,
      image: image && image.status === 'ready' && image.kind === 'image' ? summarise(image) : null,
    });
  }
  return out;
}

/** In `send`'s transaction: a preview to make for this message, if its text has a link. */
export async function planLinkPreview(tx: Tx, o: { messageId: string; conversationId: string; senderId: string; text: string | null; now: number; enqueue: LinkPreviewDeps['enqueue'] }): Promise<void> {
  const url = previewLink(o.text);
  if (!url) return;
  await tx
    .insertInto('link_previews')
    .values({ message_id: o.messageId, conversation_id: o.conversationId, sender_id: o.senderId, url, status: 'pending', title: null, description: null, site_name: null, image_media_id: null, fetched: 0, created_at: o.now, updated_at: o.now })
    .execute();
  await o.enqueue(tx, { messageId: o.messageId, step: 'fetch' });
}

export function createLinkPreviews(deps: LinkPreviewDeps) {
  const { db, write, clock } = deps;
  const fetch = deps.fetch ?? outboundFetch;

  async function pendingRow(messageId: string): Promise<LinkPreviewsTable | undefined> {
    return db.db.selectFrom('link_previews').selectAll().where('message_id', '=', messageId).where('status', '=', 'pending').executeTakeFirst();
  }

  /** The page's metadata, or null: every failure is the same null (no oracle). */
  async function readPage(url: string): Promise<PageMeta | null> {
    try {
      const res = await fetch({
        url,
        method: 'GET',
        headers: { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1', 'user-agent': 'MMD-LinkPreview/1 (+link previews)' },
        timeoutMs: PAGE_TIMEOUT_MS,
        maxResponseBytes: MAX_HTML_CHARS,
        truncate: true,
        maxRedirects: 3,
        allowPrivate: deps.allowPrivate,
      });
      if (res.status < 200 || res.status >= 300) return null;
      const type = String(res.headers['content-type'] ?? '').toLowerCase();
      if (!type.includes('html')) return null;
      const meta = parsePageMeta(res.body.toString('utf8'));
      // Relative picture URLs are relative to the page that answered (after redirects).
      if (meta.image) {
        try {
          const abs = new URL(meta.image, res.url);
          meta.image = abs.protocol === 'https:' || abs.protocol === 'http:' ? abs.toString() : null;
        } catch {
          meta.image = null;
        }
      }
      return meta;
    } catch (err) {
      if (!(err instanceof OutboundError)) deps.log?.warn({ err, url }, 'link preview: page fetch failed');
      return null;
    }
  }

  /** The picture as a media item of the sender's, still processing; null when it cannot be had. */
  async function readImage(url: string, ownerId: string): Promise<string | null> {
    let file: string | null = null;
    try {
      const res = await fetch({ url, method: 'GET', headers: { accept: 'image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.8' }, timeoutMs: PAGE_TIMEOUT_MS, maxResponseBytes: IMAGE_BYTES, maxRedirects: 3, allowPrivate: deps.allowPrivate });
      if (res.status < 200 || res.status >= 300 || res.body.length === 0) return null;
      if (!String(res.headers['content-type'] ?? '').toLowerCase().startsWith('image/')) return null;
      file = path.join(deps.tmpDir, `link-preview-${randomUUID()}`);
      await writeFile(file, res.body, { mode: 0o600 });
      // The media engine sniffs the type from the bytes and refuses what is not an image it can read.
      return (await deps.ingest(ownerId, file, 'link-preview')).id;
    } catch (err) {
      if (!(err instanceof OutboundError)) deps.log?.warn({ err, url }, 'link preview: picture fetch failed');
      return null;
    } finally {
      if (file) await rm(file, { force: true });
    }
  }

  /** Writes the preview (or "none") and tells the chat, unless its sender removed it meanwhile. */
  async function finish(messageId: string, fields: { title: string | null; description: string | null; siteName: string | null; imageId: string | null }) {
    await write(async (tx, emit) => {
      const message = await tx.selectFrom('messages').select(['id', 'conversation_id', 'deleted_at', 'status', 'written_cursor']).where('id', '=', messageId).executeTakeFirst();
      const image = fields.imageId ? (await loadMediaRows(tx, [fields.imageId]))[0] : undefined;
      const imageOk = image && image.status === 'ready' && image.kind === 'image' ? image : undefined;
      const empty = !fields.title && !fields.description && !imageOk;
      const now = clock();
      const status = empty || !message || message.deleted_at !== null ? 'none' : 'ready';
      const updated = await tx
        .updateTable('link_previews')
        .set({ status, title: fields.title, description: fields.description, site_name: fields.siteName, image_media_id: imageOk?.id ?? null, updated_at: now })
        .where('message_id', '=', messageId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0 || status !== 'ready' || !message) return;
      if (imageOk) await attachPreviewImage(tx, { messageId, mediaId: imageOk.id });
      const view = (await previewViews(tx, [messageId])).get(messageId) ?? null;
      await emit({ type: 'message.link_preview', conversationId: message.conversation_id, membersJoinedBy: audienceOf(message), data: { message_id: messageId, link_preview: view }, at: now });
    });
  }

  async function fetchStep(messageId: string) {
    const row = await pendingRow(messageId);
    if (!row) return 'gone';
    const now = clock();
    const cached = await db.db.selectFrom('link_preview_cache').selectAll().where('url', '=', row.url).executeTakeFirst();
    let fields: { title: string | null; description: string | null; site_name: string | null; image_media_id: string | null };
    let outcome: string;
    if (cached && Number(cached.fetched_at) > now - (Number(cached.ok) === 1 ? CACHE_OK_MS : CACHE_EMPTY_MS)) {
      fields = { title: cached.title, description: cached.description, site_name: cached.site_name, image_media_id: cached.image_media_id };
      outcome = 'cached';
    } else {
      // The sender's allowance: page fetches in the last minute.
      const recent = await db.db
        .selectFrom('link_previews')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('sender_id', '=', row.sender_id)
        .where('created_at', '>', now - 60_000)
        .where('fetched', '=', 1)
        .executeTakeFirstOrThrow();
      if (Number(recent.n) >= deps.perMinute) {
        await finish(messageId, { title: null, description: null, siteName: null, imageId: null });
        return 'over_allowance';
      }
      await db.db.updateTable('link_previews').set({ fetched: 1 }).where('message_id', '=', messageId).execute();
      const meta = await readPage(row.url);
      const imageId = meta?.image ? await readImage(meta.image, row.sender_id) : null;
      const ok = Boolean(meta && (meta.title || meta.description || imageId));
      fields = { title: meta?.title ?? null, description: meta?.description ?? null, site_name: meta?.siteName ?? null, image_media_id: imageId };
      const cache = { ok: ok ? 1 : 0, ...fields, fetched_at: clock() };
      await db.db
        .insertInto('link_preview_cache')
        .values({ url: row.url, ...cache })
        .onConflict((oc) => oc.column('url').doUpdateSet(cache))
        .execute();
      // Old entries go as new ones come (index on fetched_at).
      await db.db.deleteFrom('link_preview_cache').where('fetched_at', '<', now - CACHE_OK_MS).execute();
      outcome = ok ? 'fetched' : 'none';
    }
    if (fields.image_media_id) {
      // Kept on the row until the picture is processed (a cached one usually is): the preview goes out then.
      await write(async (tx) => {
        await tx.updateTable('link_previews').set(fields).where('message_id', '=', messageId).where('status', '=', 'pending').execute();
        await deps.enqueue(tx, { messageId, step: 'image', attempt: 1 }, clock() + IMAGE_STEP_MS / 4);
      });
      return `${outcome}+image`;
    }
    await finish(messageId, { title: fields.title, description: fields.description, siteName: fields.site_name, imageId: null });
    return outcome;
  }

  async function imageStep(messageId: string, attempt: number) {
    const row = await pendingRow(messageId);
    if (!row) return 'gone';
    const image = row.image_media_id ? (await loadMediaRows(db.db, [row.image_media_id]))[0] : undefined;
    if (image?.status === 'processing' && attempt < IMAGE_WAIT_STEPS) {
      await write(async (tx) => {
        await deps.enqueue(tx, { messageId, step: 'image', attempt: attempt + 1 }, clock() + IMAGE_STEP_MS);
      });
      return 'waiting';
    }
    await finish(messageId, { title: row.title, description: row.description, siteName: row.site_name, imageId: row.image_media_id });
    return 'ready';
  }

  return {
    /** The `link-preview` job: one step of one message's preview. */
    async run(step: LinkPreviewStep): Promise<string> {
      return step.step === 'fetch' ? fetchStep(step.messageId) : imageStep(step.messageId, step.attempt);
    },
  };
}

export type LinkPreviews = ReturnType<typeof createLinkPreviews>;
