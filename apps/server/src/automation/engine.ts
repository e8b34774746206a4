/**
 * What automation does with one incoming message, decided without side effects: the job carries
 * the plan out, and `POST /v1/automation/try` shows it without sending. Order (documented in
 * docs/bots.md): a request for a person (handover keywords) ends it there; otherwise the greeting
 * (first message), the away message (outside hours, at most once per AWAY_COOLDOWN_MS), then the
 * first enabled rule whose trigger matches; the assistant answers when no rule matched.
 */
import { type BusinessHours, type ButtonInput, type ListInput, type QuickRepliesInput, type Rule, type RuleAction, type RuleTrigger, TEMPLATE_PLACEHOLDERS, type Template } from '@mmd/contracts';
import { isOpen, localTime } from './hours.ts';
import { matchesKeywords, matchesPattern } from './pattern.ts';

/** The away message is sent at most once per conversation in this long. */
export const AWAY_COOLDOWN_MS = 12 * 60 * 60 * 1000;

export interface StoredSettings {
  hours: BusinessHours | null;
  greeting: { enabled: boolean; text: string | null };
  away: { enabled: boolean; text: string | null };
  handover: { keywords: string[]; text: string | null };
  assistant: { enabled: boolean; url: string | null; model: string | null; system_prompt: string | null; context_messages: number };
}

export const DEFAULT_SETTINGS: StoredSettings = {
  hours: null,
  greeting: { enabled: false, text: null },
  away: { enabled: false, text: null },
  handover: { keywords: ['human', 'agent', 'person'], text: 'A person from our team will answer you here soon.' },
  assistant: { enabled: false, url: null, model: null, system_prompt: null, context_messages: 10 },
};

/** Buttons, a keyboard or a list sent with a rule's text. */
export interface InteractiveReply {
  buttons?: ButtonInput[][];
  quick_replies?: QuickRepliesInput;
  list?: ListInput;
}

export type Step =
  | { type: 'send'; source: 'handover' | 'greeting' | 'away' | 'rule'; text: string; key: string; interactive?: InteractiveReply }
  | { type: 'tag'; tag: string }
  | { type: 'handover' }
  | { type: 'webhook'; url: string; key: string; ruleId: string }
  | { type: 'assistant' };

export interface Plan {
  outsideHours: boolean;
  rule: { id: string; name: string } | null;
  steps: Step[];
}

export interface PlanInput {
  settings: StoredSettings;
  rules: readonly Rule[];
  templates: ReadonlyMap<string, Template>;
  /** The message's text (null for media alone: only first_message and outside_hours can match). */
  text: string | null;
  firstMessage: boolean;
  at: number;
  /** True when the away message went out here within AWAY_COOLDOWN_MS. */
  awayRecentlySent: boolean;
  vars: { handle: string; business: string };
}

/** Fills {{handle}}, {{business}}, {{date}} and {{time}}; anything else is left as written. */
export function render(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** Placeholders in a text that MMD does not fill (refused when a reply or template is saved). */
export function unknownPlaceholders(text: string): string[] {
  const known = new Set<string>(TEMPLATE_PLACEHOLDERS);
  return [...text.matchAll(/\{\{\s*([^}\s]*)\s*\}\}/g)].map((m) => m[1]!).filter((name) => !known.has(name));
}

export function outsideHours(hours: BusinessHours | null, at: number): boolean {
  return hours !== null && !isOpen(hours, at);
}

export function triggerMatches(trigger: RuleTrigger, input: { text: string | null; firstMessage: boolean; outsideHours: boolean }): boolean {
  switch (trigger.type) {
    case 'keywords':
      return input.text !== null && matchesKeywords(input.text, trigger.keywords);
    case 'pattern':
      return input.text !== null && matchesPattern(input.text, trigger.pattern, trigger.case_sensitive ?? false);
    case 'first_message':
      return input.firstMessage;
    case 'outside_hours':
      return input.outsideHours;
    default: {
      const never: never = trigger;
      return never;
    }
  }
}

function actionSteps(rule: Rule, action: RuleAction, index: number, input: PlanInput, vars: Record<string, string>): Step[] {
  const key = `rule:${rule.id}:${index}`;
  switch (action.type) {
    case 'reply':
      return [{ type: 'send', source: 'rule', text: render(action.text, vars), key }];
    case 'interactive': {
      const { type: _type, text, ...interactive } = action;
      return [{ type: 'send', source: 'rule', text: render(text, vars), key, interactive }];
    }
    case 'template': {
      const template = input.templates.get(action.template_id);
      // A template deleted after the rule was saved sends nothing rather than a stale text.
      return template ? [{ type: 'send', source: 'rule', text: render(template.text, vars), key }] : [];
    }
    case 'tag':
      return [{ type: 'tag', tag: action.tag }];
    case 'handover':
      return [{ type: 'handover' }];
    case 'webhook':
      return [{ type: 'webhook', url: action.url, key, ruleId: rule.id }];
    default: {
      const never: never = action;
      return never;
    }
  }
}

export function plan(input: PlanInput): Plan {
  const { settings } = input;
  const tz = settings.hours?.timezone ?? 'UTC';
  const local = localTime(input.at, tz);
  const vars = { ...input.vars, date: local.date, time: local.time };
  const outside = outsideHours(settings.hours, input.at);
  const steps: Step[] = [];

  if (input.text !== null && settings.handover.keywords.length > 0 && matchesKeywords(input.text, settings.handover.keywords)) {
    if (settings.handover.text) steps.push({ type: 'send', source: 'handover', text: render(settings.handover.text, vars), key: 'handover' });
    steps.push({ type: 'handover' });
    return { outsideHours: outside, rule: null, steps };
  }
  if (input.firstMessage && settings.greeting.enabled && settings.greeting.text) {
    steps.push({ type: 'send', source: 'greeting', text: render(settings.greeting.text, vars), key: 'greeting' });
  }
  if (outside && settings.away.enabled && settings.away.text && !input.awayRecentlySent) {
    steps.push({ type: 'send', source: 'away', text: render(settings.away.text, vars), key: 'away' });
  }
  const facts = { text: input.text, firstMessage: input.firstMessage, outsideHours: outside };
  const rule = input.rules.find((r) => r.enabled && triggerMatches(r.trigger, facts)) ?? null;
  if (rule) {
    for (const [i, action] of rule.actions.entries()) steps.push(...actionSteps(rule, action, i, input, vars));
  } else if (input.text !== null && settings.assistant.enabled && settings.assistant.url && settings.assistant.model) {
    steps.push({ type: 'assistant' });
  }
  return { outsideHours: outside, rule: rule ? { id: rule.id, name: rule.name } : null, steps };
}
