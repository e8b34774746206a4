/**
 * Automation without code, for business accounts: rules that answer a contact's message in a
 * direct chat (keywords, a pattern, the first message, outside business hours), greeting and away
 * messages, a bot/human state per conversation, tags, and an optional assistant (any
 * OpenAI-compatible chat-completions endpoint) that answers where no rule matched.
 */
import { type Static, Type } from 'typebox';
import { ButtonInput, ListInput, QuickRepliesInput } from './interactive.ts';
import { MAX_MESSAGE_TEXT } from './schemas.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/** Most rules one business may keep. */
export const MAX_AUTOMATION_RULES = 50;
/** Most saved templates one business may keep. */
export const MAX_AUTOMATION_TEMPLATES = 50;
/** Longest rule pattern, in characters (patterns run on RE2 semantics: linear time, no backreferences). */
export const MAX_PATTERN_LENGTH = 200;
/** Placeholders a reply or template may use: `{{handle}}` is the contact's handle. */
export const TEMPLATE_PLACEHOLDERS = ['handle', 'business', 'date', 'time'] as const;

const ReplyText = Type.String({
  minLength: 1,
  maxLength: MAX_MESSAGE_TEXT,
  description: 'may use {{handle}} (the contact), {{business}}, {{date}} and {{time}} (in the business time zone)',
});
const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$', description: 'HH:MM, 24-hour; 24:00 ends a day' });
export const TimeRange = Type.Object({ start: Clock, end: Clock }, { additionalProperties: false });
export type TimeRange = Static<typeof TimeRange>;
const Day = Type.Array(TimeRange, { maxItems: 4 });
export const WeeklyHours = Type.Object(
  {
    mon: Type.Optional(Day),
    tue: Type.Optional(Day),
    wed: Type.Optional(Day),
    thu: Type.Optional(Day),
    fri: Type.Optional(Day),
    sat: Type.Optional(Day),
    sun: Type.Optional(Day),
  },
  { additionalProperties: false, description: 'open ranges per weekday, in local time; a missing or empty day is closed' },
);
export type WeeklyHours = Static<typeof WeeklyHours>;
export const BusinessHours = Type.Object(
  {
    timezone: Type.String({ minLength: 1, maxLength: 64, description: 'an IANA time zone, e.g. Europe/Berlin' }),
    weekly: WeeklyHours,
  },
  { additionalProperties: false },
);
export type BusinessHours = Static<typeof BusinessHours>;

export const AutoMessage = Type.Object({ enabled: Type.Boolean(), text: Type.Union([ReplyText, Type.Null()]) }, { additionalProperties: false });

export const AssistantSettings = Type.Object({
  enabled: Type.Boolean(),
  url: Type.Union([Type.String(), Type.Null()], { description: 'base URL of an OpenAI-compatible API (…/v1); /chat/completions is added' }),
  model: Type.Union([Type.String(), Type.Null()]),
  system_prompt: Type.Union([Type.String(), Type.Null()]),
  context_messages: Type.Integer({ minimum: 1, maximum: 30 }),
  api_key_set: Type.Boolean({ description: 'the key itself is never shown again' }),
});
export type AssistantSettings = Static<typeof AssistantSettings>;

export const AutomationSettings = Type.Object({
  enabled: Type.Boolean({ description: 'off: nothing runs (rules, greeting, away, assistant)' }),
  hours: Type.Union([BusinessHours, Type.Null()], { description: 'null: always open (no away message, outside_hours never matches)' }),
  greeting: AutoMessage,
  away: AutoMessage,
  handover: Type.Object({
    keywords: Type.Array(Type.String(), { description: 'a contact writing one of these words is handed to a person' }),
    text: Type.Union([Type.String(), Type.Null()], { description: 'sent when that happens' }),
  }),
  assistant: AssistantSettings,
  webhook_secret: Type.String({ description: 'whsec_…: rule webhooks are signed with it per Standard Webhooks' }),
  updated_at: Type.Union([Millis, Type.Null()]),
});
export type AutomationSettings = Static<typeof AutomationSettings>;

