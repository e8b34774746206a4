/**
 * The tables the campaigns capability owns (Kysely types). Times are Unix milliseconds.
 *
 *   campaigns             one row per campaign: audience, variants, schedule and throttle as JSON.
 *   campaign_runs         one row per sending of a campaign: the scheduled one, each occurrence of
 *                         a recurring one, each resend. Holds the planner's cursor and the shared
 *                         token bucket that paces every sender worker.
 *   campaign_recipients   one narrow row per run and contact (disk bytes per recipient matter at a
 *                         million): status as a small integer, stages reached as a bit mask.
 *   campaign_counts       funnel counters per run, variant and stage, moved in the transaction
 *                         that moves a recipient, so a funnel is a read of a few rows.
 *   campaign_chats        where a sent campaign message sits (conversation, seq), while its
 *                         receipts and replies are still worth attributing; read by the event tap.
 *   notifications         transactional messages, unique per business and idempotency key.
 */
import type { Generated, Selectable } from 'kysely';

export interface CampaignsTable {
  id: string;
  business_id: string;
  name: string;
  purpose: string;
  /** draft | scheduled | running | paused | completed | cancelled */
  status: string;
  /** JSON CampaignAudience (an inline list is kept sorted, so the planner pages through it). */
  audience: string;
  /** JSON [{ name, template_version_id, weight }] */
  variants: string;
  /** JSON { name: value } */
  variables: string;
  /** JSON CampaignSchedule */
  schedule: string;
  throttle_per_second: number;
  send_until: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface CampaignRunsTable {
  id: Generated<number>;
  campaign_id: string;
  /** scheduled | recurring | resend */
  kind: string;
  /** waiting | planning | sending | done | cancelled */
  status: string;
  /** When planning starts (for a local-time schedule, the earliest zone's moment). */
  scheduled_at: number;
  /** The planner's position: recipients are written in contact id order after this one. */
  plan_cursor: string | null;
  planned: number;
  /** A resend names the run and the recipients (failed | unread) it follows up. */
  resend_of: number | null;
  resend_to: string | null;
  /** Token bucket shared by all sender workers: tokens left at `refilled_at`. */
  tokens: number;
  refilled_at: number;
  /** Sender lanes of an older chain stop (a resume starts a new chain). */
  sender_chain: number;
  created_at: number;
  finished_at: number | null;
}

/** A run as read back. */
export type CampaignRun = Selectable<CampaignRunsTable>;

export interface CampaignRecipientsTable {
  run_id: number;
  contact_id: string;
  /** Index into the campaign's variants. */
  variant: number;
  /** See RECIPIENT_CODES in recipients.ts. */
  status: number;
  /** Bit per stage reached (sent, delivered, read, …): a stage is counted the first time only. */
  stages: number;
  reason: string | null;
  message_id: string | null;
  /** Not before this moment (its local time, quiet hours); while claimed, the claim's expiry. */
  send_after: number;
  updated_at: number;
}

export interface CampaignCountsTable {
  run_id: number;
  variant: number;
  stage: number;
  n: number;
}

export interface CampaignChatsTable {
  conversation_id: string;
  seq: number;
  run_id: number;
  contact_id: string;
  /** The contact's account: receipts from anyone else (the business's own) are not theirs. */
  account_id: string;
  sent_at: number;
}

export interface NotificationsTable {
  id: string;
  business_id: string;
  idempotency_key: string;
  contact_id: string;
  template_version_id: string;
  purpose: string;
  variables: string;
  /** queued | sent | delivered | read | failed */
  status: string;
  reason: string | null;
  message_id: string | null;
  conversation_id: string | null;
  seq: number | null;
  created_at: number;
  updated_at: number;
}

export interface CampaignsTables {
  campaigns: CampaignsTable;
  campaign_runs: CampaignRunsTable;
  campaign_recipients: CampaignRecipientsTable;
  campaign_counts: CampaignCountsTable;
  campaign_chats: CampaignChatsTable;
  notifications: NotificationsTable;
}
