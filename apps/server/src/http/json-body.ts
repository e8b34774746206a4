/**
 * JSON bodies: strictly UTF-8 (Node would silently turn invalid bytes into U+FFFD and store
 * mangled text), with no lone surrogate escapes, parsed without prototype pollution, with a clear
 * code for each failure.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

class NulInString extends Error {}
class LoneSurrogate extends Error {}

/** A UTF-16 surrogate without its pair: what a `\uD800` escape alone decodes to. */
const LONE_SURROGATE = /\p{Cs}/u;

function parseSafely(text: string): unknown {
  return JSON.parse(text, (key, value) => {
    if (key === '__proto__' || key === 'constructor') return undefined;
    // PostgreSQL text cannot hold NUL, and no message needs one: refuse it on every database.
    if (typeof value === 'string' && value.includes('\u0000')) throw new NulInString();
    // Valid UTF-8 bytes can still spell an invalid string through escapes; stored, it would be
    // invalid UTF-8 (or U+FFFD) for every reader.
    if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) throw new LoneSurrogate();
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
      if (err instanceof LoneSurrogate) {
        return done(new AppError('invalid_utf8', 'the body escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair), which is not text'), undefined);
      }
      if (err instanceof NulInString) {
        return done(new AppError('validation_failed', 'strings may not contain NUL characters', { errors: [{ path: 'body', message: 'contains NUL' }] }), undefined);
      }
      done(new AppError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
