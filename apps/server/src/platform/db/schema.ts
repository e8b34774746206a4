/** Table types for Kysely. Times are Unix milliseconds; cursors and seqs are integers. */
import type { Generated } from 'kysely';

export interface AccountsTable {
  id: string;
  handle: string;
  /** Lower-cased handle: handles are unique ignoring case. */
  handle_key: string;
  password_hash: string;
  kind: 'person' | 'bot' | 'business';
  role: 'user' | 'moderator' | 'admin';
  created_at: number;
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

export interface ConversationsTable {
  id: string;
  kind: 'direct' | 'group' | 'channel';
  title: string | null;
  handle: string | null;
  handle_key: string | null;
  /** "accountA:accountB" (sorted) for direct chats, so each pair has one chat. */
  direct_key: string | null;
  created_by: string;
  created_at: number;
  last_seq: number;
  member_count: number;
}

export interface MembersTable {
  conversation_id: string;
  account_id: string;
  role: 'owner' | 'admin' | 'member';
  joined_at: number;
  /** The member sees the conversation's events from this cursor… */
  joined_cursor: number;
  /** …up to this one, when they have left or been removed (null while a member). */
  left_cursor: number | null;
  delivered_seq: number;
  read_seq: number;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  text: string | null;
  reply_to: string | null;
  forward_origin_id: string | null;
  forward_origin_conversation_id: string | null;
  forward_origin_sender_id: string | null;
  forward_hops: number;
  idempotency_key: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  /** sent | pending (waiting for its media) | failed (its media failed). */
  status: 'sent' | 'pending' | 'failed';
}

export interface ReactionsTable {
  message_id: string;
  account_id: string;
  emoji: string;
  created_at: number;
}

export interface EventsTable {
  /** The global cursor: assigned in commit order (see platform/db/index.ts). */
  id: Generated<number>;
  conversation_id: string | null;
  /** Set for events meant for one account only (none in conversations). */
  target_account_id: string | null;
  type: string;
  /** The message seq, for message.created events: delivery receipts read it. */
  seq: number | null;
  payload: string;
  created_at: number;
}

/** A durable background job (platform/queue). */
export interface JobsTable {
  id: string;
  type: string;
  /** JSON. */
  payload: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  /**
   * When the job may next be claimed: its due time while queued, its lease expiry while running.
   * One column serves both, so claiming is one range scan of one (partial) index.
   */
  available_at: number;
  /** Claims so far, including one whose worker died. */
  attempts: number;
  max_attempts: number;
  /** The current lease holder's token; completion must present it (fencing). */
  lease_token: string | null;
  /** At most one job per key, ever (until pruned). */
  dedupe_key: string | null;
  /** 0..100. */
  progress: number;
  /** JSON of the handler's return value, once succeeded. */
  result: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface DB {
  accounts: AccountsTable;
  devices: DevicesTable;
  api_keys: ApiKeysTable;
  conversations: ConversationsTable;
  members: MembersTable;
  messages: MessagesTable;
  reactions: ReactionsTable;
  events: EventsTable;
  jobs: JobsTable;
  media: MediaTable;
  message_media: MessageMediaTable;
  server_secrets: { name: string; value: string };
  safety_banks: SafetyBanksTable;
  safety_signals: SafetySignalsTable;
  safety_media_hashes: SafetyMediaHashesTable;
  safety_reviews: SafetyReviewsTable;
  safety_reports: SafetyReportsTable;
  safety_audit: SafetyAuditTable;
  safety_cases: SafetyCasesTable;
  safety_matches: SafetyMatchesTable;
  safety_takedowns: SafetyTakedownsTable;
}

export interface MediaTable {
  id: string;
  owner_id: string;
  /** held: matched a hold bank, waits for a moderator; removed: taken down. */
  status: 'processing' | 'ready' | 'failed' | 'removed' | 'held';
  kind: 'image' | 'video' | 'audio' | 'document' | null;
  mime: string | null;
  filename: string | null;
  size: number;
  /** Content address of the uploaded bytes (sha256/…); deleted after processing unless kept. */
  original_key: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  placeholder: string | null;
  /** JSON array of peaks 0..1 (audio). */
  waveform: string | null;
  /** JSON: rendition name → { key, mime, width?, height?, size? }. */
  renditions: string;
  reason: string | null;
  reason_code: string | null;
  /** 'blur': delivered behind a warning (matched a blur bank). */
  safety?: 'blur' | null;
  created_at: number;
  updated_at: number;
}

export interface MessageMediaTable {
  message_id: string;
  media_id: string;
  /** Order in the album, from 0. */
  position: number;
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
  origin: 'paste' | 'upload' | 'import' | 'takedown' | 'protect';
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
  removed_at: number | null;
  created_at: number;
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

/** A hash-only protection case (StopNCII model): no account, only a reference. */
export interface SafetyCasesTable {
  reference: string;
  status: 'checking' | 'active';
  copies_removed: number;
  created_at: number;
  last_checked_at: number | null;
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
