/**
 * Bots and webhooks: a person creates and owns bots (accounts of kind `bot` with a bearer token),
 * sets their "/" commands, and bot and business accounts register webhooks that receive their
 * events signed per the Standard Webhooks specification.
 */
import { type Static, Type } from 'typebox';
import { EVENT_TYPES } from './events.ts';
import { Handle } from './schemas.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** A bot's display name. */
export const BotName = Type.String({ minLength: 1, maxLength: 64 });

export const Bot = Type.Object({
  id: Type.String({ description: "the bot's account id" }),
  handle: Type.String(),
  name: Type.String(),
  owner_id: Type.String({ description: 'the person who owns the bot' }),
  created_at: Millis,
  /** When the current token was made (rotation replaces it). */
  token_created_at: Millis,
});
export type Bot = Static<typeof Bot>;

export const CreateBotBody = Type.Object({ handle: Handle, name: BotName }, { additionalProperties: false });
export type CreateBotBody = Static<typeof CreateBotBody>;
export const BotWithToken = Type.Object({
  bot: Bot,
  /** The bot's bearer token (native API, and its token on the Telegram path). Shown once. */
  token: Type.String({ description: 'shown once; store it' }),
});
export type BotWithToken = Static<typeof BotWithToken>;
export const BotList = Type.Object({ bots: Type.Array(Bot) });
export type BotList = Static<typeof BotList>;
export const UpdateBotBody = Type.Object({ name: Type.Optional(BotName) }, { additionalProperties: false });
export type UpdateBotBody = Static<typeof UpdateBotBody>;

/** Most commands a bot may list (Telegram allows 100). */
export const MAX_BOT_COMMANDS = 100;
export const BotCommand = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]{1,32}$', description: 'without the slash: lower-case letters, digits, underscores' }),
    description: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export type BotCommand = Static<typeof BotCommand>;
export const BotCommands = Type.Object({ commands: Type.Array(BotCommand, { maxItems: MAX_BOT_COMMANDS }) }, { additionalProperties: false });
export type BotCommands = Static<typeof BotCommands>;

/** Event types a webhook may ask for (absent or empty: all of them). */
export const WebhookEventType = Type.String({ enum: [...EVENT_TYPES] as string[], description: `one of ${EVENT_TYPES.join(', ')}` });
export const WebhookStatus = Type.Enum(['active', 'disabled']);

export const Webhook = Type.Object({
  id: Type.String(),
  account_id: Type.String({ description: 'whose events it receives' }),
  url: Type.String(),
  /** null: every event type. */
  events: Nullable(Type.Array(Type.String())),
  status: WebhookStatus,
  disabled_reason: Nullable(Type.String()),
  created_at: Millis,
  /** Since when every attempt has failed (null while the last attempt succeeded). */
  failing_since: Nullable(Millis),
});
export type Webhook = Static<typeof Webhook>;
export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'https (or http where the operator allows it); never a private address' }),
    events: Type.Optional(Type.Array(WebhookEventType, { maxItems: EVENT_TYPES.length, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;
export const CreatedWebhook = Type.Intersect([
  Webhook,
  Type.Object({ secret: Type.String({ description: "whsec_…: the Standard Webhooks signing secret; shown once" }) }),
]);
export type CreatedWebhook = Static<typeof CreatedWebhook>;
export const WebhookList = Type.Object({ webhooks: Type.Array(Webhook) });
export type WebhookList = Static<typeof WebhookList>;
export const UpdateWebhookBody = Type.Object(
  { enabled: Type.Optional(Type.Boolean({ description: 'true re-enables a disabled webhook (its waiting deliveries resume)' })), events: Type.Optional(Type.Union([Type.Array(WebhookEventType, { uniqueItems: true }), Type.Null()])) },
  { additionalProperties: false },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

/** `dropped`: withdrawn before it went out (its message was deleted or taken down, or the account left the conversation); `last_error` says why. Never retried or replayed. */
export const DeliveryStatus = Type.Enum(['pending', 'succeeded', 'failed', 'dropped']);
export const WebhookDelivery = Type.Object({
  /** The stable `webhook-id`: the same on every retry and replay, for deduplication. */
  id: Type.String(),
  webhook_id: Type.String(),
  event_type: Type.String(),
  /** The event's cursor (null for deliveries that are not events). */
  cursor: Nullable(Type.Integer()),
  conversation_id: Nullable(Type.String()),
  status: DeliveryStatus,
  attempts: Type.Integer({ minimum: 0 }),
  /** HTTP status of the last attempt (null: no answer). */
  last_status: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  /** Milliseconds from sending to the last attempt's answer. */
  last_latency_ms: Nullable(Type.Integer()),
  next_attempt_at: Nullable(Millis),
  created_at: Millis,
  delivered_at: Nullable(Millis),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;
export const DeliveryList = Type.Object({ deliveries: Type.Array(WebhookDelivery), next: Nullable(Type.String({ description: 'pass as ?before= for older ones' })) });
export type DeliveryList = Static<typeof DeliveryList>;

/** The JSON body of every Standard Webhooks delivery MMD sends. */
export interface WebhookPayload {
  /** The event type (`message.created`, …). */
  type: string;
  /** ISO 8601 time the event happened. */
  timestamp: string;
  /** The event as `GET /v1/updates` gives it (cursor, type, conversation_id, at, data). */
  data: unknown;
}
