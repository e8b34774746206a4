/**
 * Webhooks: a bot or business account's events, POSTed to a URL it chose and signed per the
 * Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
 *
 * Durability: a delivery row is written by an event tap inside the very transaction that writes
 * the event, together with a `webhook-deliver` job, so a crash loses none (the job queue reclaims
 * a dead worker's job once its lease ends). At least once: a delivery is marked sent only after
 * the receiver answered 2xx; a crash in between sends it again with the same `webhook-id`.
 *
 * Order and isolation: a job drains ONE webhook, holding that webhook's lock (a row lock with an
 * expiry, so a dead holder frees it). Within a webhook, deliveries form lanes (one per
 * conversation): a lane sends strictly in event order and waits behind a failing head; lanes run
 * side by side up to `perReceiverConcurrency` requests. A receiver that hangs, redirects or fails
 * therefore holds at most one worker slot and its own lanes; other receivers' jobs run in other
 * slots. Each request has a deadline and a response size cap (platform/outbound.ts).
 *
 * Retries: exponential backoff with jitter, until `retryWindowMs` (24 h) after the delivery was
 * made; then it is `failed` (replay sends it again). A webhook failing without one success for
 * `disableAfterMs` is disabled and its owner gets a `webhook.disabled` event.
 *
 * Withdrawal: the body is frozen when the event is written, but access and content are not. Before
 * every attempt (the first, each retry, a replay) the delivery is checked again: the account must
 * still be a member of its conversation (except for its own `member.removed`), and an event about
 * a message needs that message still delivered, not deleted or taken down, and readable by the
 * account. One that fails is `dropped` with the reason in `last_error`, never sent or replayed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { CreatedWebhook, Webhook, WebhookDelivery } from '@mmd/contracts';
import { type Principal, accountBasics } from '../accounts/index.ts';
import { mayReadSeq, membersAmong } from '../conversations/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { findMessage } from '../messaging/index.ts';
import { type Database, type Tx, prepared } from '../platform/db/index.ts';

// Prepared once: read on every event's write (the webhook tap).
const activeHooksQuery = prepared((db) => db.selectFrom('webhooks').select(['id', 'account_id', 'events']).where('status', '=', 'active').where('kind', '=', 'standard').where('deleted_at', 'is', null));
import { OutboundError, checkOutboundUrl, outboundFetch, parseOutboundUrl } from '../platform/outbound.ts';
import { retryDelay } from '../platform/queue/backoff.ts';
import type { EventTap, StoredEvent, WriteWithEvents } from '../sync/index.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from './schema.ts';

export interface WebhooksConfig {
  allowPrivate: boolean;
  timeoutMs: number;
  perReceiverConcurrency: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  retryWindowMs: number;
  disableAfterMs: number;
  maxPerAccount: number;
  /**
   * A drain lock lives this long unless renewed (every third of it). Never longer than the job
   * lease: a dead holder's reclaimed job must find the lock expired.
   */
  lockMs?: number;
}

export interface WebhooksDeps {
  db: Database;
  write: WriteWithEvents;
  clock: () => number;
  config: WebhooksConfig;
  /** Enqueues a `webhook-deliver` job (inside `tx` when given, so it commits with the delivery). */
  enqueue: (tx: Tx | null, webhookId: string, options?: { runAt?: number; dedupeKey?: string }) => Promise<void>;
  /** The person who owns a bot (null for other accounts): they hear about their bot's webhooks. */
  ownerOf: (accountId: string) => Promise<string | null>;
  log?: { warn(obj: object, msg: string): void };
  /** Told each attempt's outcome and duration (metrics): taken, failed and to be retried, or given up. */
  onAttempt?: (outcome: 'succeeded' | 'retrying' | 'failed', seconds: number) => void;
}

/** Most bytes of a receiver's answer read (it is not used; the cap keeps a hostile one cheap). */
const MAX_ANSWER_BYTES = 64 * 1024;
/** One job drains for at most this long, then hands over to a new job (fairness between receivers). */
const DRAIN_SLICE_MS = 30_000;
/** Settled deliveries stay in the log this long. */
const LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** How often one process sweeps the log. */
const SWEEP_EVERY_MS = 60 * 60 * 1000;
/** Failed attempts needed (besides time) before a webhook is disabled. */
const MIN_FAILURES_TO_DISABLE = 5;

/** Standard Webhooks signature: base64 HMAC-SHA256 of `id.timestamp.body` under the secret's bytes. */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

