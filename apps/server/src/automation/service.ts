/**
 * Automation's settings, rules, templates, per-conversation state and tags, as the API edits them,
 * plus the "try a message" preview. Only business accounts have automation (others: 403
 * business_only); everything is keyed by the business's account id, so another business's rule
 * or template is simply not found (404).
 */
import { randomBytes } from 'node:crypto';
import {
  type AutomationActivity,
  type AutomationSettings,
  type ConversationAutomation,
  type CreateRuleBody,
  type CreateTemplateBody,
  MAX_AUTOMATION_RULES,
  MAX_AUTOMATION_TEMPLATES,
  type Rule,
  type RuleAction,
  type RuleTrigger,
  type Template,
  type TryAutomationBody,
  type TryAutomationReply,
  type UpdateAutomationBody,
  type UpdateRuleBody,
  type UpdateTemplateBody,
} from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { activeMembership } from '../conversations/index.ts';
import { prepareInteractive } from '../interactive/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { DEFAULT_SETTINGS, type Plan, type StoredSettings, plan, unknownPlaceholders } from './engine.ts';
import { hoursProblems } from './hours.ts';
import { patternProblem } from './pattern.ts';
import type { AutomationRulesTable, AutomationSettingsTable, AutomationTemplatesTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

type Reader = Database['db'] | Tx;
type Problems = { path: string; message: string }[];

export interface AutomationServiceDeps {
  db: Database;
  clock: () => number;
  box: SecretBox;
}

function assertBusiness(principal: Principal) {
  if (principal.kind !== 'business') throw new AppError('business_only', 'automation is for business accounts');
}

function invalid(problems: Problems): AppError {
  return new AppError('validation_failed', problems.map((p) => p.message).join('; '), { errors: problems });
}

export function parseSettings(row: Pick<AutomationSettingsTable, 'settings'> | undefined): StoredSettings {
  if (!row) return DEFAULT_SETTINGS;
  const stored = JSON.parse(row.settings) as Partial<StoredSettings>;
  return { ...DEFAULT_SETTINGS, ...stored, assistant: { ...DEFAULT_SETTINGS.assistant, ...stored.assistant } };
}

export function toRule(row: AutomationRulesTable): Rule {
  return {
    id: row.id,
    name: row.name,
    enabled: Number(row.enabled) === 1,
    position: Number(row.position),
    trigger: JSON.parse(row.trigger) as RuleTrigger,
    actions: JSON.parse(row.actions) as RuleAction[],
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

export function toTemplate(row: AutomationTemplatesTable): Template {
  return { id: row.id, name: row.name, text: row.text, created_at: Number(row.created_at), updated_at: Number(row.updated_at) };
}

export async function loadRules(db: Reader, businessId: string): Promise<Rule[]> {
  const rows = await db.selectFrom('automation_rules').selectAll().where('business_id', '=', businessId).orderBy('position').orderBy('created_at').execute();
  return rows.map(toRule);
}

export async function loadTemplates(db: Reader, businessId: string): Promise<Map<string, Template>> {
  const rows = await db.selectFrom('automation_templates').selectAll().where('business_id', '=', businessId).execute();
  return new Map(rows.map((r) => [r.id, toTemplate(r)]));
}

function placeholderProblems(path: string, text: string | null | undefined): Problems {
  if (!text) return [];
  const unknown = unknownPlaceholders(text);
  return unknown.length ? [{ path, message: `unknown placeholder {{${unknown[0]}}} (use {{handle}}, {{business}}, {{date}} or {{time}})` }] : [];
}

/** http(s) only; whether the address may be reached is decided when it is called (platform/outbound.ts). */
function urlProblem(path: string, value: string): Problems {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return [{ path, message: 'must be an http(s) URL' }];
    if (url.username || url.password) return [{ path, message: 'must not carry credentials' }];
    return [];
  } catch {
    return [{ path, message: 'must be an absolute http(s) URL' }];
  }
}

export function createAutomationService(deps: AutomationServiceDeps) {
  const { db, clock, box } = deps;

  async function settingsRow(reader: Reader, businessId: string) {
    return reader.selectFrom('automation_settings').selectAll().where('business_id', '=', businessId).executeTakeFirst();
  }

  function toSettings(row: AutomationSettingsTable | undefined, secret: string): AutomationSettings {
    const s = parseSettings(row);
    return {
      enabled: row ? Number(row.enabled) === 1 : false,
      hours: s.hours,
      greeting: s.greeting,
      away: s.away,
      handover: s.handover,
      assistant: { ...s.assistant, api_key_set: Boolean(row?.assistant_key) },
      webhook_secret: secret,
      updated_at: row ? Number(row.updated_at) : null,
    };
  }

  /** Settings exist from the first read on, so the webhook secret shown is the one used. */
  async function ensureSettings(tx: Reader, businessId: string): Promise<AutomationSettingsTable> {
    const existing = await settingsRow(tx, businessId);
    if (existing) return existing;
    const row: AutomationSettingsTable = {
      business_id: businessId,
      enabled: 0,
      settings: JSON.stringify(DEFAULT_SETTINGS),
      assistant_key: null,
      webhook_secret: `whsec_${randomBytes(32).toString('base64')}`,
      updated_at: clock(),
    };
    await tx.insertInto('automation_settings').values(row).onConflict((oc) => oc.column('business_id').doNothing()).execute();
    return (await settingsRow(tx, businessId))!;
  }

  function validateTrigger(trigger: RuleTrigger): Problems {
    if (trigger.type !== 'pattern') return [];
    const problem = patternProblem(trigger.pattern);
    return problem ? [{ path: '/trigger/pattern', message: `not a pattern RE2 accepts: ${problem}` }] : [];
  }

  async function validateActions(reader: Reader, businessId: string, actions: RuleAction[]): Promise<Problems> {
    const problems: Problems = [];
    for (const [i, action] of actions.entries()) {
      if (action.type === 'reply' || action.type === 'interactive') problems.push(...placeholderProblems(`/actions/${i}/text`, action.text));
      if (action.type === 'interactive') {
        const { type: _type, text: _text, ...interactive } = action;
        // The same limits a business's own send meets (interactive_limit, 400), checked when saved.
        prepareInteractive(interactive, { kind: 'business', now: clock() });
      }
      if (action.type === 'webhook') problems.push(...urlProblem(`/actions/${i}/url`, action.url));
      if (action.type === 'template') {
        const found = await reader.selectFrom('automation_templates').select('id').where('business_id', '=', businessId).where('id', '=', action.template_id).executeTakeFirst();
        if (!found) problems.push({ path: `/actions/${i}/template_id`, message: 'no such template' });
      }
    }
    return problems;
  }

  async function requireRule(reader: Reader, businessId: string, ruleId: string) {
    const row = await reader.selectFrom('automation_rules').selectAll().where('business_id', '=', businessId).where('id', '=', ruleId).executeTakeFirst();
    if (!row) throw notFound('rule');
    return row;
  }

  async function requireTemplate(reader: Reader, businessId: string, templateId: string) {
    const row = await reader.selectFrom('automation_templates').selectAll().where('business_id', '=', businessId).where('id', '=', templateId).executeTakeFirst();
    if (!row) throw notFound('template');
    return row;
  }

  /** The business's own direct chat; anything else (a group, someone else's chat) is not found. */
  async function requireChat(principal: Principal, conversationId: string) {
    assertBusiness(principal);
    const membership = await activeMembership(db.db, { conversationId, accountId: principal.accountId });
    if (membership?.kind !== 'direct') throw notFound('conversation');
  }

  async function conversationView(reader: Reader, businessId: string, conversationId: string): Promise<ConversationAutomation> {
    const state = await reader.selectFrom('automation_conversations').select(['state', 'changed_at']).where('business_id', '=', businessId).where('conversation_id', '=', conversationId).executeTakeFirst();
    const tags = await reader.selectFrom('automation_tags').select('tag').where('business_id', '=', businessId).where('conversation_id', '=', conversationId).orderBy('tag').execute();
    return { conversation_id: conversationId, state: state?.state ?? 'bot', changed_at: state ? Number(state.changed_at) : null, tags: tags.map((t) => t.tag) };
  }

  return {
    async getSettings(principal: Principal): Promise<AutomationSettings> {
      assertBusiness(principal);
      const row = await db.writeTransaction((tx) => ensureSettings(tx, principal.accountId));
      return toSettings(row, row.webhook_secret);
    },

    async updateSettings(principal: Principal, body: UpdateAutomationBody): Promise<AutomationSettings> {
      assertBusiness(principal);
      const problems: Problems = [];
      if (body.hours) problems.push(...hoursProblems(body.hours));
      problems.push(...placeholderProblems('/greeting/text', body.greeting?.text));
      problems.push(...placeholderProblems('/away/text', body.away?.text));
      problems.push(...placeholderProblems('/handover/text', body.handover?.text));
      if (body.greeting?.enabled && !body.greeting.text) problems.push({ path: '/greeting/text', message: 'an enabled greeting needs a text' });
      if (body.away?.enabled && !body.away.text) problems.push({ path: '/away/text', message: 'an enabled away message needs a text' });
      if (body.assistant?.url) problems.push(...urlProblem('/assistant/url', body.assistant.url));
      if (problems.length) throw invalid(problems);
      const row = await db.writeTransaction(async (tx) => {
        const current = await ensureSettings(tx, principal.accountId);
        const s = parseSettings(current);
        const { api_key: apiKey, ...assistant } = body.assistant ?? {};
        const next: StoredSettings = {
          hours: body.hours === undefined ? s.hours : body.hours,
          greeting: body.greeting ?? s.greeting,
          away: body.away ?? s.away,
          handover: body.handover ?? s.handover,
          assistant: { ...s.assistant, ...assistant },
        };
        const assistantKey = apiKey === undefined ? current.assistant_key : apiKey === null ? null : box.seal(apiKey);
        if (next.assistant.enabled && (!next.assistant.url || !next.assistant.model)) {
          throw invalid([{ path: '/assistant', message: 'an enabled assistant needs a url and a model' }]);
        }
        if (next.away.enabled && !next.hours) throw invalid([{ path: '/away', message: 'an away message needs business hours' }]);
        const updated: AutomationSettingsTable = {
          ...current,
          enabled: body.enabled === undefined ? Number(current.enabled) : body.enabled ? 1 : 0,
          settings: JSON.stringify(next),
          assistant_key: assistantKey,
          updated_at: clock(),
        };
        await tx.updateTable('automation_settings').set(updated).where('business_id', '=', principal.accountId).execute();
        return updated;
      });
      return toSettings(row, row.webhook_secret);
    },

    async listRules(principal: Principal): Promise<Rule[]> {
      assertBusiness(principal);
      return loadRules(db.db, principal.accountId);
    },

    async createRule(principal: Principal, body: CreateRuleBody): Promise<Rule> {
      assertBusiness(principal);
      return db.writeTransaction(async (tx) => {
        const count = await tx.selectFrom('automation_rules').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', principal.accountId).executeTakeFirstOrThrow();
        if (Number(count.n) >= MAX_AUTOMATION_RULES) throw new AppError('automation_limit', `a business keeps at most ${MAX_AUTOMATION_RULES} rules`);
        const problems = [...validateTrigger(body.trigger), ...(await validateActions(tx, principal.accountId, body.actions))];
        if (problems.length) throw invalid(problems);
        const now = clock();
        const row: AutomationRulesTable = {
          id: newId('rul'),
          business_id: principal.accountId,
          position: body.position ?? Number(count.n),
          name: body.name,
          enabled: body.enabled === false ? 0 : 1,
          trigger: JSON.stringify(body.trigger),
          actions: JSON.stringify(body.actions),
          created_at: now,
          updated_at: now,
        };
        await tx.insertInto('automation_rules').values(row).execute();
        return toRule(row);
      });
    },

    async updateRule(principal: Principal, ruleId: string, body: UpdateRuleBody): Promise<Rule> {
      assertBusiness(principal);
      return db.writeTransaction(async (tx) => {
        const row = await requireRule(tx, principal.accountId, ruleId);
        const problems = [...(body.trigger ? validateTrigger(body.trigger) : []), ...(body.actions ? await validateActions(tx, principal.accountId, body.actions) : [])];
        if (problems.length) throw invalid(problems);
        const updated: AutomationRulesTable = {
          ...row,
          name: body.name ?? row.name,
          enabled: body.enabled === undefined ? Number(row.enabled) : body.enabled ? 1 : 0,
          position: body.position ?? Number(row.position),
          trigger: body.trigger ? JSON.stringify(body.trigger) : row.trigger,
          actions: body.actions ? JSON.stringify(body.actions) : row.actions,
          updated_at: clock(),
        };
        await tx.updateTable('automation_rules').set(updated).where('id', '=', ruleId).execute();
        return toRule(updated);
      });
    },

    async deleteRule(principal: Principal, ruleId: string): Promise<void> {
      assertBusiness(principal);
      await db.writeTransaction(async (tx) => {
        await requireRule(tx, principal.accountId, ruleId);
        await tx.deleteFrom('automation_rules').where('id', '=', ruleId).execute();
      });
    },

    async listTemplates(principal: Principal): Promise<Template[]> {
      assertBusiness(principal);
      const rows = await db.db.selectFrom('automation_templates').selectAll().where('business_id', '=', principal.accountId).orderBy('name').execute();
      return rows.map(toTemplate);
    },

    async createTemplate(principal: Principal, body: CreateTemplateBody): Promise<Template> {
      assertBusiness(principal);
      const problems = placeholderProblems('/text', body.text);
      if (problems.length) throw invalid(problems);
      return db.writeTransaction(async (tx) => {
        const count = await tx.selectFrom('automation_templates').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', principal.accountId).executeTakeFirstOrThrow();
        if (Number(count.n) >= MAX_AUTOMATION_TEMPLATES) throw new AppError('automation_limit', `a business keeps at most ${MAX_AUTOMATION_TEMPLATES} templates`);
        const taken = await tx.selectFrom('automation_templates').select('id').where('business_id', '=', principal.accountId).where('name', '=', body.name).executeTakeFirst();
        if (taken) throw new AppError('conflict', `a template named "${body.name}" exists`);
        const now = clock();
        const row: AutomationTemplatesTable = { id: newId('tpl'), business_id: principal.accountId, name: body.name, text: body.text, created_at: now, updated_at: now };
        await tx.insertInto('automation_templates').values(row).execute();
        return toTemplate(row);
      });
    },

    async updateTemplate(principal: Principal, templateId: string, body: UpdateTemplateBody): Promise<Template> {
      assertBusiness(principal);
      const problems = placeholderProblems('/text', body.text);
      if (problems.length) throw invalid(problems);
      return db.writeTransaction(async (tx) => {
        const row = await requireTemplate(tx, principal.accountId, templateId);
        if (body.name && body.name !== row.name) {
          const taken = await tx.selectFrom('automation_templates').select('id').where('business_id', '=', principal.accountId).where('name', '=', body.name).executeTakeFirst();
          if (taken) throw new AppError('conflict', `a template named "${body.name}" exists`);
        }
        const updated = { ...row, name: body.name ?? row.name, text: body.text ?? row.text, updated_at: clock() };
        await tx.updateTable('automation_templates').set(updated).where('id', '=', templateId).execute();
        return toTemplate(updated);
      });
    },

    async deleteTemplate(principal: Principal, templateId: string): Promise<void> {
      assertBusiness(principal);
      await db.writeTransaction(async (tx) => {
        await requireTemplate(tx, principal.accountId, templateId);
        await tx.deleteFrom('automation_templates').where('id', '=', templateId).execute();
      });
    },

    /** What automation would do with this message, without doing it. */
    async tryMessage(principal: Principal, body: TryAutomationBody): Promise<TryAutomationReply> {
      assertBusiness(principal);
      const row = await settingsRow(db.db, principal.accountId);
      const result: Plan = plan({
        settings: parseSettings(row),
        rules: await loadRules(db.db, principal.accountId),
        templates: await loadTemplates(db.db, principal.accountId),
        text: body.text,
        firstMessage: body.first_message ?? false,
        at: body.at ?? clock(),
        awayRecentlySent: false,
        vars: { handle: body.contact_handle ?? 'contact', business: principal.handle },
      });
      return {
        enabled: row ? Number(row.enabled) === 1 : false,
        outside_hours: result.outsideHours,
        rule: result.rule,
        steps: result.steps.map((s) => {
          switch (s.type) {
            case 'send':
              return { type: 'send', source: s.source, text: s.text, ...s.interactive };
            case 'webhook':
              return { type: 'webhook', url: s.url };
            case 'assistant':
              return { type: 'assistant', description: 'no rule matched: the assistant would answer' };
            default:
              return s;
          }
        }),
      };
    },

    /** What automation did with recent contact messages, newest first. */
    async activity(principal: Principal, limit: number): Promise<AutomationActivity[]> {
      assertBusiness(principal);
      const rows = await db.db
        .selectFrom('automation_runs')
        .select(['message_id', 'conversation_id', 'outcome', 'sent', 'at'])
        .where('business_id', '=', principal.accountId)
        .orderBy('at', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ message_id: r.message_id, conversation_id: r.conversation_id, outcome: r.outcome, sent: Number(r.sent), at: Number(r.at) }));
    },

    async conversation(principal: Principal, conversationId: string): Promise<ConversationAutomation> {
      await requireChat(principal, conversationId);
      return conversationView(db.db, principal.accountId, conversationId);
    },

    /** A person on the team takes the conversation (automation stops) or hands it back to the bot. */
    async handover(principal: Principal, conversationId: string, to: 'human' | 'bot'): Promise<ConversationAutomation> {
      await requireChat(principal, conversationId);
      return db.writeTransaction(async (tx) => {
        await setState(tx, { businessId: principal.accountId, conversationId, state: to, at: clock() });
        return conversationView(tx, principal.accountId, conversationId);
      });
    },

    async addTag(principal: Principal, conversationId: string, tag: string): Promise<ConversationAutomation> {
      await requireChat(principal, conversationId);
      return db.writeTransaction(async (tx) => {
        if (!(await addTag(tx, { businessId: principal.accountId, conversationId, tag, at: clock() }))) {
          throw new AppError('automation_limit', `a chat carries at most ${MAX_TAGS_PER_CHAT} tags`);
        }
        return conversationView(tx, principal.accountId, conversationId);
      });
    },

    async removeTag(principal: Principal, conversationId: string, tag: string): Promise<ConversationAutomation> {
      await requireChat(principal, conversationId);
      return db.writeTransaction(async (tx) => {
        await tx.deleteFrom('automation_tags').where('business_id', '=', principal.accountId).where('conversation_id', '=', conversationId).where('tag', '=', tag).execute();
        return conversationView(tx, principal.accountId, conversationId);
      });
    },

    /** The business's chats with a tag or in a state (newest change first, up to 200). */
    async listConversations(principal: Principal, filter: { tag?: string; state?: 'bot' | 'human' }): Promise<ConversationAutomation[]> {
      assertBusiness(principal);
      let ids: string[];
      if (filter.tag !== undefined) {
        const rows = await db.db.selectFrom('automation_tags').select('conversation_id').where('business_id', '=', principal.accountId).where('tag', '=', filter.tag).orderBy('created_at', 'desc').limit(200).execute();
        ids = rows.map((r) => r.conversation_id);
      } else {
        const rows = await db.db.selectFrom('automation_conversations').select('conversation_id').where('business_id', '=', principal.accountId).where('state', '=', filter.state ?? 'human').orderBy('changed_at', 'desc').limit(200).execute();
        ids = rows.map((r) => r.conversation_id);
      }
      const views = await Promise.all(ids.map((id) => conversationView(db.db, principal.accountId, id)));
      return filter.state ? views.filter((v) => v.state === filter.state) : views;
    },
  };
}

