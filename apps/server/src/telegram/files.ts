/**
 * Files on the Telegram path. A file a bot sends arrives three ways, as in the Bot API: uploaded
 * in the multipart body (under its own field name or `attach://<name>`), as an https URL MMD
 * fetches (through the SSRF-safe outbound fetch), or as a file_id it saw before. Each becomes an
 * MMD media item the bot owns, processed (and screened) like any upload; a file_id of an item
 * the bot does not own is copied from the rendition the bot may already see. Downloads
 * (`/telegram/file/bot<TOKEN>/<file_path>`) check the bot's right to see the item on every request.
 */
import type { Readable } from 'node:stream';
import type { Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import { type Media, type MediaRow, loadMedia, renditionsOf } from '../media/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import { TelegramError, badRequest, fromAppError } from './errors.ts';
import { parseFileId } from './objects.ts';

/** Fetches a URL for the bot: SSRF-safe, size-capped, with a timeout (platform/outbound.ts). */
export type FetchUrl = (url: string, options: { maxBytes: number; signal?: AbortSignal }) => Promise<{ body: Readable; filename: string | null }>;

export interface FileDeps {
  db: Database;
  media: Media;
  blobs: BlobStore;
  fetchUrl: FetchUrl | null;
  maxUrlBytes: number;
}

/** The rendition that stands for a file_id: the full picture, the MP4, the Opus voice, the document itself. */
export function renditionFor(row: MediaRow, size: 'full' | 'thumbnail'): string | null {
  const renditions = renditionsOf(row);
  const order =
    size === 'thumbnail'
      ? ['thumbnail.jpg', 'poster']
      : row.kind === 'image'
        ? ['preview.jpg', 'thumbnail.jpg']
        : row.kind === 'video'
          ? ['mp4', 'poster']
          : row.kind === 'audio'
            ? ['opus', 'aac']
            : ['file'];
  return order.find((name) => renditions[name]) ?? null;
}

export function createFiles(deps: FileDeps) {
  const { db, media, blobs } = deps;

  /** The item behind a file_id, if this bot may see it (not found otherwise: no oracle). */
  async function visible(bot: Principal, fileId: string): Promise<{ row: MediaRow; size: 'full' | 'thumbnail' }> {
    const parsed = parseFileId(fileId);
    if (!parsed) throw badRequest('wrong file identifier/HTTP URL specified');
    try {
      await media.view(bot, parsed.mediaId);
    } catch (err) {
      if (err instanceof AppError) throw badRequest('wrong file identifier/HTTP URL specified');
      throw err;
    }
    const row = await loadMedia(db.db, parsed.mediaId);
    if (!row) throw badRequest('wrong file identifier/HTTP URL specified');
    return { row, size: parsed.size };
  }

  async function upload(bot: Principal, body: Readable, filename: string | null): Promise<string> {
    try {
      const reply = await media.upload(bot, body, { filename });
      if (reply.status === 'failed') throw badRequest('the file is empty or could not be read');
      return reply.id;
    } catch (err) {
      if (err instanceof AppError) throw fromAppError(err);
      throw err;
    }
  }

  return {
    upload,

    /** A media id the bot owns for an InputFile-ish value: an uploaded part, a URL or a file_id. */
    async resolveInput(bot: Principal, value: unknown, uploaded: Map<string, string>, field: string, options: { copy?: boolean } = {}): Promise<string> {
      if (typeof value !== 'string' || value === '') throw badRequest(`there is no ${field} in the request`);
      let input: string = value;
      const attach = /^attach:\/\/(.+)$/.exec(input);
      if (attach) {
        const id = uploaded.get(attach[1]!);
        if (!id) throw badRequest(`file attach://${attach[1]} not found in the request`);
        if (!options.copy) return id;
        input = id;
      }
      if (/^https?:\/\//i.test(input)) {
        if (!deps.fetchUrl) throw badRequest('sending files by URL is not enabled on this server');
        let fetched: Awaited<ReturnType<FetchUrl>>;
        try {
          fetched = await deps.fetchUrl(input, { maxBytes: deps.maxUrlBytes });
        } catch (err) {
          if (err instanceof TelegramError) throw err;
          throw badRequest(`failed to get HTTP URL content${err instanceof Error ? `: ${err.message}` : ''}`);
        }
        return upload(bot, fetched.body, fetched.filename);
      }
      const { row, size } = await visible(bot, input);
      if (row.owner_id === bot.accountId && size === 'full' && !options.copy) return row.id;
      // Another's item (or a thumbnail): the bot sends its own copy of what it can see.
      const name = renditionFor(row, size);
      if (!name) throw badRequest('wrong file identifier/HTTP URL specified');
      const rendition = renditionsOf(row)[name]!;
      const read = await blobs.get(rendition.key);
      return upload(bot, read.body, row.filename);
    },

    /** getFile: the File object for a file_id (its path names the item and the rendition). */
    async describe(bot: Principal, fileId: string) {
      const { row, size } = await visible(bot, fileId);
      if (row.status !== 'ready') return { file_id: fileId, file_unique_id: fileId };
      const name = renditionFor(row, size);
      if (!name) return { file_id: fileId, file_unique_id: fileId };
      const rendition = renditionsOf(row)[name]!;
      const extension = name.includes('.') ? '' : { mp4: '.mp4', opus: '.ogg', aac: '.m4a', poster: '.jpg', file: extensionOf(row.filename) }[name] ?? '';
      return { file_id: fileId, file_unique_id: fileId, ...(rendition.size ? { file_size: rendition.size } : {}), file_path: `${row.id}/${name}${extension}` };
    },

    /** The bytes behind a file_path, if the bot may still see the item. */
    async open(bot: Principal, filePath: string) {
      const m = /^(med_[A-Za-z0-9_-]{4,40})\/([a-z0-9]+(?:\.[a-z0-9]+)?)(\.[A-Za-z0-9]{1,8})?$/.exec(filePath);
      if (!m) return null;
      const row = await loadMedia(db.db, m[1]!);
      if (row?.status !== 'ready') return null;
      const viewable = await media.view(bot, row.id).then(() => true, () => false);
      if (!viewable) return null;
      const rendition = renditionsOf(row)[m[2]!];
      // Only the renditions a file_id can name (not HLS segments or adapted copies).
      if (!rendition || !['preview.jpg', 'thumbnail.jpg', 'poster', 'mp4', 'opus', 'aac', 'file'].includes(m[2]!)) return null;
      const read = await blobs.get(rendition.key);
      return { body: read.body, mime: rendition.mime, size: rendition.size ?? null, filename: row.filename };
    },
  };
}

function extensionOf(filename: string | null): string {
  const m = filename ? /(\.[A-Za-z0-9]{1,8})$/.exec(filename) : null;
  return m ? m[1]! : '';
}

export type Files = ReturnType<typeof createFiles>;
