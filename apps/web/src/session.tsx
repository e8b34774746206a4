/**
 * The signed-in person: their client (the SDK with their token) and account, for every page that
 * needs them. Signing out forgets the token on this device and asks the server to end the session.
 */
import type { Account, MmdClient } from '@mmd/sdk';
import { createContext, useContext } from 'react';

export interface Session {
  client: MmdClient;
  me: Account;
  /** Forgets this device's token (and revokes it on the server when `revoke` is set). */
  signOut(options?: { revoke?: boolean }): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export function isModerator(me: Account): boolean {
  return me.role === 'moderator' || me.role === 'admin';
}
