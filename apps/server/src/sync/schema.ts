/** The tables the sync capability owns (Kysely types). Times are Unix milliseconds. */
import type { Generated } from 'kysely';

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
  /**
   * Set on a message released after being held: only members whose current stay began at or
   * before this cursor (when it was written) receive it. Null: every member in the window.
   */
  members_joined_by: number | null;
  /**
   * The message a `message.created` or `message.edited` event carries (null for other events):
   * a message deleted for everyone has these events rewritten to its deleted view.
   */
  message_id: string | null;
}

/**
 * A range of cursors this log never issued: a restore from a backup (backup/restore.ts) left it.
 * The log restored ends at `after_cursor`; the server it replaced may have handed out cursors past
 * it, so the next event is numbered `resumes_at` and every cursor strictly between is refused as
 * `cursor_expired` for good, not only until the log grows past it.
 */
export interface SyncLogGapsTable {
  after_cursor: number;
  resumes_at: number;
  created_at: number;
}

export interface SyncTables {
  events: EventsTable;
  sync_log_gaps: SyncLogGapsTable;
}
