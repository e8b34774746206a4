/**
 * Serves the built web app (apps/web/dist) at `/`: its files with their content types, and
 * index.html for page paths (one segment deep) so client-side routes such as /protect load on their own.
 * API paths are never answered here — /v1/*, /openapi.json, /healthz and /readyz keep their own
 * routes, and unknown ones get the API's 404 problem. When the app has not been built, `/` says
 * how to build it instead of failing.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** apps/web/dist, next to this server in the monorepo. */
export const DEFAULT_WEB_DIST = path.resolve(import.meta.dirname, '../../../web/dist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Paths that belong to the API, even when no route matches them. */
function isApiPath(pathname: string): boolean {
  return (
    pathname === '/v1' ||
    pathname.startsWith('/v1/') ||
    pathname === '/openapi.json' ||
    pathname === '/healthz' ||
    pathname === '/readyz'
  );
}

/** The page only talks to its own origin; images it previews are local blob: URLs. */
const CSP = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>MMD</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5">
<h1>MMD is running</h1>
<p>The API is up, but the web app has not been built yet. From the repository root run:</p>
<pre><code>npm run build -w apps/web</code></pre>
<p>then reload this page. The API itself is described at <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
`;

/** The build's precompressed copy (scripts/build-web.mjs writes .br and .gz) the client accepts. */
function precompressed(file: string, acceptEncoding: string): { file: string; size: number; encoding: string } | null {
  for (const [encoding, ext] of [['br', '.br'], ['gzip', '.gz']] as const) {
    if (!new RegExp(`\\b${encoding}\\b`).test(acceptEncoding)) continue;
    try {
      const stat = statSync(file + ext);
      if (stat.isFile()) return { file: file + ext, size: stat.size, encoding };
    } catch {
      // no such copy: try the next, or send the file as it is
    }
  }
  return null;
}

function sendFile(reply: FastifyReply, file: string, size: number, cache: string, acceptEncoding = '') {
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const compressed = /^(text\/|application\/json|image\/svg)/.test(type) ? precompressed(file, acceptEncoding) : null;
  if (compressed) {
    file = compressed.file;
    size = compressed.size;
    reply.header('content-encoding', compressed.encoding);
  }
  if (/^(text\/|application\/json|image\/svg)/.test(type)) reply.header('vary', 'accept-encoding');
  reply
    .header('content-type', type)
    .header('content-length', size)
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff');
  if (type.startsWith('text/html'))
    reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
  return reply.send(createReadStream(file));
}

/** A regular file under `root` named by a URL path, or null (never anything outside `root`). */
function fileUnder(root: string, pathname: string): { file: string; size: number } | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  try {
    const stat = statSync(file);
    return stat.isFile() ? { file, size: stat.size } : null;
  } catch {
    return null;
  }
}

export function webRoutes(options: { dist?: string } = {}): FastifyPluginAsync {
  const root = path.resolve(options.dist ?? process.env.MMD_WEB_DIST ?? DEFAULT_WEB_DIST);
  return async (app) => {
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const pathname = request.url.split('?')[0] ?? '/';
      if (isApiPath(pathname)) return reply.callNotFound();
      const index = path.join(root, 'index.html');
      // Checked per request, so building the app while the server runs needs no restart.
      if (!existsSync(index)) {
        if (pathname !== '/' && path.extname(pathname)) return reply.callNotFound();
        return reply
          .status(503)
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(NOT_BUILT);
      }
      const found = pathname === '/' ? null : fileUnder(root, pathname);
      // Vite names everything under assets/ by its content hash: cache it for good.
      if (found)
        return sendFile(
          reply,
          found.file,
          found.size,
          pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          String(request.headers['accept-encoding'] ?? ''),
        );
      // A missing file (it has an extension) is a 404; any other path is a page of the app.
      if (path.extname(pathname)) return reply.callNotFound();
      return sendFile(reply, index, statSync(index).size, 'no-cache');
    };
    // Page paths are one segment deep (/, /protect, /settings), plus the app's two-segment routes
    // (/chats/{id}, /console/{section}), subscribe and unsubscribe pages (/c/{business or channel},
    // /u/{token}), invite links (/join/{token}) and the business console (/business/{handle}/{page}/…);
    // built files live under /assets/. No catch-all '/*': it
    // would swallow unmatched /v1/* paths before the router can say why (an over-long id is a 414,
    // not a 404). Deeper client routes get a pattern of their own here.
    for (const url of ['/', '/:page', '/:page/', '/chats/:id', '/console/:section', '/business/*', '/c/:handle', '/u/:token', '/join/:token', '/assets/*'])
      app.get(url, { schema: { hide: true } }, handler);
  };
}
