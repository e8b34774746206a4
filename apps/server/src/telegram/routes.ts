/**
 * The Telegram Bot API path: `/telegram/bot<TOKEN>/<method>` (GET or POST; query string, JSON,
 * form or multipart) and `/telegram/file/bot<TOKEN>/<file_path>`. Every answer is Telegram's
 * envelope — `{ok: true, result}` or `{ok: false, error_code, description, parameters?}` with the
 * HTTP status equal to error_code — never MMD's problem+json, since Telegram libraries parse it.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import { TelegramError, badRequest, fromAppError, notFound, unauthorized } from './errors.ts';
import type { Files } from './files.ts';
import type { Params } from './params.ts';
import type { TelegramService } from './service.ts';

export interface TelegramRouteDeps {
  service: TelegramService;
  files: Files;
  /** The bot behind a token, or null (unknown, revoked, or not a bot). */
  authenticateBot: (token: string) => Promise<Principal | null>;
  maxUploadBytes: number;
}

function send(reply: FastifyReply, error: TelegramError) {
  if (error.parameters?.retry_after) reply.header('retry-after', String(error.parameters.retry_after));
  return reply.status(error.errorCode).type('application/json').send(error.toJSON());
}

/** Any failure as Telegram's error object; a bug is logged and answered 500 without detail. */
function toTelegram(err: unknown, request: FastifyRequest): TelegramError {
  if (err instanceof TelegramError) return err;
  if (err instanceof AppError) return fromAppError(err);
  const fastifyError = err as { statusCode?: number; code?: string; message?: string };
  if (fastifyError.statusCode === 413 || fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.code === 'FST_REQ_FILE_TOO_LARGE') return new TelegramError(413, 'Request Entity Too Large');
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) return badRequest(fastifyError.message ?? 'the request is not valid');
  request.log.error({ err, request_id: request.id }, 'telegram method failed');
  return new TelegramError(500, 'Internal Server Error');
}

const TOKEN = /^bot([A-Za-z0-9:_-]{10,200})\/(.*)$/;

export function telegramRoutes(deps: TelegramRouteDeps) {
  const { service } = deps;
  return async (app: FastifyInstance) => {
    await app.register(multipart, { limits: { files: 10, fields: 64, fieldSize: 1024 * 1024, fileSize: deps.maxUploadBytes } });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    app.setErrorHandler((err, request, reply) => send(reply, toTelegram(err, request)));

    async function bot(token: string): Promise<Principal> {
      const principal = await deps.authenticateBot(token);
      if (!principal) throw unauthorized();
      return principal;
    }

    /** Fields and files of a multipart body; each file becomes a media item as it streams in. */
    async function readMultipart(request: FastifyRequest, principal: Principal, params: Params, uploads: Map<string, string>) {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          params[part.fieldname] = part.value;
          continue;
        }
        const id = await deps.files.upload(principal, part.file, part.filename || null);
        if (part.file.truncated) throw new TelegramError(413, 'Request Entity Too Large');
        uploads.set(part.fieldname, id);
      }
    }

    app.route({
      method: ['GET', 'POST'],
      url: '/telegram/*',
      schema: { 'x-mmd-scope': 'public', hide: true },
      handler: async (request, reply) => {
        const rest = (request.params as { '*': string })['*'];
        if (rest.startsWith('file/')) {
          if (request.method !== 'GET') throw notFound();
          const m = TOKEN.exec(rest.slice('file/'.length));
          if (!m) throw notFound();
          const principal = await bot(m[1]!);
          const file = await deps.files.open(principal, decodeURIComponent(m[2]!));
          if (!file) throw notFound();
          reply.header('content-type', file.mime).header('cache-control', 'private, no-store');
          if (file.size !== null) reply.header('content-length', String(file.size));
          return reply.send(file.body);
        }
        const m = TOKEN.exec(rest);
        // Telegram answers 404 for a path that names no bot, and 401 for a token it does not know.
        if (!m) throw notFound();
        const principal = await bot(m[1]!);
        const method = m[2]!;
        if (!service.has(method)) throw notFound();
        const params: Params = { ...(request.query as Params) };
        const uploads = new Map<string, string>();
        if (request.isMultipart()) await readMultipart(request, principal, params, uploads);
        else if (request.body && typeof request.body === 'object') Object.assign(params, request.body as Params);
        const abort = new AbortController();
        reply.raw.on('close', () => abort.abort());
        const result = await service.call(method, { bot: principal, params, uploads, signal: abort.signal });
        return reply.type('application/json').send({ ok: true, result });
      },
    });
  };
}