const Keyword = Type.String({ minLength: 1, maxLength: 50 });
export const UpdateAutomationBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    hours: Type.Optional(Type.Union([BusinessHours, Type.Null()])),
    greeting: Type.Optional(AutoMessage),
    away: Type.Optional(AutoMessage),
    handover: Type.Optional(
      Type.Object(
        {
          keywords: Type.Array(Keyword, { maxItems: 20 }),
          text: Type.Union([ReplyText, Type.Null()]),
        },
        { additionalProperties: false },
      ),
    ),
    assistant: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          url: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()])),
          model: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
          system_prompt: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4000 }), Type.Null()])),
          context_messages: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
          api_key: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()], { description: 'write-only; null removes it' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'fields given replace those stored; others stay' },
);
export type UpdateAutomationBody = Static<typeof UpdateAutomationBody>;

export const RuleTrigger = Type.Union([
  Type.Object(
    { type: Type.Literal('keywords'), keywords: Type.Array(Keyword, { minItems: 1, maxItems: 20 }) },
    { additionalProperties: false, description: 'any of these words or phrases, ignoring case, as whole words' },
  ),
  Type.Object(
    {
      type: Type.Literal('pattern'),
      pattern: Type.String({ minLength: 1, maxLength: MAX_PATTERN_LENGTH }),
      case_sensitive: Type.Optional(Type.Boolean({ description: 'default false' })),
    },
    { additionalProperties: false, description: 'a regular expression (RE2 syntax: linear-time, no backreferences or lookaround)' },
  ),
  Type.Object({ type: Type.Literal('first_message') }, { additionalProperties: false, description: "the contact's first message in the chat" }),
  Type.Object({ type: Type.Literal('outside_hours') }, { additionalProperties: false, description: 'a message arriving outside business hours' }),
]);
export type RuleTrigger = Static<typeof RuleTrigger>;

/** What an interactive reply may carry besides its text (the interactive limits apply). */
const InteractiveReplyFields = {
  buttons: Type.Optional(Type.Array(Type.Array(ButtonInput), { description: 'rows of buttons (≤ 8 per row, ≤ 100 in all)' })),
  quick_replies: Type.Optional(QuickRepliesInput),
  list: Type.Optional(ListInput),
};

export const RuleAction = Type.Union([
  Type.Object({ type: Type.Literal('reply'), text: ReplyText }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('interactive'), text: ReplyText, ...InteractiveReplyFields },
    { additionalProperties: false, description: 'a text with buttons, a quick-reply keyboard or a list; refused with interactive_limit when over a limit' },
  ),
  Type.Object({ type: Type.Literal('template'), template_id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('tag'), tag: Type.String({ minLength: 1, maxLength: 32, pattern: '^[^\\s].*$' }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('handover') }, { additionalProperties: false, description: 'hand the conversation to a person: automation stops there' }),
  Type.Object(
    { type: Type.Literal('webhook'), url: Type.String({ minLength: 1, maxLength: 500, description: 'POSTed the message, signed per Standard Webhooks with webhook_secret' }) },
    { additionalProperties: false },
  ),
]);
export type RuleAction = Static<typeof RuleAction>;

export const Rule = Type.Object({
  id: Type.String(),
  name: Type.String(),
  enabled: Type.Boolean(),
  position: Type.Integer({ minimum: 0, description: 'rules are tried in this order; the first that matches fires' }),
  trigger: RuleTrigger,
  actions: Type.Array(RuleAction),
  created_at: Millis,
  updated_at: Millis,
});
export type Rule = Static<typeof Rule>;
const RuleName = Type.String({ minLength: 1, maxLength: 100 });
const RuleActions = Type.Array(RuleAction, { minItems: 1, maxItems: 5 });
export const CreateRuleBody = Type.Object(
  { name: RuleName, enabled: Type.Optional(Type.Boolean()), position: Type.Optional(Type.Integer({ minimum: 0 })), trigger: RuleTrigger, actions: RuleActions },
  { additionalProperties: false },
);
export type CreateRuleBody = Static<typeof CreateRuleBody>;
export const UpdateRuleBody = Type.Object(
  { name: Type.Optional(RuleName), enabled: Type.Optional(Type.Boolean()), position: Type.Optional(Type.Integer({ minimum: 0 })), trigger: Type.Optional(RuleTrigger), actions: Type.Optional(RuleActions) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateRuleBody = Static<typeof UpdateRuleBody>;
export const RuleList = Type.Object({ rules: Type.Array(Rule) });
export type RuleList = Static<typeof RuleList>;

export const Template = Type.Object({ id: Type.String(), name: Type.String(), text: Type.String(), created_at: Millis, updated_at: Millis });
export type Template = Static<typeof Template>;
export const CreateTemplateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), text: ReplyText }, { additionalProperties: false });
export type CreateTemplateBody = Static<typeof CreateTemplateBody>;
export const UpdateTemplateBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), text: Type.Optional(ReplyText) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateTemplateBody = Static<typeof UpdateTemplateBody>;
export const TemplateList = Type.Object({ templates: Type.Array(Template) });
export type TemplateList = Static<typeof TemplateList>;

