/**
 * Automation at work. A tap on sync's event writer sees each `message.created` inside the
 * transaction that writes it and, for a direct chat with a business whose automation is on,
 * enqueues one durable `automation-run` job (deduplicated per business and message): a restart
 * loses none, and no in-memory listener is involved. The job plans (engine.ts) and carries out:
 * every reply is sent with an idempotency key made of the message id and the step, so a job run
 * twice (a worker died after sending) sends each reply once.
 *
 * Loops are impossible by construction: only messages from accounts of kind `person` are
 * answered (never a bot's or another business's, never the business's own), and a message
 * automation sent carries `automated: true` and is never answered. A business's own message sent
 * by hand (not by automation) hands the chat to a person: automation stays silent there until
 * someone on the team hands it back (POST /v1/conversations/{id}/handover {to: "bot"}).
 */
import { API_SCOPES, type Message } from '@mmd/contracts';
import { accountsByIds, type Principal } from '../accounts/index.ts';
import { directPair } from '../conversations/index.ts';
import { AppError } from '../errors.ts';
import { findMessage, firstMessageIdFrom } from '../messaging/index.ts';
import { type Database, type Tx, prepared } from '../platform/db/index.ts';

// Prepared once: read on every direct message's write (the automation tap).
const settingsOfPair = prepared((db, p: { a: string; b: string }) =>
  db.selectFrom('automation_settings').select(['business_id', 'enabled']).where((eb) => eb.or([eb('business_id', '=', p.a), eb('business_id', '=', p.b)])),
);
import { OutboundError } from '../platform/outbound.ts';
import { PermanentJobError } from '../platform/queue/index.ts';
import type { EventTap } from '../sync/index.ts';
import { callAssistant, type OutboundFetch } from './assistant.ts';
import { AWAY_COOLDOWN_MS, type InteractiveReply, plan } from './engine.ts';
import type { SecretBox } from './secret-box.ts';
import { addTag, loadRules, loadTemplates, parseSettings, setState } from './service.ts';
import { signWebhook } from './webhook-signature.ts';

/** How long a handled message's row is kept (the rate limit counts them; nothing else reads old ones). */
const RUNS_KEPT_MS = 7 * 24 * 60 * 60 * 1000;

export interface AutomationRunPayload {
  businessId: string;
  conversationId: string;
  messageId: string;
}

export interface AutomationWebhookPayload {
  businessId: string;
  conversationId: string;
  messageId: string;
  ruleId: string;
  url: string;
  /** Stable per message and step: the receiver deduplicates on it (`webhook-id`). */
  deliveryId: string;
}

type EnqueueRun = (tx: Tx, payload: AutomationRunPayload, options: { dedupeKey: string; maxAttempts: number }) => Promise<unknown>;
type EnqueueWebhook = (payload: AutomationWebhookPayload, options: { dedupeKey: string; maxAttempts: number }) => Promise<unknown>;

export interface AutomationRunnerDeps {
  db: Database;
  clock: () => number;
  box: SecretBox;
  /** messaging.send and messaging.history, as the business. */
  send(principal: Principal, conversationId: string, input: { text: string; idempotencyKey: string; automated: true; interactive?: InteractiveReply }): Promise<unknown>;
  history(principal: Principal, conversationId: string, options: { before: number; limit: number }): Promise<{ messages: Message[] }>;
  enqueueRun: EnqueueRun;
  enqueueWebhook: EnqueueWebhook;
  /** SSRF-safe fetch for the assistant and rule webhooks. */
  fetch: OutboundFetch;
  /** Per conversation: at most `max` automated answers per `windowMs`. */
  rateLimit: { max: number; windowMs: number };
  log: { warn(obj: object, msg: string): void };
}

function businessPrincipal(accountId: string, handle: string): Principal {
  return { accountId, handle, kind: 'business', role: 'user', deviceId: null, apiKeyId: null, scopes: new Set(API_SCOPES) };
}

