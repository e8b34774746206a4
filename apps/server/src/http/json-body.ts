/**
 * JSON bodies: strictly UTF-8 (Node would silently turn invalid bytes into U+FFFD and store
 * mangled text), parsed without prototype pollution, with a clear code for each failure.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

function parseSafely(text: string): unknown {
  return JSON.parse(text, (key, value) => (key === '__proto__' || key === 'constructor' ? undefined : value));
}

export function installJsonBodyParser(app: FastifyInstance) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'buffer' }, (_request, body, done) => {
    const buffer = body as Buffer;
    if (buffer.length === 0) return done(null, undefined);
    if (!isUtf8(buffer)) return done(new AppError('invalid_utf8', 'the body is not valid UTF-8'), undefined);
    try {
      done(null, parseSafely(buffer.toString('utf8')));
    } catch (err) {
      done(new AppError('malformed_json', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