export type AutomationService = ReturnType<typeof createAutomationService>;

export async function setState(tx: Tx, options: { businessId: string; conversationId: string; state: 'bot' | 'human'; at: number }) {
  await tx
    .insertInto('automation_conversations')
    .values({ business_id: options.businessId, conversation_id: options.conversationId, state: options.state, changed_at: options.at, away_sent_at: null })
    .onConflict((oc) => oc.columns(['business_id', 'conversation_id']).doUpdateSet({ state: options.state, changed_at: options.at }))
    .execute();
}

/** Most tags one chat carries. */
export const MAX_TAGS_PER_CHAT = 20;

/** Adds a tag; false (nothing added) when the chat already has MAX_TAGS_PER_CHAT others. */
export async function addTag(tx: Tx, options: { businessId: string; conversationId: string; tag: string; at: number }): Promise<boolean> {
  const tags = await tx.selectFrom('automation_tags').select('tag').where('business_id', '=', options.businessId).where('conversation_id', '=', options.conversationId).execute();
  if (tags.some((t) => t.tag === options.tag)) return true;
  if (tags.length >= MAX_TAGS_PER_CHAT) return false;
  await tx
    .insertInto('automation_tags')
    .values({ business_id: options.businessId, conversation_id: options.conversationId, tag: options.tag, created_at: options.at })
    .onConflict((oc) => oc.columns(['business_id', 'conversation_id', 'tag']).doNothing())
    .execute();
  return true;
}

