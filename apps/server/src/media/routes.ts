import { AdaptQuery, AiDisclosure, MediaItem, UploadReply } from '@mmd/contracts';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Media } from './service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });

function malformedMultipart(err: Error) {
  return new AppError('validation_failed', `the multipart body is malformed: ${err.message}`, { errors: [{ path: 'body', message: 'not valid multipart/form-data' }] });
}

export function mediaRoutes(deps: { media: Media; blobs: BlobStore; authenticate: Authenticate; maxSingleUpload: number }): FastifyPluginAsyncTypebox {
  const { media, authenticate } = deps;
  return async (app) => {
    await app.register(multipart, { limits: { files: 1, fields: 4, fileSize: deps.maxSingleUpload } });
    // Any other content type is the file itself (a raw-body upload); read as a stream, never buffered.
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    app.post('/v1/media', {
      schema: {
        'x-mmd-scope': 'messages:write',
        tags: ['media'],
        summary: 'Upload a file in one request: multipart/form-data (field "file") or the raw bytes as the body. Larger files: /v1/uploads (tus).',
        querystring: Type.Object({ filename: Type.Optional(Type.String({ maxLength: 255 })), ai: Type.Optional(AiDisclosure) }, { additionalProperties: false }),
        response: { 202: UploadReply },
      },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const length = request.headers['content-length'] ? Number(request.headers['content-length']) : undefined;
      let result: UploadReply;
      if (request.isMultipart()) {
        const part = await request.file().catch((err: Error & { statusCode?: number }) => {
          // The multipart library's own refusals (too many files, too large) keep their 4xx; a body
          // it cannot parse (no boundary, cut off, garbage) is the client's mistake, not ours.
          if (err.statusCode && err.statusCode < 500) throw err;
          throw malformedMultipart(err);
        });
        if (!part) throw new AppError('validation_failed', 'the multipart body has no file part', { errors: [{ path: 'body/file', message: 'required' }] });
        // Content-Length covers the multipart envelope too, so it bounds the request, not the file.
        result = await media.upload(principal, part.file, { filename: part.filename, aiDisclosure: request.query.ai, declaredLength: length, lengthIncludesEnvelope: true });
        if (part.file.truncated) throw new AppError('upload_too_large', 'the upload is too large for a single request; use /v1/uploads (tus)');
      } else {
        result = await media.upload(principal, request.raw, { filename: request.query.filename ?? null, aiDisclosure: request.query.ai, declaredLength: length });
      }
      return reply.status(202).send(result);
    });

    app.get('/v1/media/:id', { schema: { 'x-mmd-scope': 'messages:read', tags: ['media'], summary: 'A media item: status, size, and signed rendition URLs', params: Type.Object({ id: Id }), response: { 200: MediaItem } } }, async (request) => {
      const principal = await authenticate(request);
      return media.view(principal, request.params.id);
    });

    app.get('/v1/media/:id/adapt', {
      schema: { 'x-mmd-scope': 'messages:read', tags: ['media'], summary: 'The item adapted to a byte budget and accepted formats (as an MMS centre does); the bytes themselves', params: Type.Object({ id: Id }), querystring: AdaptQuery },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const accept = (request.query.accept ?? 'image/jpeg,video/mp4,audio/mp4').split(',').map((s) => s.trim()).filter(Boolean);
      const adapted = await media.adapt(principal, request.params.id, { maxBytes: request.query.max_bytes, accept });
      const read = await deps.blobs.get(adapted.key);
      return reply.header('content-type', adapted.mime).header('content-length', adapted.size).header('cache-control', 'private, max-age=3600').send(read.body);
    });
  };
}
