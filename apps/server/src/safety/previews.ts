/**
 * What moderators see. By default a preview so blurred that shapes and colours survive but nothing
 * recognisable does (moderators look at harmful images all day; exposure is opt-in). The real
 * preview comes only from an explicit reveal, which is audited by the caller.
 */
import sharp from 'sharp';
import { notFound } from '../errors.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import { type MediaRow, loadMedia, renditionsOf } from '../media/index.ts';

/** Longest side of the blurred preview; the picture is first shrunk to BLUR_DETAIL px, then scaled up soft. */
const BLUR_SIDE = 320;
const BLUR_DETAIL = 12;

async function sourceBytes(blobs: BlobStore, row: MediaRow): Promise<Buffer> {
  const r = renditionsOf(row);
  const key = r['preview.jpg']?.key ?? r.poster?.key ?? r['thumbnail.jpg']?.key;
  if (!key) throw notFound('preview');
  const read = await blobs.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function createPreviews(deps: { db: Database; blobs: BlobStore }) {
  async function load(mediaId: string): Promise<MediaRow> {
    const row = await loadMedia(deps.db.db, mediaId);
    if (!row || row.status === 'removed' || row.status === 'failed') throw notFound('preview');
    return row;
  }
  return {
    async blurred(mediaId: string): Promise<Buffer> {
      const source = await sourceBytes(deps.blobs, await load(mediaId));
      const small = await sharp(source).resize(BLUR_DETAIL, BLUR_DETAIL, { fit: 'inside' }).toBuffer();
      return sharp(small).resize(BLUR_SIDE, BLUR_SIDE, { fit: 'inside', kernel: 'cubic' }).blur(6).jpeg({ quality: 70 }).toBuffer();
    },
    async real(mediaId: string): Promise<Buffer> {
      return sourceBytes(deps.blobs, await load(mediaId));
    },
  };
}

export type Previews = ReturnType<typeof createPreviews>;
