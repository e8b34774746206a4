/**
 * Bearer-token authentication and scope checks. Each route declares what it needs from its
 * caller once, as `x-mmd-scope` in its schema (so the OpenAPI document shows it too); a hook
 * checks it before the body is validated, and `authenticate(request)` in the handler checks the same
 * declaration. A route that declares nothing is open to device sessions only: forgetting the
 * declaration can lock out an API key, never let one in.
 */
import type { ApiScope } from '@mmd/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Accounts, Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';

/**
 * What a route needs from its caller:
 * - an API scope: a device session, or an API key granted that scope;
 * - `account`: any signed-in caller (a device session or any API key);
 * - `device`: a person's device session only (key management, devices, moderation, creating
 *   bots): API keys get 403 `insufficient_scope`, bot tokens 403 `person_only`;
 * - `manage`: a device session or a bot token, never an API key (webhooks, a bot's commands):
 *   what an account does to itself that a narrowly scoped key must not be able to widen;
 * - `public`: no token (sign-up, login, protection cases, signed file URLs).
 *
 * A bot token (bots capability) carries every API scope: it is the bot's whole credential.
 */
export type RouteScope = ApiScope | 'account' | 'device' | 'manage' | 'public';

declare module 'fastify' {
  interface FastifySchema {
    /** The caller this route needs; listed in the OpenAPI document and enforced by the auth hook. */
    'x-mmd-scope'?: RouteScope;
    /**
     * A public route that authenticates its caller another way than a bearer token: 'http-signature'
     * = an RFC 9421 signature by a connected peer (federation); 'hma-consumer-token' = the token
     * an operator issued an HMA deployment (federation/hma.ts); 'session-or-case-key' = a person's
   * session, or a protection case's reference and key in the body (removal requests). Such a route
   * answers 401 without it.
     */
    'x-mmd-auth'?: 'http-signature' | 'hma-consumer-token' | 'session-or-case-key';
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? match[1]! : null;
  }
  return null;
}

/**
 * A rate-limit key per caller, taken before authentication: their bearer token as the header
 * carries it (however it is spelled: "bearer", extra spaces), else their address. Keyed on the raw
 * header, each spelling of one token would be a fresh allowance.
 */
export function callerKey(request: FastifyRequest): string {
  const token = bearerToken(request);
  return token ? `token:${token}` : `ip:${request.ip}`;
}

/** The scope the matched route declares (undefined for an unmatched or undeclared route). */
export function declaredScope(request: FastifyRequest): RouteScope | undefined {
  return request.routeOptions.schema?.['x-mmd-scope'];
}

/** Whether `principal` may call a route declaring `scope`; undeclared means device sessions only. */
function allowed(
  principal: Principal,
  scope: RouteScope | undefined,
): { ok: true } | { ok: false; detail: string; code?: 'person_only' } {
  if (principal.botToken) {
    if (scope === undefined || scope === 'device') return { ok: false, code: 'person_only', detail: 'this endpoint is for people (a device session), not bot tokens' };
    return { ok: true };
  }
  if (principal.apiKeyId === null) return { ok: true };
  if (scope === 'account' || scope === 'public') return { ok: true };
  if (scope === undefined || scope === 'device' || scope === 'manage')
    return { ok: false, detail: 'this endpoint needs a device session, not an API key' };
  return principal.scopes.has(scope)
    ? { ok: true }
    : { ok: false, detail: `this API key lacks the "${scope}" scope` };
}

/**
 * Resolves the caller of a request and checks it against the route's declared scope. `token`
 * overrides the Authorization header (the WebSocket may carry it in the query string).
 */
export type Authenticate = (request: FastifyRequest, token?: string | null) => Promise<Principal>;

/** Resolves tokens no other resolver knows (a bot token); null when it is not one of its own. */
export type TokenResolver = (token: string) => Promise<Principal | null>;

export function createAuthenticate(accounts: Accounts, extra: { resolveBotToken?: TokenResolver } = {}): Authenticate {
  // One lookup per request: the hook's result is reused by the handler.
  const resolved = new WeakMap<FastifyRequest, Principal>();
  return async (request, token = bearerToken(request)) => {
    let principal = resolved.get(request);
    if (!principal) {
      if (!token)
        throw new AppError('unauthenticated', 'send a bearer token in the Authorization header', {
          headers: { 'www-authenticate': 'Bearer' },
        });
      const result = token.startsWith('mmd_b_') ? ((await extra.resolveBotToken?.(token)) ?? null) : await accounts.resolve(token);
      if (result === 'expired') {
        throw new AppError(
          'session_expired',
          'this device has been idle too long and was signed out; sign in again',
          {
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          },
        );
      }
      if (!result)
        throw new AppError('unauthenticated', 'the token is unknown or was revoked', {
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        });
      principal = result;
      resolved.set(request, principal);
    }
    const verdict = allowed(principal, declaredScope(request));
    if (!verdict.ok) throw new AppError(verdict.code ?? 'insufficient_scope', verdict.detail);
    return principal;
  };
}

/**
 * Checks the caller against the route's declared scope before the body is validated or the
 * handler runs (an upload's file is not read until then): no credential gets 401 and a key
 * without the scope 403, whatever the request carries. It runs once a JSON body is parsed, not on
 * arrival: a client hanging up while the token is looked up would otherwise abort a stream nobody
 * is reading yet. A request with a `token` query parameter and no header is left to the handler
 * (the WebSocket's token may travel there; other routes then refuse it with 401).
 */
export function installScopeGuard(app: FastifyInstance, authenticate: Authenticate) {
  app.addHook('preValidation', async (request) => {
    const scope = declaredScope(request);
    if (scope === undefined || scope === 'public') return;
    if (!request.headers.authorization && (request.query as { token?: unknown } | undefined)?.token !== undefined) return;
    await authenticate(request);
  });
}
