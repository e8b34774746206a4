/** The tables the accounts capability owns (Kysely types). Times are Unix milliseconds. */

export interface AccountsTable {
  id: string;
  handle: string;
  /** Lower-cased handle: handles are unique ignoring case. */
  handle_key: string;
  password_hash: string;
  kind: 'person' | 'bot' | 'business';
  role: 'user' | 'moderator' | 'admin';
  created_at: number;
  /** Set while a moderator has the account suspended: no token of it works, it cannot sign in. */
  suspended_at?: number | null;
}

export interface DevicesTable {
  id: string;
  account_id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  /** The last event cursor this device acknowledged; messages up to it count as delivered. */
  acked_cursor: number;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  name: string;
  scopes: string;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

/** Every public handle's keys (see handles.ts): people and channels share this one namespace. */
export interface HandlesTable {
  key: string;
  owner_kind: 'account' | 'channel';
  owner_id: string;
  created_at: number;
}

/** A block: `blocker_id` hears nothing directly from `blocked_id` and cannot be added by it. */
export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: number;
}

/** Privacy choices; no row means the defaults (anyone may add me). */
export interface PrivacySettingsTable {
  account_id: string;
  add_me: 'everyone' | 'contacts' | 'nobody';
  /** Null columns (rows from before these settings) mean the default: everyone. */
  last_seen?: 'everyone' | 'contacts' | 'nobody' | null;
  photo?: 'everyone' | 'contacts' | 'nobody' | null;
  find_me?: 'everyone' | 'contacts' | 'nobody' | null;
  /** 0: read receipts off; 1 or null (rows from before the setting): on. */
  read_receipts?: number | null;
  updated_at: number;
}

export interface AccountsTables {
  blocks: BlocksTable;
  privacy_settings: PrivacySettingsTable;
  handles: HandlesTable;
  accounts: AccountsTable;
  devices: DevicesTable;
  api_keys: ApiKeysTable;
}
