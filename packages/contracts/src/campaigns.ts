/**
 * Campaigns (a business's messages to many contacts, each in their own chat with the business)
 * and transactional notifications (one message to one contact, idempotent by key).
 */
import { type Static, Type } from 'typebox';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const ContactId = Type.String({ minLength: 1, maxLength: 64 });

/** Most contact ids (or external ids) in an inline audience list; larger audiences use a segment. */
export const MAX_CAMPAIGN_LIST = 10_000;
/** Most A/B variants in one campaign. */
export const MAX_CAMPAIGN_VARIANTS = 5;

/** Who a campaign goes to: a saved segment, an inline rule, or a list of contacts. */
export const CampaignAudience = Type.Union([
  Type.Object({ segment_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ rule: Type.Record(Type.String(), Type.Unknown(), { description: 'a segment rule, as /v1/business/segments takes it' }) }, { additionalProperties: false }),
  Type.Object({ contact_ids: Type.Array(ContactId, { minItems: 1, maxItems: MAX_CAMPAIGN_LIST, uniqueItems: true }) }, { additionalProperties: false }),
  Type.Object({ external_ids: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: MAX_CAMPAIGN_LIST, uniqueItems: true }) }, { additionalProperties: false }),
]);
export type CampaignAudience = Static<typeof CampaignAudience>;

/** When a campaign sends. */
export const CampaignSchedule = Type.Union([
  Type.Object({ kind: Type.Literal('now') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('at'), at: Type.String({ format: 'date-time', description: 'an instant (ISO 8601 with offset)' }) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('local'),
      local_time: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$', description: "a wall-clock time, e.g. 2026-12-24T09:00: each recipient gets it at that time in their own time zone" }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('recurring'),
      cron: Type.String({ minLength: 1, maxLength: 120, description: 'a cron expression (croner syntax); each occurrence is a run' }),
      time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "IANA zone the expression is read in (default: the business's)" })),
    },
    { additionalProperties: false },
  ),
]);
export type CampaignSchedule = Static<typeof CampaignSchedule>;

export const CampaignVariantInput = Type.Object(
  {
    template_version_id: Type.String({ minLength: 1, maxLength: 64, description: 'an approved template version' }),
    weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'share of the audience, relative to the other variants (default equal shares)' })),
  },
  { additionalProperties: false },
);

export const CreateCampaignBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    purpose: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_-]*$', description: 'consent purpose (default marketing; the consent gate applies)' })),
    audience: CampaignAudience,
    variants: Type.Array(CampaignVariantInput, { minItems: 1, maxItems: MAX_CAMPAIGN_VARIANTS, description: 'one template version, or several for an A/B test (each contact gets one, by a stable hash)' }),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1000 }), { description: 'values for template variables that are the same for everyone' })),
    schedule: Type.Optional(CampaignSchedule),
    throttle_per_second: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'messages per second, at least 1 (default 50)' })),
    send_until: Type.Optional(Type.String({ format: 'date-time', description: 'the send window ends here: a message not sent by then (quiet hours) is skipped' })),
  },
  { additionalProperties: false },
);
export type CreateCampaignBody = Static<typeof CreateCampaignBody>;

export const CampaignStatus = Type.Enum(['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled']);
export type CampaignStatus = Static<typeof CampaignStatus>;

/** Stages a recipient passes; funnel counts say how many reached each. */
export const RECIPIENT_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'read', 'clicked', 'replied', 'voted', 'opted_out', 'failed', 'skipped'] as const;
export const RecipientStatus = Type.Enum([...RECIPIENT_STATUSES]);
export type RecipientStatus = Static<typeof RecipientStatus>;

export const CampaignFunnel = Type.Object({
  planned: Type.Integer({ minimum: 0 }),
  sent: Type.Integer({ minimum: 0 }),
  delivered: Type.Integer({ minimum: 0 }),
  read: Type.Integer({ minimum: 0 }),
  clicked: Type.Integer({ minimum: 0 }),
  replied: Type.Integer({ minimum: 0 }),
  voted: Type.Integer({ minimum: 0 }),
  opted_out: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  skipped: Type.Integer({ minimum: 0 }),
});
export type CampaignFunnel = Static<typeof CampaignFunnel>;

