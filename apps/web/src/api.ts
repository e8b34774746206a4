/** The web app's one way to the server: the typed SDK, on the origin that served the page. */
import { MmdClient, MmdError } from '@mmd/sdk';

const TOKEN_KEY = 'mmd.token';

export const anonymousClient = new MmdClient({ baseUrl: window.location.origin });

export function savedToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null) {
  try {
    if (token) window.localStorage.setItem(TOKEN_KEY, token);
    else window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Private browsing without storage: the session lasts as long as the tab.
  }
}

/** A sentence for a person, from whatever a call threw. */
export function errorText(err: unknown): string {
  if (err instanceof MmdError)
    return err.code === 'network_error'
      ? 'Could not reach the server. Check your connection and try again.'
      : err.message;
  return err instanceof Error ? err.message : String(err);
}
