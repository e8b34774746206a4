import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer tokens are 256 random bits, so a plain SHA-256 of the token is enough to store them:
 * unlike passwords they cannot be guessed from a dictionary. Only the hash is ever stored.
 */
export function newToken(kind: 'device' | 'api-key' | 'bot'): string {
  return `${kind === 'device' ? 'mmd_d_' : kind === 'bot' ? 'mmd_b_' : 'mmd_k_'}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenKind(token: string): 'device' | 'api-key' | 'bot' | null {
  if (token.startsWith('mmd_d_')) return 'device';
  if (token.startsWith('mmd_k_')) return 'api-key';
  if (token.startsWith('mmd_b_')) return 'bot';
  return null;
}
