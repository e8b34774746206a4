/**
 * What every online command needs: the global options and an SDK client for the chosen server,
 * signed in with MMD_TOKEN or the session saved for that server.
 */

import { MmdClient } from '@mmd/sdk';
import type { Command } from 'commander';
import { loadSession } from './credentials.ts';
import { CliError, UsageError } from './errors.ts';

export interface Globals {
  /** Normalised server URL; also the key of the saved session. */
  server: string;
  json: boolean;
  /** --business / MMD_BUSINESS: the business a team member acts for (id or @handle). */
  business?: string;
}

export function globals(cmd: Command): Globals {
  const opts = cmd.optsWithGlobals<{ server: string; json?: boolean; business?: string }>();
  return { server: normaliseServer(opts.server), json: opts.json === true, ...(opts.business ? { business: opts.business } : {}) };
}

/** `http://Host:8080/` and `http://host:8080` are one server, so they share one saved session. */
export function normaliseServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server: "${raw}" is not a URL (expected e.g. http://localhost:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--server: expected an http:// or https:// URL, got "${raw}"`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function anonymousClient(g: Globals): MmdClient {
  return new MmdClient({ baseUrl: g.server });
}

/** A client with a token: MMD_TOKEN wins over the saved session, so scripts and CI need no file. */
export function signedInClient(g: Globals): MmdClient {
  const token = process.env.MMD_TOKEN || loadSession(g.server)?.token;
  if (!token)
    throw new CliError(
      `not signed in to ${g.server}: run \`mmd login HANDLE\` or set MMD_TOKEN`,
      'unauthenticated',
    );
  return new MmdClient({ baseUrl: g.server, token });
}

/**
 * A client acting for a business: the business account's own session as it is, or a team
 * member's session naming the business (--business or MMD_BUSINESS: its id, or @handle among the
 * businesses the member works for).
 */
export async function businessClient(g: Globals): Promise<MmdClient> {
  const client = signedInClient(g);
  if (!g.business) return client;
  if (g.business.startsWith('acc_')) return client.forBusiness(g.business);
  const handle = g.business.replace(/^@/, '').toLowerCase();
  const mine = await client.myBusinesses();
  const found = mine.businesses.find((b) => b.business.handle.toLowerCase() === handle);
  if (!found) throw new CliError(`you are on no team of a business @${handle}`, 'not_found');
  return client.forBusiness(found.business.id);
}