function toWebhook(row: WebhooksTable): Webhook {
  return {
    id: row.id,
    account_id: row.account_id,
    url: row.url,
    events: row.events === null ? null : (JSON.parse(row.events) as string[]),
    status: row.status,
    disabled_reason: row.disabled_reason,
    created_at: Number(row.created_at),
    failing_since: row.failing_since === null ? null : Number(row.failing_since),
  };
}

function toDelivery(row: WebhookDeliveriesTable): WebhookDelivery {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_type: row.event_type,
    cursor: row.cursor === null ? null : Number(row.cursor),
    conversation_id: row.conversation_id,
    status: row.status,
    attempts: Number(row.attempts),
    last_status: row.last_status === null ? null : Number(row.last_status),
    last_error: row.last_error,
    last_latency_ms: row.last_latency_ms === null ? null : Number(row.last_latency_ms),
    next_attempt_at: row.status === 'pending' ? Number(row.next_attempt_at) : null,
    created_at: Number(row.created_at),
    delivered_at: row.delivered_at === null ? null : Number(row.delivered_at),
  };
}

/**
 * Events an account caused itself are not sent back to it (a bot does not hear its own messages,
 * as on Telegram); what others do to its messages (receipts, reactions) is.
 */
function ownAction(type: string, data: Record<string, unknown>, accountId: string): boolean {
  switch (type) {
    case 'message.created':
    case 'message.edited':
      return data.sender_id === accountId;
    case 'message.deleted':
      return data.by === accountId;
    case 'receipt.updated':
    case 'reaction.changed':
      return data.account_id === accountId;
    default:
      return false;
  }
}

/** Events about one message, named by `data.message_id` (message.created and .edited: `data.id`). */
const MESSAGE_EVENTS: ReadonlySet<string> = new Set(['message.created', 'message.edited', 'reaction.changed', 'message.media_flagged', 'poll.updated', 'callback.query', 'list.selected', 'poll.answer', 'form.submitted', 'form.updated']);

/** What an attempt did: the receiver took it, it is settled otherwise (given up, withdrawn), or it waits for a retry. */
type AttemptOutcome = 'sent' | 'settled' | 'wait';

let customSeq = 0;