export function createAutomationRunner(deps: AutomationRunnerDeps) {
  const { db, clock } = deps;

  /** Runs inside every event-writing transaction: one indexed read for a direct chat's message, nothing otherwise. */
  const tap: EventTap = async (tx, { event }) => {
    if (event.type !== 'message.created' || !event.conversationId) return;
    const message = event.data;
    if (message.automated || message.status !== 'sent') return;
    const pair = await directPair(tx, event.conversationId);
    if (!pair) return;
    const { rows } = await settingsOfPair(tx, { a: pair[0], b: pair[1] });
    for (const row of rows) {
      if (Number(row.enabled) !== 1) continue;
      if (row.business_id === message.sender_id) {
        // Someone on the business's team wrote by hand: a person has this chat now.
        await setState(tx, { businessId: row.business_id, conversationId: event.conversationId, state: 'human', at: event.at });
      } else {
        await deps.enqueueRun(
          tx,
          { businessId: row.business_id, conversationId: event.conversationId, messageId: message.id },
          { dedupeKey: `automation-run:${row.business_id}:${message.id}`, maxAttempts: 4 },
        );
      }
    }
  };

  async function record(options: { businessId: string; conversationId: string; messageId: string; sent: number; outcome: string }) {
    const now = clock();
    await db.db
      .insertInto('automation_runs')
      .values({ business_id: options.businessId, message_id: options.messageId, conversation_id: options.conversationId, sent: options.sent, outcome: options.outcome, at: now })
      .onConflict((oc) => oc.columns(['business_id', 'message_id']).doNothing())
      .execute();
    // Runs are kept for the rate limit's window (and a margin), not for ever: one chat's old rows go here.
    await db.db
      .deleteFrom('automation_runs')
      .where('conversation_id', '=', options.conversationId)
      .where('at', '<', now - Math.max(RUNS_KEPT_MS, deps.rateLimit.windowMs))
      .execute();
    return options.outcome;
  }

  async function run(payload: AutomationRunPayload, attempt: { final: boolean }): Promise<string> {
    const { businessId, conversationId, messageId } = payload;
    const done = (sent: number, outcome: string) => record({ businessId, conversationId, messageId, sent, outcome });
    const already = await db.db.selectFrom('automation_runs').select('outcome').where('business_id', '=', businessId).where('message_id', '=', messageId).executeTakeFirst();
    if (already) return already.outcome;

    const message = await findMessage(db.db, messageId);
    if (!message || message.deleted_at !== null || message.status !== 'sent' || Number(message.automated) === 1) return done(0, 'none');
    const settingsRow = await db.db.selectFrom('automation_settings').selectAll().where('business_id', '=', businessId).executeTakeFirst();
    if (!settingsRow || Number(settingsRow.enabled) !== 1) return done(0, 'disabled');
    const accounts = await accountsByIds(db.db, [message.sender_id, businessId]);
    const sender = accounts.get(message.sender_id);
    const business = accounts.get(businessId);
    // Persons only: a bot or another business answering back could loop for ever.
    if (!sender || !business || sender.kind !== 'person' || message.sender_id === businessId) return done(0, 'not_a_person');

    const state = await db.db.selectFrom('automation_conversations').selectAll().where('business_id', '=', businessId).where('conversation_id', '=', conversationId).executeTakeFirst();
    if (state?.state === 'human') return done(0, 'human');
    const now = clock();
    const recent = await db.db
      .selectFrom('automation_runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('business_id', '=', businessId)
      .where('sent', '>', 0)
      .where('at', '>', now - deps.rateLimit.windowMs)
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= deps.rateLimit.max) return done(0, 'rate_limited');

    const settings = parseSettings(settingsRow);
    const first = (await firstMessageIdFrom(db.db, { conversationId, senderId: message.sender_id })) === messageId;
    const decided = plan({
      settings,
      rules: await loadRules(db.db, businessId),
      templates: await loadTemplates(db.db, businessId),
      text: message.text,
      firstMessage: first,
      at: Number(message.created_at),
      awayRecentlySent: state?.away_sent_at != null && Number(state.away_sent_at) > now - AWAY_COOLDOWN_MS,
      vars: { handle: sender.handle, business: business.handle },
    });
    const as = businessPrincipal(businessId, business.handle);
    let sent = 0;
    const sendAs = async (key: string, text: string, interactive?: InteractiveReply) => {
      try {
        await deps.send(as, conversationId, { text: text.slice(0, 4096), idempotencyKey: `auto:${messageId}:${key}`, automated: true, ...(interactive ? { interactive } : {}) });
        sent += 1;
        return true;
      } catch (err) {
        // Refused for good (the contact blocked the business, left the chat): nothing to retry.
        if (err instanceof AppError) {
          deps.log.warn({ err, businessId, conversationId }, 'automation reply refused');
          return false;
        }
        throw err;
      }
    };
    for (const step of decided.steps) {
      switch (step.type) {
        case 'send':
          if (!(await sendAs(step.key, step.text, step.interactive))) return done(sent, 'refused');
          if (step.source === 'away') {
            await db.db
              .insertInto('automation_conversations')
              .values({ business_id: businessId, conversation_id: conversationId, state: 'bot', changed_at: now, away_sent_at: now })
              .onConflict((oc) => oc.columns(['business_id', 'conversation_id']).doUpdateSet({ away_sent_at: now }))
              .execute();
          }
          break;
        case 'tag':
          await db.writeTransaction((tx) => addTag(tx, { businessId, conversationId, tag: step.tag, at: now }));
          break;
        case 'handover':
          await db.writeTransaction((tx) => setState(tx, { businessId, conversationId, state: 'human', at: now }));
          break;
        case 'webhook':
          await deps.enqueueWebhook(
            { businessId, conversationId, messageId, ruleId: step.ruleId, url: step.url, deliveryId: `auto_${messageId}_${step.key.replaceAll(':', '_')}` },
            { dedupeKey: `automation-webhook:${messageId}:${step.key}`, maxAttempts: 6 },
          );
          break;
        case 'assistant': {
          const context = await deps.history(as, conversationId, { before: Number(message.seq) + 1, limit: settings.assistant.context_messages });
          let answer: string | null;
          try {
            const key = settingsRow.assistant_key ? deps.box.open(settingsRow.assistant_key) : null;
            answer = await callAssistant({ fetch: deps.fetch, settings: settings.assistant, apiKey: key, businessId, context: context.messages });
          } catch (err) {
            // A failing endpoint is retried with the job; after the last attempt the message stays unanswered.
            if (!attempt.final) throw err;
            deps.log.warn({ err, businessId }, 'automation assistant failed');
            return done(sent, 'assistant_failed');
          }
          if (answer && !(await sendAs('assistant', answer))) return done(sent, 'refused');
          break;
        }
        default: {
          const never: never = step;
          throw new Error(`unknown step ${JSON.stringify(never)}`);
        }
      }
    }
    const outcome = decided.steps[0]?.type === 'send' && decided.steps[0].source === 'handover' ? 'handover' : decided.rule ? `rule:${decided.rule.id}` : decided.steps.some((s) => s.type === 'assistant') ? 'assistant' : decided.steps.length ? 'greeting_or_away' : 'none';
    return done(sent, outcome);
  }

  /** One rule webhook: POST the message, signed per Standard Webhooks; a non-2xx answer is retried. */
  async function webhook(payload: AutomationWebhookPayload, signal?: AbortSignal): Promise<number> {
    const row = await db.db.selectFrom('automation_settings').select('webhook_secret').where('business_id', '=', payload.businessId).executeTakeFirst();
    const message = await findMessage(db.db, payload.messageId);
    if (!row || !message) return 0;
    const sender = (await accountsByIds(db.db, [message.sender_id])).get(message.sender_id);
    const timestamp = Math.floor(clock() / 1000);
    const body = JSON.stringify({
      type: 'automation.rule_matched',
      timestamp: new Date(timestamp * 1000).toISOString(),
      data: {
        business_id: payload.businessId,
        conversation_id: payload.conversationId,
        rule_id: payload.ruleId,
        message: { id: message.id, seq: Number(message.seq), text: message.deleted_at === null ? message.text : null, created_at: Number(message.created_at) },
        contact: { id: message.sender_id, handle: sender?.handle ?? null },
      },
    });
    let response: { status: number };
    try {
      response = await deps.fetch(payload.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signWebhook({ secret: row.webhook_secret, id: payload.deliveryId, timestamp, body }) },
        body,
        signal,
      });
    } catch (err) {
      // A refused or malformed target stays refused: retrying cannot help.
      if (err instanceof OutboundError && (err.code === 'blocked_address' || err.code === 'invalid_url')) throw new PermanentJobError(`webhook target refused: ${err.message}`, { cause: err });
      throw err;
    }
    // 5xx, 429 and 408 are worth retrying; any other refusal is the receiver's final word.
    if (response.status >= 200 && response.status < 300) return response.status;
    const retry = response.status >= 500 || response.status === 429 || response.status === 408;
    if (!retry) throw new PermanentJobError(`webhook answered ${response.status}`);
    throw new Error(`webhook answered ${response.status}`);
  }

  return { tap, run, webhook };
}

export type AutomationRunner = ReturnType<typeof createAutomationRunner>;
