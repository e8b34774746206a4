/**
 * Per-account rate limits on the business endpoints that cost a query over many rows (segment
 * counts, contact pages, the import error report; template previews have their own, templatePreviewsPerWindow in templates/routes.ts) or write for a team member
 * (inbox notes and replies). Attached to those routes as they are added (an onRoute hook, before
 * @fastify/rate-limit reads their config), keyed by the authenticated account — a team of agents
 * behind one office address does not share one budget, and one account cannot spread its calls
 * over many addresses. Answered 429 `rate_limited` (problem+json) with Retry-After.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Authenticate } from './auth.ts';

type LimitName = 'businessCountRateLimit' | 'businessReadRateLimit' | 'inboxWriteRateLimit' | 'importReportRateLimit';

/** Method and URL of each limited route → the config value that bounds it per account and window. */
export const BUSINESS_LIMITED_ROUTES: Readonly<Record<string, LimitName>> = {
  'POST /v1/business/segments/count': 'businessCountRateLimit',
  'GET /v1/business/segments/:id/count': 'businessCountRateLimit',
  'GET /v1/business/contacts': 'businessReadRateLimit',
  'GET /v1/business/contacts/:id': 'businessReadRateLimit',
  'POST /v1/business/inbox/:id/notes': 'inboxWriteRateLimit',
  'POST /v1/business/inbox/:id/messages': 'inboxWriteRateLimit',
  'GET /v1/business/contacts/imports/:id/errors': 'importReportRateLimit',
};

export function installBusinessLimits(app: FastifyInstance, config: Config, authenticate: Authenticate): void {
  // The scope guard has authenticated the request before preHandler (where the limit runs); the
  // principal is cached per request, so this costs no second lookup.
  const keyGenerator = async (request: FastifyRequest) => {
    try {
      return `account:${(await authenticate(request)).accountId}`;
    } catch {
      return `ip:${request.ip}`;
    }
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      const name = BUSINESS_LIMITED_ROUTES[`${method} ${route.url}`];
      if (!name) continue;
      const existing = (route.config ?? {}) as Record<string, unknown>;
      if (existing.rateLimit) return;
      route.config = { ...existing, rateLimit: { max: config[name], timeWindow: config.rateLimitWindowMs, keyGenerator } } as typeof route.config;
      return;
    }
  });
}
