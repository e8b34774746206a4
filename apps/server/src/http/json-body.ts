/**
 * JSON bodies: strictly UTF-8 (Node would silently turn invalid bytes into U+FFFD and store
 * mangled text), parsed without prototype pollution, with a clear code for each failure.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

class NulInString extends Error {}

function parseSafely(text: string): unknown {
  return JSON.parse(text, (key, value) => {
    if (key === '__proto__' || key === 'constructor') return undefined;
    // PostgreSQL text cannot hold NUL, and no message needs one: refuse it on every database.
    if (typeof value === 'string' && value.includes('\u0000')) throw new NulInString();
    return value;
  });
}

export function installJsonBodyParser(app: FastifyInstance) {
  // JSON only: a text/plain body to a JSON API is a client bug, answered 415, not parsed as a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'buffer' }, (_request, body, done) => {
    const buffer = body as Buffer;
    if (buffer.length === 0) return done(null, undefined);
    if (!isUtf8(buffer)) return done(new AppError('invalid_utf8', 'the body is not valid UTF-8'), undefined);
    try {
      done(null, parseSafely(buffer.toString('utf8')));
    } catch (err) {
      if (err instanceof NulInString) {
        return done(new AppError('validation_failed', 'strings may not contain NUL characters', { errors: [{ path: 'body', message: 'contains NUL' }] }), undefined);
      }
      done(new AppError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
