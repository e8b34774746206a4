/**
 * Every error leaves as application/problem+json with a stable `code`. Fastify's own errors
 * (validation, body size, content type) are translated here, so no client ever sees a bare 500
 * for bad input.
 */
import type { ErrorCode, Problem } from '@mmd/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, HTTP_STATUS } from '../errors.ts';
import { isDatabaseUnavailable } from '../platform/db/index.ts';

const TITLES: Partial<Record<ErrorCode, string>> = {
  validation_failed: 'The request is not valid',
  internal_error: 'Something went wrong on our side',
};

export function sendProblem(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, detail: string, errors?: Problem['errors']) {
  const status = HTTP_STATUS[code];
  const body: Problem = {
    type: `https://mmd.dev/problems/${code.replace(/_/g, '-')}`,
    title: TITLES[code] ?? code.replace(/_/g, ' '),
    status,
    code,
    detail,
    request_id: request.id,
    ...(errors ? { errors } : {}),
  };
  return reply.status(status).type('application/problem+json').send(body);
}

/** Maps Fastify's own error codes (FST_ERR_*) to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_ASYNC_CONSTRAINT: 'validation_failed',
};

/** Errors Fastify raises before routing (bad URLs, over-long parameters). */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const code: ErrorCode = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : 'validation_failed';
  return sendProblem(reply, request, code, error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid (bad percent-encoding?)' : error.message.slice(0, 200));
}

/** The request failed because its connection closed before the body arrived. */
function clientWentAway(error: Error, request: FastifyRequest): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  const aborted = code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || error.message === 'aborted';
  return aborted && request.raw.socket.destroyed;
}

export function installErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      if (error.extra.headers) reply.headers(error.extra.headers);
      return sendProblem(reply, request, error.code, error.message, error.extra.errors);
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const errors = fastifyError.validation.map((v) => ({
        path: `${fastifyError.validationContext ?? 'body'}${v.instancePath || ''}${v.keyword === 'required' ? `/${(v.params as { missingProperty?: string }).missingProperty}` : v.keyword === 'additionalProperties' ? `/${(v.params as { additionalProperty?: string }).additionalProperty}` : ''}`,
        message: v.message ?? 'is invalid',
      }));
      return sendProblem(reply, request, 'validation_failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), errors);
    }
    if (fastifyError.statusCode === 429) return sendProblem(reply, request, 'rate_limited', 'too many requests; slow down');
    const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
    if (mapped) return sendProblem(reply, request, mapped, fastifyError.message);
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return sendProblem(reply, request, 'validation_failed', fastifyError.message);
    }
    if (clientWentAway(error, request)) {
      // Not a fault: the client hung up mid-request (a cancelled upload, a closed tab). Nobody is
      // left to answer, and an error-level line per cancelled upload would drown real faults.
      request.log.info({ request_id: request.id, reason: error.message }, 'client aborted the request');
      return reply;
    }
    if (isDatabaseUnavailable(error)) {
      // Not a bug in this request: the database is unreachable or cannot serve. The pool's
      // timeouts bound how long finding that out takes; the client retries, a load balancer
      // reading /readyz stops sending here meanwhile.
      request.log.warn({ err: error, request_id: request.id }, 'database unavailable');
      reply.header('retry-after', '5');
      return sendProblem(reply, request, 'unavailable', 'the database cannot be reached right now; retry shortly');
    }
    request.log.error({ err: error, request_id: request.id }, 'unhandled error');
    return sendProblem(reply, request, 'internal_error', `the request failed; quote request id ${request.id} when reporting it`);
  });

  // NUL cannot be stored in PostgreSQL text and is never meaningful in an id or a query value.
  app.addHook('preValidation', async (request) => {
    for (const source of [request.params, request.query] as unknown[]) {
      if (source && typeof source === 'object') {
        for (const [key, value] of Object.entries(source)) {
          if (typeof value === 'string' && value.includes('\u0000')) {
            throw new AppError('validation_failed', `${key} may not contain NUL characters`, { errors: [{ path: key, message: 'contains NUL' }] });
          }
        }
      }
    }
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, 'route_not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
}
