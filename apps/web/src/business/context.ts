/**
 * The business the console is acting for: its profile, settings, the signed-in person's role on
 * its team, and a client that names it on every request (`x-mmd-business`). The server decides
 * every permission; `can()` only hides controls a role could not use anyway.
 */
import type { BusinessProfile, BusinessRole, BusinessSettings, MmdClient } from '@mmd/sdk';
import { createContext, useContext } from 'react';

export type BusinessPermission =
  | 'read'
  | 'send'
  | 'contacts:write'
  | 'contacts:export'
  | 'templates:write'
  | 'campaigns:write'
  | 'settings:write'
  | 'team:manage';

const BY_ROLE: Record<BusinessRole, readonly BusinessPermission[]> = {
  owner: ['read', 'send', 'contacts:write', 'contacts:export', 'templates:write', 'campaigns:write', 'settings:write', 'team:manage'],
  admin: ['read', 'send', 'contacts:write', 'contacts:export', 'templates:write', 'campaigns:write', 'settings:write', 'team:manage'],
  agent: ['read', 'send', 'contacts:write'],
  analyst: ['read'],
};

/** Whether `role` may do `permission` (agents export contacts only where the business allows it). */
export function roleAllows(role: BusinessRole, permission: BusinessPermission, settings: Pick<BusinessSettings, 'agents_may_export'>): boolean {
  if (permission === 'contacts:export' && role === 'agent') return settings.agents_may_export;
  return BY_ROLE[role].includes(permission);
}

export const ROLE_WORDS: Record<BusinessRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  agent: 'Agent',
  analyst: 'Analyst',
};

export interface BusinessContextValue {
  /** The signed-in person's client, acting for this business. */
  client: MmdClient;
  business: BusinessProfile;
  settings: BusinessSettings;
  role: BusinessRole;
  /** Whether the signed-in person's role allows `permission` here. */
  can(permission: BusinessPermission): boolean;
  /** After a change to the profile or settings: the new state, for every page. */
  replace(next: { business: BusinessProfile; settings: BusinessSettings; role: BusinessRole }): void;
  /** The path of a page of this business: `href('contacts', id)` → /business/acme/contacts/<id>. */
  href(...parts: string[]): string;
}

export const BusinessContext = createContext<BusinessContextValue | null>(null);

export function useBusiness(): BusinessContextValue {
  const value = useContext(BusinessContext);
  if (!value) throw new Error('useBusiness outside the business console');
  return value;
}
