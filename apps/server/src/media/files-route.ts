/**
 * Serving media through signed URLs: checks the signature and expiry, that the item still may be
 * served (a takedown stops every URL at once) and that the viewer the link was signed for may
 * still see it (one indexed query: leaving, removal or deletion stops their links at once), picks AVIF/WebP/JPEG from the Accept header for
 * negotiated names, and answers range requests. Renditions are immutable, so caches may keep them
 * until the URL expires.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../errors.ts';
import { type BlobStore, isBlobError } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { UrlSigner } from './signing.ts';
import { type MediaRow, loadMedia, mayView, renditionsOf } from './store.ts';

interface Params {
  mediaId: string;
  viewerId: string;
  expires: string;
  signature: string;
  '*': string;
}

/** Which stored blob a path names, or null. */
function resolveKey(row: MediaRow, name: string, accept: string): { key: string; mime?: string; negotiated: boolean } | null {
  const renditions = renditionsOf(row);
  if (name === 'thumbnail' || name === 'preview') {
    const order = [accept.includes('image/avif') ? 'avif' : null, accept.includes('image/webp') ? 'webp' : null, 'jpg'].filter(Boolean);
    for (const ext of order) {
      const r = renditions[`${name}.${ext}`];
      if (r) return { key: r.key, mime: r.mime, negotiated: true };
    }
    return null;
  }
  const direct = renditions[name];
  if (direct) return { key: direct.key, mime: direct.mime, negotiated: false };
  // HLS playlists and segments, and adapted copies, live under the item's own prefix.
  if (/^(hls|adapted)\/[A-Za-z0-9._\-/]+$/.test(name) && !name.includes('..')) return { key: `media/${row.id}/${name}`, negotiated: false };
  return null;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

export function filesRoute(deps: { db: Database; blobs: BlobStore; signer: UrlSigner; clock: () => number }): FastifyPluginAsync {
  return async (app) => {
    const handler = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      const { mediaId, viewerId, expires, signature } = request.params;
      const name = request.params['*'];
      if (!deps.signer.verify({ mediaId, viewerId, expires, signature }, deps.clock())) throw new AppError('link_expired', 'this media link is invalid or has expired; ask for the item again');
      const row = await loadMedia(deps.db.db, mediaId);
      // A viewer who lost access (left, removed, the message deleted) gets what a stranger gets.
      if (row?.status !== 'ready' || !(await mayView(deps.db.db, row, viewerId))) throw notFound('media');
      const target = resolveKey(row, name, String(request.headers.accept ?? ''));
      if (!target) throw notFound('rendition');
      let info: Awaited<ReturnType<BlobStore['stat']>>;
      try {
        info = await deps.blobs.stat(target.key);
      } catch (err) {
        if (isBlobError(err, 'invalid_key')) throw notFound('rendition');
        throw err;
      }
      if (!info) throw notFound('rendition');
      const range = parseRange(request.headers.range, info.size);
      if (range === 'invalid') {
        reply.header('content-range', `bytes */${info.size}`);
        throw new AppError('range_not_satisfiable', `the range is outside 0-${info.size - 1}`);
      }
      const maxAge = Math.max(0, Number(expires) - Math.floor(deps.clock() / 1000));
      reply
        .header('content-type', target.mime ?? info.contentType)
        .header('accept-ranges', 'bytes')
        .header('cache-control', `private, max-age=${maxAge}, immutable`)
        .header('etag', `"${Buffer.from(target.key).toString('base64url')}"`)
        .header('x-content-type-options', 'nosniff')
        // Uploaded HTML and SVG are served as attachments, but a browser that renders one anyway
        // (opened from a download, an old client) runs it sandboxed: no scripts, no same origin.
        .header('content-security-policy', 'sandbox');
      if (target.negotiated) reply.header('vary', 'Accept');
      if (name === 'file') {
        const filename = (row.filename ?? 'file').replace(/[^\w.\- ]/g, '_');
        reply.header('content-disposition', `attachment; filename="${filename}"`);
      }
      if (request.method === 'HEAD') return reply.header('content-length', info.size).send();
      const read = await deps.blobs.get(target.key, range ?? undefined);
      if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
      reply.header('content-length', read.end - read.start + 1);
      return reply.send(read.body);
    };
    // The signature is the credential: no bearer token (an <img> or <video> cannot send one).
    app.get<{ Params: Params }>('/v1/files/:mediaId/:viewerId/:expires/:signature/*', { schema: { hide: true, 'x-mmd-scope': 'public' } }, handler);
  };
}