export const CampaignRun = Type.Object({
  id: Type.Integer(),
  kind: Type.Enum(['scheduled', 'recurring', 'resend']),
  status: Type.Enum(['waiting', 'planning', 'sending', 'done', 'cancelled']),
  scheduled_at: Millis,
  planned: Type.Integer({ minimum: 0 }),
  finished_at: Type.Union([Millis, Type.Null()]),
});
export type CampaignRun = Static<typeof CampaignRun>;

export const Campaign = Type.Object({
  id: Type.String(),
  name: Type.String(),
  purpose: Type.String(),
  status: CampaignStatus,
  audience: CampaignAudience,
  variants: Type.Array(Type.Object({ name: Type.String(), template_version_id: Type.String(), weight: Type.Integer() })),
  variables: Type.Record(Type.String(), Type.String()),
  schedule: CampaignSchedule,
  throttle_per_second: Type.Integer({ minimum: 1 }),
  send_until: Type.Union([Millis, Type.Null()]),
  next_run_at: Type.Union([Millis, Type.Null()], { description: "when the next run starts planning (a scheduled or recurring campaign's)" }),
  created_by: Type.String(),
  created_at: Millis,
  updated_at: Millis,
});
export type Campaign = Static<typeof Campaign>;

export const CampaignDetail = Type.Intersect([
  Campaign,
  Type.Object({
    funnel: CampaignFunnel,
    variant_funnels: Type.Array(Type.Object({ name: Type.String(), funnel: CampaignFunnel })),
    runs: Type.Array(CampaignRun),
  }),
]);
export type CampaignDetail = Static<typeof CampaignDetail>;

export const CampaignList = Type.Object({ campaigns: Type.Array(Campaign), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export type CampaignList = Static<typeof CampaignList>;

export const CampaignRecipient = Type.Object({
  run_id: Type.Integer(),
  contact_id: Type.String(),
  variant: Type.String(),
  status: RecipientStatus,
  reason: Type.Union([Type.String(), Type.Null()]),
  message_id: Type.Union([Type.String(), Type.Null()]),
  send_after: Type.Union([Millis, Type.Null()]),
  updated_at: Millis,
});
export type CampaignRecipient = Static<typeof CampaignRecipient>;
export const CampaignRecipientList = Type.Object({ recipients: Type.Array(CampaignRecipient), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export type CampaignRecipientList = Static<typeof CampaignRecipientList>;

export const ResendCampaignBody = Type.Object({ to: Type.Enum(['failed', 'unread']) }, { additionalProperties: false });
export type ResendCampaignBody = Static<typeof ResendCampaignBody>;
export const TestCampaignBody = Type.Object(
  { handles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20, description: 'team members to send to (default: yourself)' })) },
  { additionalProperties: false },
);
export type TestCampaignBody = Static<typeof TestCampaignBody>;
export const TestCampaignReply = Type.Object({ sent: Type.Array(Type.Object({ handle: Type.String(), variant: Type.String(), message_id: Type.String() })) });
export type TestCampaignReply = Static<typeof TestCampaignReply>;

/** POST /v1/notifications: one transactional message to one contact. */
export const CreateNotificationBody = Type.Object(
  {
    template_version_id: Type.String({ minLength: 1, maxLength: 64 }),
    contact_id: Type.Optional(ContactId),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1000 }))),
    idempotency_key: Type.String({ minLength: 1, maxLength: 128, description: 'the same key returns the same notification and never sends twice' }),
    purpose: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_-]*$', description: 'default transactional' })),
  },
  { additionalProperties: false },
);
export type CreateNotificationBody = Static<typeof CreateNotificationBody>;

export const NotificationStatus = Type.Enum(['queued', 'sent', 'delivered', 'read', 'failed']);
export type NotificationStatus = Static<typeof NotificationStatus>;
export const Notification = Type.Object({
  id: Type.String(),
  contact_id: Type.String(),
  template_version_id: Type.String(),
  idempotency_key: Type.String(),
  status: NotificationStatus,
  reason: Type.Union([Type.String(), Type.Null()]),
  message_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Millis,
  updated_at: Millis,
});
export type Notification = Static<typeof Notification>;
