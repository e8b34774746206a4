/** The tables the federation capability owns (Kysely types). Times are Unix milliseconds. */
import type { Generated } from 'kysely';

/** This instance's signing identity: one Ed25519 key pair, its private half sealed under a server secret. */
export interface FederationIdentityTable {
  key_id: string;
  /** Raw 32-byte public key, base64url. */
  public_key: string;
  /** PKCS#8 DER of the private key, base64, sealed (automation's secret box, AES-256-GCM). */
  private_key: string;
  created_at: number;
  /** Set when a newer key replaced it; it is still accepted (and published) until expires_at. */
  retired_at: number | null;
  expires_at: number | null;
  next_key_id: string | null;
  /** This key's Ed25519 signature over "mmd-federation/1 rotate <key_id> <next_key_id>", base64url. */
  endorsement: string | null;
}

/** A platform this instance exchanges signals with. */
export interface FederationPeersTable {
  id: string;
  name: string;
  base_url: string;
  key_id: string;
  public_key: string;
  /** JSON arrays of bank categories. */
  trusted_categories: string;
  share_categories: string;
  /** JSON object category → 'block' | 'hold' | 'review' | 'ignore'. */
  policy: string;
  default_action: 'block' | 'hold' | 'review' | 'ignore';
  status: 'active' | 'disabled';
  /** The last cursor of theirs this instance pulled. */
  pull_cursor: number;
  last_delivery_error: string | null;
  /** Its key before a rotation it announced, accepted until previous_key_expires_at. */
  previous_key_id: string | null;
  previous_public_key: string | null;
  previous_key_expires_at: number | null;
  last_push_at: number | null;
  last_pull_at: number | null;
  last_pull_error: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** Messages for peers, in order per peer; `seq` is the cursor peers pull by. */
export interface FederationOutboxTable {
  seq: Generated<number>;
  peer_id: string;
  message_id: string;
  type: string;
  /** The signed envelope's JSON. */
  body: string;
  /** A shared case's id, for acks to be matched and outcomes shown. */
  case_ref: string | null;
  created_at: number;
  delivered_at: number | null;
  attempts: number;
}

/** A takedown of this instance shared with peers. */
export interface FederationSharedTable {
  seq: Generated<number>;
  id: string;
  takedown_id: string | null;
  /** The local protection case a victim chose to share (its reference never leaves this instance). */
  protect_ref: string | null;
  category: string;
  signals: number;
  status: 'shared' | 'retracted';
  created_at: number;
  retracted_at: number | null;
}

/** Each peer's latest answer about a shared case. */
export interface FederationOutcomesTable {
  case_id: string;
  peer_id: string;
  outcome: 'received' | 'under_review' | 'removed' | 'blocked' | 'dismissed';
  copies: number;
  updated_at: number;
}

/** Every message accepted from a peer (acks and retractions included): ids are unique per peer. */
export interface FederationReceivedTable {
  id: string;
  peer_id: string;
  message_id: string;
  type: 'signals' | 'confirmation' | 'retraction' | 'ack';
  /** For signals and confirmations: the case as the peer (or its origin) names it. */
  case_ref: string | null;
  origin: string | null;
  category: string | null;
  confidence: number | null;
  action: 'block' | 'hold' | 'review' | 'ignore' | null;
  status: 'pending' | 'active' | 'ignored' | 'retracted' | 'dismissed' | 'confirmed' | 'done';
  bank_id: string | null;
  /** For a case waiting for a moderator (policy review): the signals as received (JSON). */
  pending_signals: string | null;
  created_at: number;
}

/** Which bank signals a received case stands behind (a retraction takes out only these). */
export interface FederationReceivedSignalsTable {
  received_id: string;
  signal_id: number;
}

/** Nonces seen per peer, kept for the signature window (replay protection). */
export interface FederationNoncesTable {
  peer_id: string;
  nonce: string;
  expires_at: number;
}

/** A Hasher-Matcher-Actioner deployment allowed to fetch some banks (StopNCII FetchHashes shape). */
export interface FederationHmaConsumersTable {
  id: string;
  name: string;
  /** SHA-256 of its token, hex. */
  token_hash: string;
  /** JSON array of bank ids. */
  bank_ids: string;
  status: 'active' | 'disabled';
  last_fetch_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface FederationHmaKnownTable {
  signal_id: number;
  bank_id: string;
  type: string;
  value: string;
}

export interface FederationHmaLogTable {
  seq: Generated<number>;
  bank_id: string;
  type: string;
  value: string;
  /** Unix seconds. */
  changed_at: number;
}

export interface FederationTables {
  federation_identity: FederationIdentityTable;
  federation_peers: FederationPeersTable;
  federation_outbox: FederationOutboxTable;
  federation_shared: FederationSharedTable;
  federation_outcomes: FederationOutcomesTable;
  federation_received: FederationReceivedTable;
  federation_received_signals: FederationReceivedSignalsTable;
  federation_nonces: FederationNoncesTable;
  federation_hma_consumers: FederationHmaConsumersTable;
  federation_hma_known: FederationHmaKnownTable;
  federation_hma_log: FederationHmaLogTable;
}