export const TryAutomationBody = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_TEXT }),
    first_message: Type.Optional(Type.Boolean({ description: "treat it as the contact's first message (default false)" })),
    at: Type.Optional(Type.Integer({ minimum: 0, description: 'when it arrives (Unix ms; default now): tries business hours' })),
    contact_handle: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'fills {{handle}} (default "contact")' })),
  },
  { additionalProperties: false },
);
export type TryAutomationBody = Static<typeof TryAutomationBody>;

/** One thing automation would do, in order. */
export const PlannedStep = Type.Union([
  Type.Object({ type: Type.Literal('send'), source: Type.Enum(['handover', 'greeting', 'away', 'rule']), text: Type.String(), ...InteractiveReplyFields }),
  Type.Object({ type: Type.Literal('tag'), tag: Type.String() }),
  Type.Object({ type: Type.Literal('handover') }),
  Type.Object({ type: Type.Literal('webhook'), url: Type.String() }),
  Type.Object({ type: Type.Literal('assistant'), description: Type.String() }),
]);
export type PlannedStep = Static<typeof PlannedStep>;
export const TryAutomationReply = Type.Object({
  enabled: Type.Boolean(),
  outside_hours: Type.Boolean(),
  rule: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()], { description: 'the rule that would fire' }),
  steps: Type.Array(PlannedStep, { description: 'what would happen, in order; nothing is sent' }),
});
export type TryAutomationReply = Static<typeof TryAutomationReply>;

/** What automation did with one contact message, newest first (kept 7 days). */
export const AutomationActivity = Type.Object({
  message_id: Type.String(),
  conversation_id: Type.String(),
  outcome: Type.String({
    description:
      'rule:<id> | greeting_or_away | assistant | handover | none (nothing matched) | human (a person has the chat) | rate_limited | disabled | not_a_person | refused (the send was refused) | assistant_failed',
  }),
  sent: Type.Integer({ minimum: 0, description: 'messages automation sent for it' }),
  at: Millis,
});
export type AutomationActivity = Static<typeof AutomationActivity>;
export const AutomationActivityList = Type.Object({ activity: Type.Array(AutomationActivity) });
export type AutomationActivityList = Static<typeof AutomationActivityList>;

export const ConversationAutomation = Type.Object({
  conversation_id: Type.String(),
  state: Type.Enum(['bot', 'human'], { description: 'human: a person on the team has it; automation stays silent until handed back' }),
  changed_at: Type.Union([Millis, Type.Null()]),
  tags: Type.Array(Type.String()),
});
export type ConversationAutomation = Static<typeof ConversationAutomation>;
export const HandoverBody = Type.Object({ to: Type.Enum(['human', 'bot']) }, { additionalProperties: false });
export type HandoverBody = Static<typeof HandoverBody>;
export const TagBody = Type.Object({ tag: Type.String({ minLength: 1, maxLength: 32, pattern: '^[^\\s].*$' }) }, { additionalProperties: false });
export type TagBody = Static<typeof TagBody>;
export const AutomationConversationList = Type.Object({ conversations: Type.Array(ConversationAutomation) });
export type AutomationConversationList = Static<typeof AutomationConversationList>;
