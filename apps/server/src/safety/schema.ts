/** The tables the safety capability owns (Kysely types). Times are Unix milliseconds. */
import type { Generated } from 'kysely';

/** A bank signal removed: what other processes' indexes follow by id to drop it (indexes.ts). */
export interface SafetySignalRemovalsTable {
  /** Assigned in commit order, like signal ids. */
  id: Generated<number>;
  signal_id: number;
  removed_at: number;
}

/** A hash bank (trust and safety). */
export interface SafetyBanksTable {
  id: string;
  name: string;
  category: string;
  source: string | null;
  action: 'block' | 'hold' | 'blur';
  pdq_threshold: number;
  /** 'protect' | 'takedown' for the banks MMD keeps itself. */
  system: 'protect' | 'takedown' | null;
  /** 1: a source the operator vouches for (see config protectTrustedAutoAction); 0 otherwise. */
  trusted: number;
  created_by: string | null;
  created_at: number;
}

export interface SafetySignalsTable {
  /** Assigned in commit order; the in-memory index keys on it and polls past it. */
  id: Generated<number>;
  bank_id: string;
  type: 'pdq' | 'vpdq' | 'sha256' | 'md5';
  value: string;
  /** `value`, or its SHA-256 for vPDQ: what uniqueness and look-ups use. */
  value_key: string;
  label: string | null;
  quality: number | null;
  /** JSON of MMD's crop-resistant reference hashes, when hashed from pixels. */
  robust: string | null;
  origin: 'paste' | 'upload' | 'import' | 'takedown' | 'protect' | 'peer';
  /** The protection case that submitted it. */
  case_ref: string | null;
  created_by: string | null;
  created_at: number;
}

/** Hashes of every stored upload, for takedowns and sweeps. */
export interface SafetyMediaHashesTable {
  id: Generated<number>;
  media_id: string;
  kind: string;
  sha256: string;
  md5: string;
  pdq: string | null;
  quality: number | null;
  /** JSON robust query hashes (what an upload is checked with). */
  query: string | null;
  /** JSON robust reference hashes (what a bank stores once the item is taken down). */
  reference: string | null;
  /** JSON vPDQ frames (HMA compact form). */
  vpdq: string | null;
  /** MMD's robust video signature (query role, without rotation variants; base64, phash's format). */
  video_signature: string | null;
  /** The signature's hashes the near-duplicate index keeps (hash-codec.ts encodeHashList). */
  video_keys: string | null;
  removed_at: number | null;
  created_at: number;
  /** Its near-duplicate cluster (clusters.ts): the id of the cluster's first row; null before it is assigned. */
  cluster_id: number | null;
  /** Images: the fingerprint of the parameters its sets were made with (rehash.ts); null before fingerprints. */
  hash_params: string | null;
}

export interface SafetyReviewsTable {
  id: string;
  kind: 'report' | 'hold';
  status: 'open' | 'escalated' | 'closed';
  outcome: 'takedown' | 'dismiss' | null;
  reason: string;
  message_id: string | null;
  media_id: string | null;
  bank_id: string | null;
  signal_id: number | null;
  report_count: number;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  note: string | null;
}

export interface SafetyReportsTable {
  id: string;
  message_id: string;
  reporter_id: string;
  review_id: string;
  reason: string;
  note: string | null;
  status: 'open' | 'resolved';
  outcome: 'removed' | 'no_action' | null;
  created_at: number;
  resolved_at: number | null;
}

export interface SafetyAuditTable {
  id: Generated<number>;
  at: number;
  /** null: MMD itself (screening, sweeps) or an anonymous protection request. */
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  bank_id: string | null;
  /** JSON object. */
  detail: string;
}

/**
 * A hash-only protection case (StopNCII model): no account, only a reference. A case is a claim,
 * not a verdict: its signals sit in the `protect` bank (action hold) until a moderator decides.
 */
export interface SafetyCasesTable {
  reference: string;
  status: 'received' | 'under_review' | 'action_taken' | 'closed' | 'withdrawn';
  /** Unused since cases stopped removing anything on their own (kept: old rows carry it). */
  copies_removed: number;
  created_at: number;
  last_checked_at: number | null;
  updated_at: number;
  images: number;
  videos: number;
  decided_at: number | null;
  decided_by: string | null;
  note: string | null;
  /** SHA-256 (hex) of the case key; null for cases opened before keys existed (no case page). */
  secret_hash: string | null;
  /** When its submitter chose to share it with connected platforms. */
  shared_at: number | null;
  /** When its submitter withdrew it (here and everywhere it was shared). */
  withdrawn_at: number | null;
}

/**
 * A request to remove every copy of media the requester appears in, by hashes computed in their
 * browser. Nothing happens until a moderator decides (remove: a takedown by those hashes).
 */
export interface SafetyErasureRequestsTable {
  id: string;
  status: 'pending' | 'removed' | 'declined';
  /** Who asked: a signed-in account, or the holder of a protection case (one of the two). */
  account_id: string | null;
  case_ref: string | null;
  /** JSON array of { type, value } (pdq hex, vpdq compact JSON): never matched until decided. */
  signals: string;
  images: number;
  videos: number;
  note: string | null;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  reasons: string | null;
  takedown_id: string | null;
  copies_removed: number;
}

/** What a protection case's signals matched: one row per case and item. */
export interface SafetyCaseItemsTable {
  case_ref: string;
  media_id: string;
  source: 'screening' | 'sweep';
  /** 1 when a trusted bank matched the item too and it was acted on without a moderator. */
  auto_action: number;
  created_at: number;
}

/**
 * Signals accepted by hash-only protection, per UTC day: one row per (keyed) address and day, and
 * one with address_key '*' for everyone. The address is stored only as an HMAC under a server
 * secret, so the table cannot be read back into addresses.
 */
export interface SafetyProtectQuotaTable {
  address_key: string;
  day: number;
  signals: number;
  submissions: number;
}

/** An upload that matched a bank (at screening, in a sweep, or taken down with it): one row per bank and item. */
export interface SafetyMatchesTable {
  bank_id: string;
  media_id: string;
  signal_id: number | null;
  rule: string | null;
  source: 'screening' | 'sweep' | 'takedown';
  created_at: number;
}

/** A takedown, written as it runs so moderators can watch its progress. */
export interface SafetyTakedownsTable {
  /** Orders and pages the list. */
  seq: Generated<number>;
  id: string;
  status: 'running' | 'done' | 'failed';
  stage: 'banking' | 'finding' | 'removing' | 'closing' | 'finished';
  reason: string;
  actor_id: string | null;
  review_id: string | null;
  bank_id: string;
  signals_added: number;
  /** null until the search for copies has finished. */
  copies_found: number | null;
  media_removed: number;
  messages_removed: number;
  conversations: number;
  error: string | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  duration_ms: number | null;
}

export interface SafetyTables {
  safety_banks: SafetyBanksTable;
  safety_signals: SafetySignalsTable;
  safety_signal_removals: SafetySignalRemovalsTable;
  safety_media_hashes: SafetyMediaHashesTable;
  safety_reviews: SafetyReviewsTable;
  safety_reports: SafetyReportsTable;
  safety_audit: SafetyAuditTable;
  safety_cases: SafetyCasesTable;
  safety_case_items: SafetyCaseItemsTable;
  safety_protect_quota: SafetyProtectQuotaTable;
  safety_matches: SafetyMatchesTable;
  safety_takedowns: SafetyTakedownsTable;
  safety_erasure_requests: SafetyErasureRequestsTable;
}
