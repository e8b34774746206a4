/** Bearer-token authentication and scope checks, called at the top of each handler. */
import type { ApiScope } from '@mmd/contracts';
import type { FastifyRequest } from 'fastify';
import type { Accounts, Principal } from '../accounts/service.ts';
import { AppError } from '../errors.ts';

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? match[1]! : null;
  }
  return null;
}

export type Authenticate = (request: FastifyRequest, scope?: ApiScope, token?: string | null) => Promise<Principal>;

export function createAuthenticate(accounts: Accounts): Authenticate {
  return async (request, scope, token = bearerToken(request)) => {
    if (!token) throw new AppError('unauthenticated', 'send a bearer token in the Authorization header', { headers: { 'www-authenticate': 'Bearer' } });
    const principal = await accounts.authenticate(token);
    if (!principal) throw new AppError('unauthenticated', 'the token is unknown or was revoked', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    if (scope && !principal.scopes.has(scope)) throw new AppError('insufficient_scope', `this API key lacks the "${scope}" scope`);
    return principal;
  };
}
