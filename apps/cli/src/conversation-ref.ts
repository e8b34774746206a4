/**
 * The CONV argument: a conversation id, `@handle` (the direct chat with that person, opened if
 * needed) or `#handle` (a channel, by its public handle). Quote `#…` in a shell, or it is a comment.
 */
import type { MmdClient } from '@mmd/sdk';
import { UsageError } from './errors.ts';

export const CONV_HELP = 'conversation id, @handle (direct chat) or #handle (channel; quote it in a shell)';

export async function resolveConversation(client: MmdClient, ref: string): Promise<string> {
  if (ref.startsWith('@')) return (await client.openDirect(nonEmpty(ref.slice(1), ref))).id;
  if (ref.startsWith('#')) return (await client.findChannel(nonEmpty(ref.slice(1), ref))).id;
  return nonEmpty(ref, ref);
}

function nonEmpty(s: string, ref: string): string {
  if (!s.trim()) throw new UsageError(`"${ref}" is not a conversation (${CONV_HELP})`);
  return s;
}
