/**
 * Resumable uploads with the tus protocol (`/v1/uploads`), for large videos and documents and
 * flaky connections. Each upload belongs to the account that created it; when the last byte
 * arrives it becomes a media item like any other, and the response carries `MMD-Media-Id`.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import type { FastifyPluginAsync } from 'fastify';
import type { Accounts, Principal } from '../accounts/service.ts';
import type { Media } from './service.ts';

export function tusRoutes(deps: { accounts: Accounts; media: Media; directory: string; maxSize: number; log: { error(o: object, m: string): void } }): FastifyPluginAsync {
  const principals = new WeakMap<Request, Principal>();
  const datastore = new FileStore({ directory: deps.directory });
  const refuse = (status_code: number, code: string, detail: string) => ({ status_code, body: JSON.stringify({ status: status_code, code, detail }) });

  const tus = new Server({
    path: '/v1/uploads',
    datastore,
    maxSize: deps.maxSize,
    respectForwardedHeaders: false,
    async onIncomingRequest(req, uploadId) {
      const header = req.headers.get('authorization') ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const principal = token ? await deps.accounts.authenticate(token) : null;
      if (!principal) throw refuse(401, 'unauthenticated', 'send a bearer token in the Authorization header');
      if (!principal.scopes.has('messages:write')) throw refuse(403, 'insufficient_scope', 'uploading needs the "messages:write" scope');
      principals.set(req, principal);
      if (req.method !== 'POST' && uploadId) {
        const upload = await datastore.getUpload(uploadId).catch(() => null);
        // Someone else's upload looks exactly like a missing one.
        if (!upload || upload.metadata?.owner !== principal.accountId) throw refuse(404, 'not_found', 'upload not found');
      }
    },
    async onUploadCreate(req, upload) {
      const principal = principals.get(req)!;
      return { metadata: { ...upload.metadata, owner: principal.accountId } };
    },
    async onUploadFinish(req, upload) {
      const principal = principals.get(req)!;
      const file = path.join(deps.directory, upload.id);
      try {
        const created = await deps.media.uploadFromFile(principal, file, upload.metadata?.filename ?? null);
        return { headers: { 'MMD-Media-Id': created.id, 'Access-Control-Expose-Headers': 'MMD-Media-Id' } };
      } catch (err) {
        deps.log.error({ err }, 'finishing a resumable upload failed');
        throw refuse(500, 'internal_error', 'the upload could not be stored; try again');
      } finally {
        await rm(file, { force: true });
        await rm(`${file}.json`, { force: true });
      }
    },
  });

  return async (app) => {
    // tus reads the body itself; Fastify must leave the stream alone.
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    const handle = async (request: { raw: import('node:http').IncomingMessage }, reply: { hijack(): void; raw: import('node:http').ServerResponse }) => {
      reply.hijack();
      await tus.handle(request.raw, reply.raw);
    };
    for (const url of ['/v1/uploads', '/v1/uploads/*']) {
      app.route({ method: ['POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS'], url, schema: { hide: true }, handler: handle });
    }
  };
}