export function createWebhooks(deps: WebhooksDeps) {
  const { db, clock, config } = deps;
  const LOCK_MS = config.lockMs ?? 15_000;
  // Requests in flight per webhook in this process (each drain job also caps its own).
  const inflight = new Map<string, number>();
  let sweptAt = 0;

  /** Deletes settled deliveries older than the retention (the log keeps a week), at most hourly per process. */
  async function sweepLog() {
    const now = clock();
    if (now - sweptAt < SWEEP_EVERY_MS) return;
    sweptAt = now;
    await db.db.deleteFrom('webhook_deliveries').where('status', '!=', 'pending').where('created_at', '<', now - LOG_RETENTION_MS).execute();
    // Insurance: a webhook left marked as waiting with nobody holding it (its job failed for good) gets a job.
    const stuck = await db.db.selectFrom('webhooks').select('id').where('wake_pending', '>', 0).where('locked_until', '<', now).where('status', '=', 'active').where('deleted_at', 'is', null).execute();
    for (const w of stuck) await deps.enqueue(null, w.id, { dedupeKey: `webhook-deliver:${w.id}:sweep:${now}` });
  }

  /** The account whose webhooks `principal` may manage as `accountId`: itself, or a bot it owns. */
  async function assertManages(principal: Principal, accountId: string) {
    if (accountId === principal.accountId) return;
    if ((await deps.ownerOf(accountId)) === principal.accountId && !principal.botToken) return;
    throw notFound('webhook');
  }

  async function loadManaged(principal: Principal, webhookId: string): Promise<WebhooksTable> {
    const row = await db.db.selectFrom('webhooks').selectAll().where('id', '=', webhookId).where('deleted_at', 'is', null).where('kind', '=', 'standard').executeTakeFirst();
    if (!row) throw notFound('webhook');
    await assertManages(principal, row.account_id);
    return row;
  }

  /** https, or http where the operator allows private targets; never a private address otherwise. */
  async function validateUrl(raw: string): Promise<string> {
    try {
      const url = parseOutboundUrl(raw);
      if (url.protocol === 'http:' && !config.allowPrivate) throw new OutboundError('invalid_url', 'webhook URLs must use https');
      await checkOutboundUrl(url.toString(), { allowPrivate: config.allowPrivate });
      return url.toString();
    } catch (err) {
      if (err instanceof OutboundError) {
        const why = err.code === 'blocked_address' ? 'it points to a private, loopback or reserved address' : err.code === 'dns_failed' ? 'its host does not resolve' : err.message;
        throw new AppError('validation_failed', `this URL cannot receive webhooks: ${why}`, { errors: [{ path: '/url', message: why }] });
      }
      throw err;
    }
  }

  async function insertDelivery(tx: Tx, d: { webhookId: string; lane: string; seq: number; type: string; cursor: number | null; conversationId: string | null; body: string; headers: Record<string, string> | null }) {
    const now = clock();
    const row: WebhookDeliveriesTable = {
      id: newId('whd'),
      webhook_id: d.webhookId,
      lane: d.lane,
      seq: d.seq,
      event_type: d.type,
      cursor: d.cursor,
      conversation_id: d.conversationId,
      body: d.body,
      headers: d.headers ? JSON.stringify(d.headers) : null,
      status: 'pending',
      attempts: 0,
      last_status: null,
      last_error: null,
      last_latency_ms: null,
      next_attempt_at: now,
      window_start: now,
      created_at: now,
      delivered_at: null,
    };
    await tx.insertInto('webhook_deliveries').values(row).execute();
    // One job per burst, not per delivery. The update also locks the webhook's row until this
    // transaction commits (PostgreSQL), so a sender's reset cannot slip between it and the commit.
    const wake = await tx
      .updateTable('webhooks')
      .set((eb) => ({ wake_pending: eb('wake_pending', '+', 1) }))
      .where('id', '=', d.webhookId)
      .returning('wake_pending')
      .executeTakeFirst();
    if (Number(wake?.wake_pending) === 1) await deps.enqueue(tx, d.webhookId);
    return row;
  }

  /**
   * The event tap: inside the event's transaction, one delivery (and job) per active webhook
   * whose account sees the event. Cheap when no account has webhooks: one indexed query.
   */
  const activeHooks = async (tx: Tx) => (await activeHooksQuery(tx, {})).rows;
  const tap: EventTap = async (tx, { stored }) => deliveriesFor(tx, stored, await activeHooks(tx));
  // A campaign's batch: the active webhooks read once for all of its events.
  tap.many = async (tx, events) => {
    const hooks = await activeHooks(tx);
    if (hooks.length === 0) return;
    for (const { stored } of events) await deliveriesFor(tx, stored, hooks);
  };
  async function deliveriesFor(tx: Tx, stored: StoredEvent, hooks: Pick<WebhooksTable, 'id' | 'account_id' | 'events'>[]) {
    if (hooks.length === 0) return;
    const owners = [...new Set(hooks.map((h) => h.account_id))];
    let audience: Set<string>;
    let data: Record<string, unknown> | null = null;
    const parsed = () => (data ??= JSON.parse(stored.payload) as Record<string, unknown>);
    if (stored.target_account_id) audience = new Set(owners.includes(stored.target_account_id) ? [stored.target_account_id] : []);
    else if (stored.conversation_id) {
      // A held message released into a group hiding its history reaches only those there when it was written.
      audience = await membersAmong(tx, stored.conversation_id, owners, { joinedBy: stored.members_joined_by });
      // The subject of a membership event sees it, though its member row is written after the
      // event (a join, a new conversation) or already closed (a removal).
      const subjects = stored.type === 'member.joined' || stored.type === 'member.removed' ? [parsed().account_id as string] : stored.type === 'conversation.created' ? (parsed().member_ids as string[]) : [];
      for (const id of subjects) if (owners.includes(id)) audience.add(id);
    } else return;
    if (audience.size === 0) return;
    const event = `{"cursor":${stored.id},"type":"${stored.type}","conversation_id":${stored.conversation_id === null ? 'null' : JSON.stringify(stored.conversation_id)},"at":${stored.created_at},"data":${stored.payload}}`;
    const body = `{"type":"${stored.type}","timestamp":"${new Date(Number(stored.created_at)).toISOString()}","data":${event}}`;
    // A channel post names the channel, not the admin who posted: who did is on the message's row.
    let poster: string | null | undefined;
    const channelPostBy = async (accountId: string) => {
      if ((stored.type !== 'message.created' && stored.type !== 'message.edited') || parsed().sender_kind !== 'channel') return false;
      poster ??= (await findMessage(tx, parsed().id as string))?.sender_id ?? null;
      return poster === accountId;
    };
    for (const hook of hooks) {
      if (!audience.has(hook.account_id)) continue;
      if (hook.events !== null && !(JSON.parse(hook.events) as string[]).includes(stored.type)) continue;
      if (ownAction(stored.type, parsed(), hook.account_id) || (await channelPostBy(hook.account_id))) continue;
      await insertDelivery(tx, { webhookId: hook.id, lane: stored.conversation_id ?? '-', seq: stored.id, type: stored.type, cursor: stored.id, conversationId: stored.conversation_id, body, headers: null });
    }
  }

  // ---- the drain ------------------------------------------------------------------------------

  async function acquire(webhookId: string, token: string): Promise<boolean> {
    const now = clock();
    const r = await db.db.updateTable('webhooks').set({ lock_token: token, locked_until: now + LOCK_MS }).where('id', '=', webhookId).where('locked_until', '<', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async function renew(webhookId: string, token: string): Promise<boolean> {
    const r = await db.db.updateTable('webhooks').set({ locked_until: clock() + LOCK_MS }).where('id', '=', webhookId).where('lock_token', '=', token).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async function release(webhookId: string, token: string) {
    // Deliveries written before this reset are seen by the look the caller takes after releasing;
    // later ones find 0 and enqueue a job of their own.
    await db.db.updateTable('webhooks').set({ wake_pending: 0 }).where('id', '=', webhookId).where('lock_token', '=', token).execute();
    await db.db.updateTable('webhooks').set({ lock_token: null, locked_until: 0 }).where('id', '=', webhookId).where('lock_token', '=', token).execute();
  }

  /** The first pending delivery of each lane (lane order is seq order). */
  async function heads(webhookId: string, limit: number) {
    return db.db
      .selectFrom('webhook_deliveries as d')
      .selectAll('d')
      .where('d.webhook_id', '=', webhookId)
      .where('d.status', '=', 'pending')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('webhook_deliveries as e').select('e.id').whereRef('e.webhook_id', '=', 'd.webhook_id').where('e.status', '=', 'pending').whereRef('e.lane', '=', 'd.lane').whereRef('e.seq', '<', 'd.seq'))),
      )
      .orderBy('d.next_attempt_at')
      .limit(limit)
      .execute();
  }

  async function nextInLane(webhookId: string, lane: string) {
    return db.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('status', '=', 'pending').where('lane', '=', lane).orderBy('seq').limit(1).executeTakeFirst();
  }

  /**
   * Why this delivery may not go out now, or null. A handful of indexed lookups, next to an HTTP
   * request. Custom deliveries carry another capability's body, which decides for itself.
   */
  async function withdrawal(hook: Pick<WebhooksTable, 'account_id' | 'kind'>, d: WebhookDeliveriesTable): Promise<string | null> {
    if (hook.kind !== 'standard') return null;
    const event = (JSON.parse(d.body) as { data: { data: Record<string, unknown> } }).data.data;
    const about = d.event_type === 'message.created' || d.event_type === 'message.edited' ? event.id : MESSAGE_EVENTS.has(d.event_type) ? event.message_id : undefined;
    const messageId = typeof about === 'string' ? about : null;
    // Events to one account (a callback query to the bot that sent the buttons) name their conversation in the payload.
    const conversationId = d.conversation_id ?? (messageId !== null && typeof event.conversation_id === 'string' ? event.conversation_id : null);
    // Access ends when the grant ends; the account's own joins and removals are what it still hears
    // (a bot added and removed before its join went out learns of both, in order).
    const ownMembership = (d.event_type === 'member.removed' || d.event_type === 'member.joined') && event.account_id === hook.account_id;
    if (conversationId !== null && !ownMembership && (await membersAmong(db.db, conversationId, [hook.account_id])).size === 0) return 'the account is no longer a member of the conversation';
    if (messageId === null) return null;
    const message = await findMessage(db.db, messageId);
    if (!message) return 'the message no longer exists';
    if (message.deleted_at !== null) return message.deleted_reason === 'removed' ? 'the message was taken down by moderators' : 'the message was deleted for everyone';
    if (message.status !== 'sent') return 'the message is not delivered';
    // In a group hiding its history, a member reads only what was sent during its stays.
    if (!(await mayReadSeq(db.db, { conversationId: message.conversation_id, accountId: hook.account_id, seq: Number(message.seq) }))) return 'the message is not readable by the account';
    return null;
  }

  /** One attempt, unless the delivery is withdrawn first (checked before every attempt). */
  async function attempt(hook: WebhooksTable, d: WebhookDeliveriesTable, signal: AbortSignal): Promise<AttemptOutcome> {
    const why = await withdrawal(hook, d);
    if (why !== null) {
      await db.db.updateTable('webhook_deliveries').set({ status: 'dropped', last_error: `withdrawn: ${why}` }).where('id', '=', d.id).where('status', '=', 'pending').execute();
      return 'settled';
    }
    const body = d.body;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (hook.kind === 'standard') {
      const ts = Math.floor(clock() / 1000);
      headers['webhook-id'] = d.id;
      headers['webhook-timestamp'] = String(ts);
      headers['webhook-signature'] = signStandardWebhook(hook.secret, d.id, ts, body);
    }
    if (d.headers) Object.assign(headers, JSON.parse(d.headers) as Record<string, string>);
    let status: number | null = null;
    let error: string | null = null;
    const started = performance.now();
    inflight.set(hook.id, (inflight.get(hook.id) ?? 0) + 1);
    try {
      const res = await outboundFetch({ url: hook.url, method: 'POST', headers, body, timeoutMs: config.timeoutMs, maxResponseBytes: MAX_ANSWER_BYTES, allowPrivate: config.allowPrivate, signal });
      status = res.status;
      if (status < 200 || status >= 300) error = status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
    } catch (err) {
      error = err instanceof OutboundError ? `${err.code}: ${err.message}` : String(err);
    } finally {
      inflight.set(hook.id, (inflight.get(hook.id) ?? 1) - 1);
    }
    const elapsed = performance.now() - started;
    const latency = Math.round(elapsed);
    const now = clock();
    const attempts = Number(d.attempts) + 1;
    const givenUp = error !== null && now - Number(d.window_start) >= config.retryWindowMs;
    deps.onAttempt?.(error === null ? 'succeeded' : givenUp ? 'failed' : 'retrying', elapsed / 1000);
    if (error === null) {
      await db.db.updateTable('webhook_deliveries').set({ status: 'succeeded', attempts, last_status: status, last_error: null, last_latency_ms: latency, delivered_at: now }).where('id', '=', d.id).where('status', '=', 'pending').execute();
      if (hook.failing_since !== null || Number(hook.failures) > 0) {
        await db.db.updateTable('webhooks').set({ failing_since: null, failures: 0 }).where('id', '=', hook.id).execute();
        hook.failing_since = null;
        hook.failures = 0;
      }
      return 'sent';
    }
    const next = now + retryDelay(attempts, { baseMs: config.retryBaseMs, maxMs: config.retryMaxDelayMs });
    await db.db
      .updateTable('webhook_deliveries')
      .set({ status: givenUp ? 'failed' : 'pending', attempts, last_status: status, last_error: error.slice(0, 500), last_latency_ms: latency, next_attempt_at: next })
      .where('id', '=', d.id)
      .where('status', '=', 'pending')
      .execute();
    hook.failing_since ??= now;
    hook.failures = Number(hook.failures) + 1;
    await db.db.updateTable('webhooks').set({ failing_since: hook.failing_since, failures: hook.failures }).where('id', '=', hook.id).execute();
    if (hook.status === 'active' && now - Number(hook.failing_since) >= config.disableAfterMs && hook.failures >= MIN_FAILURES_TO_DISABLE) await disable(hook, error);
    return givenUp ? 'settled' : 'wait';
  }

  async function disable(hook: WebhooksTable, lastError: string) {
    hook.status = 'disabled';
    const reason = `every delivery failed for ${Math.round((clock() - Number(hook.failing_since)) / 60_000)} min (last: ${lastError.slice(0, 200)})`;
    const owner = (await deps.ownerOf(hook.account_id)) ?? hook.account_id;
    await deps.write(async (tx, emit) => {
      const r = await tx.updateTable('webhooks').set({ status: 'disabled', disabled_reason: reason }).where('id', '=', hook.id).where('status', '=', 'active').executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return;
      await emit({ type: 'webhook.disabled', conversationId: null, targetAccountId: owner, data: { webhook_id: hook.id, account_id: hook.account_id, url: hook.url, reason, failing_since: hook.failing_since === null ? null : Number(hook.failing_since) }, at: clock() });
    });
    deps.log?.warn({ webhookId: hook.id }, 'webhook disabled after prolonged failure');
  }

  /**
   * Drains one webhook (the `webhook-deliver` job). Returns what it did, for the job's result.
   */
  async function drain(webhookId: string, signal: AbortSignal): Promise<{ sent: number; busy?: boolean }> {
    let sent = 0;
    await sweepLog();
    for (let round = 0; round < 3; round++) {
      const token = randomBytes(12).toString('base64url');
      if (!(await acquire(webhookId, token))) {
        // Someone holds it and re-checks after releasing. If the holder died, its job is reclaimed
        // when its lease ends, by which time the lock (never longer than a lease) has run out.
        return { sent, busy: true };
      }
      const renewal = setInterval(() => void renew(webhookId, token).catch(() => {}), LOCK_MS / 3);
      try {
        sent += await drainLocked(webhookId, signal);
      } finally {
        clearInterval(renewal);
        await release(webhookId, token);
      }
      // Re-check after releasing: a delivery whose job found the lock held is ours to send.
      const due = await heads(webhookId, 50);
      const hook = await db.db.selectFrom('webhooks').select(['status', 'deleted_at']).where('id', '=', webhookId).executeTakeFirst();
      if (hook?.status !== 'active' || hook.deleted_at !== null) return { sent };
      const now = clock();
      if (due.some((d) => Number(d.next_attempt_at) <= now) && !signal.aborted) continue;
      const wake = Math.min(...due.map((d) => Number(d.next_attempt_at)));
      if (Number.isFinite(wake)) await deps.enqueue(null, webhookId, { runAt: wake, dedupeKey: `webhook-deliver:${webhookId}:at:${wake}` });
      return { sent };
    }
    // Still busy after three rounds: hand over to a fresh job rather than hold the slot.
    await deps.enqueue(null, webhookId);
    return { sent };
  }

  /**
   * Sends due deliveries with `perReceiverConcurrency` workers. A worker takes a lane whose head is
   * due and no other worker holds, and sends down that lane in order until one fails or is not
   * yet due; then it takes another. Lanes come from a pool refilled from the database.
   */
  async function drainLocked(webhookId: string, signal: AbortSignal): Promise<number> {
    const hook = await db.db.selectFrom('webhooks').selectAll().where('id', '=', webhookId).executeTakeFirst();
    if (hook?.status !== 'active' || hook.deleted_at !== null) return 0;
    const until = clock() + DRAIN_SLICE_MS;
    const busy = new Set<string>();
    // Deliveries attempted in this drain: a refill read while one was being sent may still show it due.
    const touched = new Set<string>();
    let pool: WebhookDeliveriesTable[] = [];
    let sent = 0;
    const running = () => !signal.aborted && hook.status === 'active' && clock() < until;

    async function take(): Promise<WebhookDeliveriesTable | undefined> {
      for (let refill = 0; refill < 2; refill++) {
        const i = pool.findIndex((d) => !busy.has(d.lane) && !touched.has(d.id));
        if (i >= 0) {
          const head = pool.splice(i, 1)[0]!;
          busy.add(head.lane);
          return head;
        }
        if (refill === 0) {
          const now = clock();
          const fresh = (await heads(webhookId, config.perReceiverConcurrency * 8)).filter((d) => Number(d.next_attempt_at) <= now);
          pool = fresh.filter((d) => !busy.has(d.lane));
        }
      }
      return undefined;
    }

    async function worker() {
      while (running()) {
        const head = await take();
        if (!head) return;
        try {
          let d: WebhookDeliveriesTable | undefined = head;
          while (d && running() && !touched.has(d.id)) {
            touched.add(d.id);
            const outcome = await attempt(hook!, d, signal);
            if (outcome === 'wait') break;
            if (outcome === 'sent') sent++;
            d = await nextInLane(webhookId, head.lane);
            if (d && Number(d.next_attempt_at) > clock()) break;
          }
        } finally {
          // Entries of this lane still in the pool were its heads before this worker sent them.
          pool = pool.filter((x) => x.lane !== head.lane);
          busy.delete(head.lane);
        }
      }
    }

    await Promise.all(Array.from({ length: config.perReceiverConcurrency }, worker));
    if (clock() >= until) await deps.enqueue(null, webhookId);
    return sent;
  }

  // ---- management -----------------------------------------------------------------------------

  return {
    tap,
    drain,
    /** In-flight requests per webhook in this process (for tests and stats). */
    inflight: (webhookId: string) => inflight.get(webhookId) ?? 0,

    async create(principal: Principal, accountId: string, input: { url: string; events?: string[] }): Promise<CreatedWebhook> {
      await assertManages(principal, accountId);
      const account = await accountBasics(db.db, accountId);
      if (!account) throw notFound('account');
      if (account.kind === 'person') throw new AppError('forbidden', 'webhooks are for bot and business accounts');
      const url = await validateUrl(input.url);
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      const now = clock();
      const row: WebhooksTable = {
        id: newId('whk'),
        account_id: accountId,
        url,
        events: input.events && input.events.length > 0 ? JSON.stringify(input.events) : null,
        secret,
        kind: 'standard',
        purpose: null,
        status: 'active',
        disabled_reason: null,
        failing_since: null,
        failures: 0,
        created_at: now,
        deleted_at: null,
        lock_token: null,
        locked_until: 0,
        wake_pending: 0,
      };
      await db.writeTransaction(async (tx) => {
        const n = await tx.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('deleted_at', 'is', null).where('kind', '=', 'standard').executeTakeFirstOrThrow();
        if (Number(n.n) >= config.maxPerAccount) throw new AppError('limit_reached', `an account may have at most ${config.maxPerAccount} webhooks`);
        await tx.insertInto('webhooks').values(row).execute();
      });
      return { ...toWebhook(row), secret };
    },

    async list(principal: Principal, accountId: string): Promise<Webhook[]> {
      await assertManages(principal, accountId);
      const rows = await db.db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).where('deleted_at', 'is', null).where('kind', '=', 'standard').orderBy('created_at').execute();
      return rows.map(toWebhook);
    },

    async get(principal: Principal, webhookId: string): Promise<Webhook> {
      return toWebhook(await loadManaged(principal, webhookId));
    },

    async update(principal: Principal, webhookId: string, input: { enabled?: boolean; events?: string[] | null }): Promise<Webhook> {
      const row = await loadManaged(principal, webhookId);
      const set: Partial<WebhooksTable> = {};
      if (input.events !== undefined) set.events = input.events && input.events.length > 0 ? JSON.stringify(input.events) : null;
      if (input.enabled === true && row.status === 'disabled') Object.assign(set, { status: 'active', disabled_reason: null, failing_since: null, failures: 0 });
      if (input.enabled === false && row.status === 'active') Object.assign(set, { status: 'disabled', disabled_reason: 'disabled by its owner' });
      if (Object.keys(set).length > 0) {
        await db.writeTransaction(async (tx) => {
          await tx.updateTable('webhooks').set(set).where('id', '=', webhookId).execute();
          // Waiting deliveries resume at once.
          if (set.status === 'active') {
            await tx.updateTable('webhook_deliveries').set({ next_attempt_at: clock() }).where('webhook_id', '=', webhookId).where('status', '=', 'pending').execute();
            await deps.enqueue(tx, webhookId);
          }
        });
      }
      return toWebhook({ ...row, ...set });
    },

    async remove(principal: Principal, webhookId: string): Promise<void> {
      await loadManaged(principal, webhookId);
      await db.db.updateTable('webhooks').set({ deleted_at: clock(), status: 'disabled', disabled_reason: 'deleted' }).where('id', '=', webhookId).execute();
    },

    /** Stops every webhook of an account (its bot was deleted). */
    async removeAllOf(accountId: string): Promise<void> {
      await db.db.updateTable('webhooks').set({ deleted_at: clock(), status: 'disabled', disabled_reason: 'deleted' }).where('account_id', '=', accountId).where('deleted_at', 'is', null).execute();
    },

    async deliveries(principal: Principal, webhookId: string, options: { before?: string; limit: number; status?: 'pending' | 'succeeded' | 'failed' | 'dropped' }) {
      await loadManaged(principal, webhookId);
      let q = db.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
      if (options.status) q = q.where('status', '=', options.status);
      if (options.before !== undefined) {
        const before = Number(options.before);
        if (!Number.isSafeInteger(before)) throw new AppError('validation_failed', 'before must be the `next` value of an earlier page');
        q = q.where('seq', '<', before);
      }
      const rows = await q.orderBy('seq', 'desc').limit(options.limit + 1).execute();
      const page = rows.slice(0, options.limit);
      return { deliveries: page.map(toDelivery), next: rows.length > options.limit ? String(page.at(-1)!.seq) : null };
    },

    /** Sends a delivery again (same `webhook-id`), with a fresh retry window. */
    async replay(principal: Principal, webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
      const hook = await loadManaged(principal, webhookId);
      if (hook.status !== 'active') throw new AppError('conflict', 'this webhook is disabled; enable it first');
      const row = await db.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).where('webhook_id', '=', webhookId).executeTakeFirst();
      if (!row) throw notFound('delivery');
      if (row.status === 'pending') throw new AppError('conflict', 'this delivery is still being retried');
      if (row.status === 'dropped') throw new AppError('delivery_withdrawn', `this delivery was withdrawn unsent and is never sent (${row.last_error ?? 'withdrawn'})`);
      const why = await withdrawal(hook, row);
      if (why !== null) throw new AppError('delivery_withdrawn', `this delivery may not be sent again: ${why}`);
      const now = clock();
      const updated = await db.writeTransaction(async (tx) => {
        await tx.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: now, window_start: now, delivered_at: null }).where('id', '=', deliveryId).execute();
        await deps.enqueue(tx, webhookId);
        return tx.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow();
      });
      return toDelivery(updated);
    },

    // ---- for other capabilities (Telegram's setWebhook) -----------------------------------------

    /**
     * Sets (or replaces) an account's custom webhook for `purpose`: deliveries with a body and
     * headers the caller builds (no Standard Webhooks signature), with the same durability, order,
     * retries and isolation. Returns its id.
     */
    async setCustom(input: { accountId: string; purpose: string; url: string; dropPending?: boolean }): Promise<string> {
      const url = await validateUrl(input.url);
      const now = clock();
      return db.writeTransaction(async (tx) => {
        const existing = await tx.selectFrom('webhooks').selectAll().where('account_id', '=', input.accountId).where('kind', '=', 'custom').where('purpose', '=', input.purpose).where('deleted_at', 'is', null).executeTakeFirst();
        if (existing) {
          await tx.updateTable('webhooks').set({ url, status: 'active', disabled_reason: null, failing_since: null, failures: 0 }).where('id', '=', existing.id).execute();
          if (input.dropPending) await tx.updateTable('webhook_deliveries').set({ status: 'failed', last_error: 'dropped' }).where('webhook_id', '=', existing.id).where('status', '=', 'pending').execute();
          else await deps.enqueue(tx, existing.id);
          return existing.id;
        }
        const id = newId('whk');
        await tx.insertInto('webhooks').values({ id, account_id: input.accountId, url, events: null, secret: '', kind: 'custom', purpose: input.purpose, status: 'active', disabled_reason: null, failing_since: null, failures: 0, created_at: now, deleted_at: null, lock_token: null, locked_until: 0, wake_pending: 0 }).execute();
        return id;
      });
    },

    /** Removes an account's custom webhook for `purpose`; its pending deliveries are dropped when asked. */
    async removeCustom(input: { accountId: string; purpose: string; dropPending?: boolean }): Promise<void> {
      await db.writeTransaction(async (tx) => {
        const existing = await tx.selectFrom('webhooks').select('id').where('account_id', '=', input.accountId).where('kind', '=', 'custom').where('purpose', '=', input.purpose).where('deleted_at', 'is', null).executeTakeFirst();
        if (!existing) return;
        await tx.updateTable('webhooks').set({ deleted_at: clock(), status: 'disabled', disabled_reason: 'deleted' }).where('id', '=', existing.id).execute();
        if (input.dropPending) await tx.updateTable('webhook_deliveries').set({ status: 'failed', last_error: 'dropped' }).where('webhook_id', '=', existing.id).where('status', '=', 'pending').execute();
      });
    },

    /** The custom webhook for `purpose` and its state (Telegram's getWebhookInfo), or null. */
    async customInfo(input: { accountId: string; purpose: string }) {
      const hook = await db.db.selectFrom('webhooks').selectAll().where('account_id', '=', input.accountId).where('kind', '=', 'custom').where('purpose', '=', input.purpose).where('deleted_at', 'is', null).executeTakeFirst();
      if (!hook) return null;
      const pending = await db.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('webhook_id', '=', hook.id).where('status', '=', 'pending').executeTakeFirstOrThrow();
      const lastFailed = await db.db.selectFrom('webhook_deliveries').select(['last_error', 'created_at', 'next_attempt_at']).where('webhook_id', '=', hook.id).where('last_error', 'is not', null).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return {
        id: hook.id,
        url: hook.url,
        status: hook.status,
        pendingCount: Number(pending.n),
        lastError: lastFailed?.last_error ?? null,
        lastErrorAt: lastFailed ? Number(lastFailed.created_at) : null,
      };
    },

    /**
     * Enqueues a custom delivery to the account's custom webhook for `purpose`, inside `tx` when
     * given (an event tap: it then commits with the event). False when there is no active one.
     * `lane` keeps order (deliveries in one lane are sent one after another, in enqueue order).
     */
    async enqueueCustom(tx: Tx | null, input: { accountId: string; purpose: string; lane: string; type: string; body: string; headers?: Record<string, string> }): Promise<boolean> {
      const run = async (t: Tx) => {
        const hook = await t.selectFrom('webhooks').select(['id', 'status']).where('account_id', '=', input.accountId).where('kind', '=', 'custom').where('purpose', '=', input.purpose).where('deleted_at', 'is', null).executeTakeFirst();
        if (hook?.status !== 'active') return false;
        // Increasing within this process; deliveries of one lane are enqueued by one writer at a time.
        customSeq = Math.max(customSeq + 1, clock() * 1000);
        await insertDelivery(t, { webhookId: hook.id, lane: input.lane, seq: customSeq, type: input.type, cursor: null, conversationId: null, body: input.body, headers: input.headers ?? null });
        return true;
      };
      return tx ? run(tx) : db.writeTransaction(run);
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
