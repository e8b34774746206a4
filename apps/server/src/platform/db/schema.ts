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
}

export interface MediaTable {
  id: string;
  owner_id: string;
  status: 'processing' | 'ready' | 'failed' | 'removed';
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
  created_at: number;
  updated_at: number;
}

export interface MessageMediaTable {
  message_id: string;
  media_id: string;
  /** Order in the album, from 0. */
  position: number;
}
