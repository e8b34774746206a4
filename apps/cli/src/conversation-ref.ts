/**
 * The CONV argument: a conversation id, or `@handle`: the direct chat with that person (opened if
 * needed) or the channel with that public handle. People and channels share one handle namespace,
 * so `@` is the one notation, as in the web app. `#handle` (the old channel notation) still works,
 * with a hint on stderr.
 */
import { type MmdClient, MmdError } from '@mmd/sdk';
import { UsageError } from './errors.ts';

export const CONV_HELP = 'conversation id, or @handle (a person: the direct chat; or a channel)';

export async function resolveConversation(client: MmdClient, ref: string): Promise<string> {
  if (ref.startsWith('#')) {
    const handle = nonEmpty(ref.slice(1), ref);
    process.stderr.write(`hint: channels are written @${handle} now, like people (#${handle} still works)\n`);
    return (await client.findChannel(handle)).id;
  }
  if (!ref.startsWith('@')) return nonEmpty(ref, ref);
  const handle = nonEmpty(ref.slice(1), ref);
  try {
    return (await client.openDirect(handle)).id;
  } catch (err) {
    // No person by that handle: a channel may have it.
    if (!(err instanceof MmdError) || err.code !== 'not_found') throw err;
    try {
      return (await client.findChannel(handle)).id;
    } catch (channelErr) {
      if (channelErr instanceof MmdError && channelErr.code === 'not_found') throw err;
      throw channelErr;
    }
  }
}

function nonEmpty(s: string, ref: string): string {
  if (!s.trim()) throw new UsageError(`"${ref}" is not a conversation (${CONV_HELP})`);
  return s;
}
