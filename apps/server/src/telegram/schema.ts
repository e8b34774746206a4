/** The tables the telegram capability owns (Kysely types). Times are Unix milliseconds. */

/**
 * Telegram's numeric ids for MMD's string ids. Telegram ids are integers that fit a JS number;
 * MMD's are random strings, so each one gets a number once and keeps it. `kind` is `user` (an
 * account) or `chat` (a group or channel; direct chats use the peer's user id, as Telegram does).
 */
export interface TelegramIdsTable {
  kind: 'user' | 'chat';
  mmd_id: string;
  num: number;
}

/** One row per bot that has used the Telegram path: where its updates stand and where they go. */
export interface TelegramBotsTable {
  account_id: string;
  /** Every event up to this cursor is confirmed (getUpdates offset, or delivered to the webhook). */
  confirmed_cursor: number;
  /** JSON array of update types, or null for Telegram's default (all but chat_member). */
  allowed_updates: string | null;
  webhook_url: string | null;
  webhook_secret: string | null;
  webhook_max_connections: number;
  last_error_at: number | null;
  last_error_message: string | null;
  /** The process delivering this bot's webhook holds it until then (several API processes). */
  lease_owner: string | null;
  lease_until: number | null;
  /** JSON [{command, description}] set by setMyCommands (until bots owns commands). */
  commands: string | null;
  updated_at: number;
}

/**
 * The direct chats a bot has seen, by the peer's numeric id: a positive chat_id names the bot's
 * private chat with that user, and a bot may write only where it already has one (Telegram: "bot
 * can't initiate conversation with a user").
 */
export interface TelegramChatsTable {
  bot_id: string;
  chat_num: number;
  conversation_id: string;
}

/** What a plain MMD message cannot carry and a Telegram bot reads back: formatting entities, and how the bot sent its media. */
export interface TelegramMessagesTable {
  message_id: string;
  /** JSON MessageEntity[] of the text (or caption). */
  entities: string | null;
  /** photo, video, animation, audio, voice, document, sticker: what the bot called it. */
  media_kind: string | null;
}

export interface TelegramTables {
  telegram_ids: TelegramIdsTable;
  telegram_bots: TelegramBotsTable;
  telegram_chats: TelegramChatsTable;
  telegram_messages: TelegramMessagesTable;
}
