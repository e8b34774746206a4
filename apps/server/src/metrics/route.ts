/**
 * GET /metrics. Metrics describe the service, not anyone's messages, but they still tell a
 * stranger how busy it is, which routes fail, how far behind the queues are and when campaigns
 * run, so they are not public (threat model: docs/security.md):
 *
 * - with `metricsToken` set, a scraper must present it as `Authorization: Bearer …`, from anywhere
 *   (compared in constant time; a loopback address is not enough on its own);
 * - without it, only a request from this machine's loopback address is answered, and only if it
 *   carries no proxy forwarding header: a reverse proxy on the same host connects from loopback
 *   too, on behalf of anyone.
 *
 * Refusals are ordinary problem+json answers (401 with a Bearer challenge, 403); the route is
 * hidden from the OpenAPI document.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Metrics } from './registry.ts';

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'via'];

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Equal strings, in time that depends only on their lengths' hashes (nothing to learn by timing). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Why a request may not read the metrics, or null when it may. */
export function metricsRefusal(request: Pick<FastifyRequest, 'headers' | 'socket'>, token: string): AppError | null {
  if (token) {
    const header = request.headers.authorization;
    const given = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : '';
    if (given && sameSecret(given, token)) return null;
    return new AppError('unauthenticated', 'metrics need the metrics token (MMD_METRICS_TOKEN) as a Bearer token', { headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
  }
  // The peer itself, not request.ip: no proxy header is ever trusted to say where a request came from.
  if (!isLoopback(request.socket.remoteAddress)) return new AppError('forbidden', 'metrics are served to this machine only; set MMD_METRICS_TOKEN to scrape them from elsewhere');
  if (FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined)) return new AppError('forbidden', 'a forwarded request may not read metrics; set MMD_METRICS_TOKEN to scrape them through a proxy');
  return null;
}

export function metricsRoute(deps: { metrics: Metrics; token: string }) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const refusal = metricsRefusal(request, deps.token);
      if (refusal) throw refusal;
      const { contentType, body } = await deps.metrics.scrape();
      return reply.header('cache-control', 'no-store').type(contentType).send(body);
    });
  };
}
