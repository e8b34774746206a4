/** The tables the business capability owns (Kysely types). Times are Unix milliseconds. */

/** A business account's public face and settings; no row means the defaults. */
export interface BusinessProfilesTable {
  business_id: string;
  display_name: string;
  about: string | null;
  avatar_media_id: string | null;
  /** Set by the instance's operator (an admin), never by the business. */
  verified: number;
  verified_at: number | null;
  verified_by: string | null;
  /** BusinessSettings as JSON (see service.ts). */
  settings: string;
  updated_at: number;
}

/** A person on a business's team. The business account itself is always its owner and has no row. */
export interface BusinessMembersTable {
  business_id: string;
  account_id: string;
  role: 'owner' | 'admin' | 'agent' | 'analyst';
  added_by: string;
  created_at: number;
}

export interface BusinessTables {
  business_profiles: BusinessProfilesTable;
  business_members: BusinessMembersTable;
}
