/** The tables the bots capability owns (Kysely types). Times are Unix milliseconds. */

/** A bot: an account of kind `bot` (owned by accounts) plus what only bots have. */
export interface BotsTable {
  /** The bot's account id. */
  account_id: string;
  owner_id: string;
  name: string;
  /** SHA-256 of the current token; null once the bot is deleted. */
  token_hash: string | null;
  token_created_at: number;
  /** JSON: [{command, description}]. */
  commands: string;
  created_at: number;
  deleted_at: number | null;
}

/** A receiver of one account's events (or, `kind = custom`, of bodies another capability builds). */
export interface WebhooksTable {
  id: string;
  account_id: string;
  url: string;
  /** JSON array of event types, or null for all. */
  events: string | null;
  /** `whsec_…` (Standard Webhooks); empty for custom webhooks, which bring their own headers. */
  secret: string;
  /** `standard`: MMD's signed event deliveries; `custom`: another capability's (Telegram's setWebhook). */
  kind: 'standard' | 'custom';
  /** custom only: a label naming its owner capability (`telegram`). */
  purpose: string | null;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  failing_since: number | null;
  /** Failed attempts since the last success. */
  failures: number;
  created_at: number;
  deleted_at: number | null;
  /** The drain lock: one worker at a time sends a webhook's deliveries, so each conversation's stay in order. */
  lock_token: string | null;
  locked_until: number;
  /**
   * Deliveries written since a sender last looked: the first one (0 → 1) enqueues a job; the
   * sender resets it before releasing the lock and looks again, so one job serves a burst.
   */
  wake_pending: number;
}

export interface WebhookDeliveriesTable {
  /** Stable id, sent as `webhook-id`: the same on every retry and replay. */
  id: string;
  webhook_id: string;
  /** Order is kept within a lane: the conversation, or `-` for account-level events. */
  lane: string;
  /** Increasing within the webhook: the order of sending within a lane. */
  seq: number;
  event_type: string;
  cursor: number | null;
  conversation_id: string | null;
  /** The request body, exactly as signed and sent. */
  body: string;
  /** JSON object of extra headers (custom deliveries). */
  headers: string | null;
  /** `dropped`: withdrawn unsent (its message is gone, or the account left the conversation); `last_error` says why. */
  status: 'pending' | 'succeeded' | 'failed' | 'dropped';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  next_attempt_at: number;
  /** Retries stop this long after it (creation, or the last replay). */
  window_start: number;
  created_at: number;
  delivered_at: number | null;
}

export interface BotsTables {
  bots: BotsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