/**
 * Who answers each of a business's chats: automation ('bot', also when it has no record) or a
 * person on the team ('human'). For the team inbox, which lists many chats at once and reads
 * inside its own transactions (`reader`).
 */
export async function handoffStates(reader: Reader, options: { businessId: string; conversationIds: readonly string[] }): Promise<Map<string, { state: 'bot' | 'human'; changed_at: number | null }>> {
  const out = new Map<string, { state: 'bot' | 'human'; changed_at: number | null }>();
  for (const id of options.conversationIds) out.set(id, { state: 'bot', changed_at: null });
  for (let i = 0; i < options.conversationIds.length; i += 500) {
    const rows = await reader
      .selectFrom('automation_conversations')
      .select(['conversation_id', 'state', 'changed_at'])
      .where('business_id', '=', options.businessId)
      .where('conversation_id', 'in', options.conversationIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.conversation_id, { state: r.state === 'human' ? 'human' : 'bot', changed_at: Number(r.changed_at) });
  }
  return out;
}

/** Whether a business has automation on (no settings row: off). */
export async function automationEnabled(reader: Reader, businessId: string): Promise<boolean> {
  const row = await reader.selectFrom('automation_settings').select('enabled').where('business_id', '=', businessId).executeTakeFirst();
  return Number(row?.enabled ?? 0) === 1;
}
