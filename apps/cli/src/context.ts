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
}

export function globals(cmd: Command): Globals {
  const opts = cmd.optsWithGlobals<{ server: string; json?: boolean }>();
  return { server: normaliseServer(opts.server), json: opts.json === true };
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
