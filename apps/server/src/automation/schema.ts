/** The tables the automation capability owns (Kysely types). Times are Unix milliseconds. */

export interface AutomationSettingsTable {
  /** The business account these settings belong to. */
  business_id: string;
  /** 1 when automation runs for this business. */
  enabled: number;
  /** JSON: hours, greeting, away, handover, assistant (without its key). */
  settings: string;
  /** The assistant's API key, sealed with the server's automation secret (secret-box.ts); null if none. */
  assistant_key: string | null;
  /** whsec_…: signs rule webhooks (Standard Webhooks). */
  webhook_secret: string;
  updated_at: number;
}

export interface AutomationRulesTable {
  id: string;
  business_id: string;
  position: number;
  name: string;
  enabled: number;
  /** JSON RuleTrigger. */
  trigger: string;
  /** JSON RuleAction[]. */
  actions: string;
  created_at: number;
  updated_at: number;
}

export interface AutomationTemplatesTable {
  id: string;
  business_id: string;
  name: string;
  text: string;
  created_at: number;
  updated_at: number;
}

/** The bot/human state of one business's direct chat (no row: bot). */
export interface AutomationConversationsTable {
  business_id: string;
  conversation_id: string;
  state: 'bot' | 'human';
  changed_at: number;
  /** When the away message was last sent here (it is sent at most once per AWAY_COOLDOWN_MS). */
  away_sent_at: number | null;
}

export interface AutomationTagsTable {
  business_id: string;
  conversation_id: string;
  tag: string;
  created_at: number;
}

/** One row per message automation handled: the per-conversation rate limit counts these. */
export interface AutomationRunsTable {
  business_id: string;
  message_id: string;
  conversation_id: string;
  /** How many messages automation sent for it (0: nothing matched, or a person has the chat). */
  sent: number;
  /** What happened, for the log: handover | rule:<id> | greeting | away | assistant | human | rate_limited | none. */
  outcome: string;
  at: number;
}

export interface AutomationTables {
  automation_settings: AutomationSettingsTable;
  automation_rules: AutomationRulesTable;
  automation_templates: AutomationTemplatesTable;
  automation_conversations: AutomationConversationsTable;
  automation_tags: AutomationTagsTable;
  automation_runs: AutomationRunsTable;
}
