/** Who may moderate: accounts an admin made moderators (or admins), signed in on a device. */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';

export async function requireModerator(authenticate: Authenticate, request: FastifyRequest): Promise<Principal> {
  const principal = await authenticate(request);
  // API keys serve bots and businesses; moderation acts on everyone's content, so it needs a person.
  if (principal.apiKeyId !== null) throw new AppError('insufficient_scope', 'moderation needs a moderator signed in on a device, not an API key');
  if (principal.role !== 'moderator' && principal.role !== 'admin') throw new AppError('forbidden', 'only moderators do this');
  return principal;
}
