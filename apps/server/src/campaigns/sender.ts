/**
 * Sender lanes: jobs on the campaign queue (apart from media processing and everything else) that
 * claim batches of due recipients and send each one's message into their direct chat with the
 * business.
 *
 * - Pace: a token bucket in the run's row, refilled at the campaign's throttle and taken from in
 *   the claiming transaction, so every lane on every process shares one limit.
 * - Claims: a claimed recipient's `send_after` becomes the claim's expiry; a lane killed mid-batch
 *   leaves rows another lane reclaims once it passes.
 * - One transaction per batch (sendBatch): the batch's messages, the chats they open, their cap
 *   records and every recipient's outcome commit together; rendering happens before, outside it.
 *   Written in bulk: chats opened by conversations.openDirectChats, plain-text messages written by
 *   messaging.sendMany, outcomes by advanceMany, a few statements for the batch; a message with
 *   media or interactive parts goes through messaging.send, under a savepoint of its own.
 * - Exactly once: each message carries the idempotency key `campaign:<run>:<contact>`, which
 *   messaging deduplicates in the transaction that writes it, and that transaction also records
 *   the recipient: a kill leaves both or neither, and a reclaimed recipient is sent once.
 * - Consent: the gate (contacts capability) answers for each recipient at send time, in the
 *   sending transaction: no consent, suppressed or capped is skipped with that reason; quiet hours
 *   wait until they end (skipped only when that is past the campaign's send window).
 * - Between batches a lane yields to the event loop (lib/breathe.ts), so a campaign never keeps
 *   the process from reading requests.
 * - A lane works for a bounded time, then enqueues its successor (a dedupe key per step makes a
 *   re-run job enqueue the same successor): pause and cancel take effect at the next batch, and
 *   no job holds its lease for hours.
 */
import { performance } from 'node:perf_hooks';
import { accountsByIds } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import type { OpenedChat } from '../conversations/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { Emit, WriteWithEvents } from '../sync/index.ts';
import type { CampaignPorts, GateSettings, GateVerdict, SendableMessage } from './ports.ts';
import { CODE, advanceMany } from './recipients.ts';
import type { CampaignRun as RunRow } from './schema.ts';
import { type ParsedCampaign, businessPrincipal, parseCampaign } from './service.ts';
import type { Principal } from '../accounts/index.ts';
import { breathe } from '../lib/breathe.ts';

export interface SendLanePayload {
  runId: number;
  chain: number;
  lane: number;
  step: number;
}

export interface SenderDeps {
  db: Database;
  clock: () => number;
  ports: CampaignPorts;
  enqueue(tx: Tx | null, payload: SendLanePayload, options: { runAt: number; dedupeKey: string }): Promise<unknown>;
  /** A write transaction whose events publish after commit (sync's writer), with savepoints. */
  write: WriteWithEvents;
  /** messaging.send, inside the batch's transaction. */
  send(
    principal: Principal,
    conversationId: string,
    input: SendableMessage & { idempotencyKey: string; automated: true; eventTo: string },
    within: { tx: Tx; emit: Emit },
  ): Promise<{ message: { id: string; seq: number } }>;
  /** messaging.sendMany: the batch's plain-text messages in one bulk write, per chat an outcome. */
  sendMany(
    principal: Principal,
    items: { conversationId: string; text: string; idempotencyKey: string; eventTo: string }[],
    within: { tx: Tx; emit: Emit },
  ): Promise<Map<string, { ok: true; message: { id: string; seq: number } } | { ok: false; code: string; message: string }>>;
  /** conversations' openDirectChats: the direct chat with each of these people, opened where none exists yet. */
  openDirectMany(tx: Tx, emit: Emit, principal: Principal, accountIds: string[], now: number): Promise<Map<string, OpenedChat>>;
  config: {
    /** Lanes per run (parallel sender jobs). */
    lanes: number;
    /** Recipients claimed at once. */
    batchSize: number;
    /** How long a claim lasts before another lane may take the recipient over. */
    claimMs: number;
    /** Real time a lane works before handing over to its successor. */
    sliceMs: number;
    /** How soon a lane looks again while its run is still being planned. */
    idleMs: number;
  };
  log: { warn(obj: object, msg: string): void };
}

type Outcome =
  | { kind: 'sent'; messageId: string; conversationId: string; seq: number; accountId: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'wait'; until: number; reason: string };

export function createSender(deps: SenderDeps) {
  const { db, clock, ports, config } = deps;

  /** Starts a run's lanes under a new chain (older lanes see the chain moved and stop). */
  async function start(tx: Tx, runId: number) {
    const run = await tx.selectFrom('campaign_runs').select('sender_chain').where('id', '=', runId).executeTakeFirstOrThrow();
    const chain = Number(run.sender_chain) + 1;
    await tx.updateTable('campaign_runs').set({ sender_chain: chain }).where('id', '=', runId).execute();
    const now = clock();
    for (let lane = 0; lane < config.lanes; lane += 1) {
      await deps.enqueue(tx, { runId, chain, lane, step: 0 }, { runAt: now, dedupeKey: `campaign-send:${runId}:${chain}:${lane}:0` });
    }
  }

  async function successor(payload: SendLanePayload, runAt: number) {
    const next = { ...payload, step: payload.step + 1 };
    await deps.enqueue(null, next, { runAt, dedupeKey: `campaign-send:${next.runId}:${next.chain}:${next.lane}:${next.step}` });
  }

  /** Takes tokens and claims up to that many due recipients, in one transaction. */
  async function claim(runId: number, throttle: number): Promise<{ rows: { contact_id: string; variant: number }[]; waitMs: number }> {
    return db.writeTransaction(async (tx) => {
      const now = clock();
      const run = await tx.selectFrom('campaign_runs').select(['tokens', 'refilled_at']).where('id', '=', runId).executeTakeFirstOrThrow();
      const elapsed = Math.max(0, now - Number(run.refilled_at));
      const tokens = Math.min(throttle, Number(run.tokens) + (elapsed * throttle) / 1000);
      const take = Math.min(config.batchSize, Math.floor(tokens));
      if (take < 1) return { rows: [], waitMs: Math.ceil(((1 - tokens) * 1000) / throttle) };
      const rows = await tx
        .selectFrom('campaign_recipients')
        .select(['contact_id', 'variant'])
        .where('run_id', '=', runId)
        .where('status', '<', CODE.sent)
        .where('send_after', '<=', now)
        .orderBy('send_after')
        .orderBy('contact_id')
        .limit(take)
        .execute();
      if (rows.length > 0) {
        await tx
          .updateTable('campaign_recipients')
          .set({ status: CODE.sending, send_after: now + config.claimMs, updated_at: now })
          .where('run_id', '=', runId)
          .where(
            'contact_id',
            'in',
            rows.map((r) => r.contact_id),
          )
          .execute();
      }
      await tx.updateTable('campaign_runs').set({ tokens: tokens - rows.length, refilled_at: Math.max(now, Number(run.refilled_at)) }).where('id', '=', runId).execute();
      return { rows: rows.map((r) => ({ contact_id: r.contact_id, variant: Number(r.variant) })), waitMs: 0 };
    });
  }

  /**
   * What the gate says of a recipient: null when the message may go, else the outcome instead
   * (skipped with its reason; quiet hours wait until they end unless that is past the window).
   */
  function gateOutcome(c: ParsedCampaign, verdict: GateVerdict | undefined): Outcome | null {
    if (!verdict) return { kind: 'skipped', reason: 'not_a_contact' };
    if (verdict.ok) return null;
    if (verdict.reason === 'quiet_hours' && verdict.retryAt !== undefined) {
      if (c.send_until !== null && verdict.retryAt > c.send_until) return { kind: 'skipped', reason: 'quiet_hours_passed_window' };
      return { kind: 'wait', until: verdict.retryAt, reason: 'quiet_hours' };
    }
    return { kind: 'skipped', reason: verdict.reason };
  }

  /**
   * Sends one claimed batch. Rendering (personalised media can take a while) happens first,
   * outside any transaction, for the recipients the gate lets through; then ONE write
   * transaction asks the gate again (a STOP that came in meanwhile wins), opens the direct chats
   * of people messaged for the first time, writes every message, counts them towards caps and
   * records every outcome. One commit per batch instead of three per recipient, and the message
   * and its record commit together: exactly once needs no reconciliation after a crash. A
   * refusal for one recipient (blocked, say) rolls back to its savepoint and fails that recipient
   * alone.
   */
  async function sendBatch(options: {
    c: ParsedCampaign;
    runId: number;
    rows: { contact_id: string; variant: number }[];
    contacts: Map<string, { account_id: string; handle: string | undefined }>;
    principal: Principal;
    settings: GateSettings;
    /** Ask the gate before rendering too (personalised media is costly to draw). */
    gateFirst: boolean;
  }): Promise<{ sent: number; drewMedia: boolean }> {
    const { c, runId, principal, settings } = options;
    const now = clock();
    const outcomes = new Map<string, Outcome>();
    const sendable: { contactId: string; accountId: string; handle: string; variant: number }[] = [];
    for (const r of options.rows) {
      const contact = options.contacts.get(r.contact_id);
      if (!contact?.handle) outcomes.set(r.contact_id, { kind: 'skipped', reason: 'not_a_contact' });
      else if (c.send_until !== null && now > c.send_until) outcomes.set(r.contact_id, { kind: 'skipped', reason: 'window_passed' });
      else sendable.push({ contactId: r.contact_id, accountId: contact.account_id, handle: contact.handle, variant: r.variant });
    }
    // The gate before rendering: nobody's personalised picture is drawn for a message that cannot
    // go. Where the lane's last batch drew none (plain text), rendering costs less than asking,
    // and the gate inside the sending transaction decides alone.
    const early = options.gateFirst
      ? await db.readTransaction((tx) => ports.checkMany({ tx, businessId: c.business_id, accountIds: sendable.map((x) => x.accountId), purpose: c.purpose, at: now, settings }))
      : null;
    const rendered = new Map<string, SendableMessage>();
    const passing = sendable.filter((x) => {
      if (!early) return true;
      const blocked = gateOutcome(c, early.get(x.accountId));
      if (blocked) outcomes.set(x.contactId, blocked);
      return !blocked;
    });
    const templateContacts = await ports.templateContacts({ businessId: c.business_id, ids: passing.map((x) => x.contactId) });
    for (const x of passing) {
      const variant = c.variants[x.variant] ?? c.variants[0]!;
      const contact = templateContacts.get(x.contactId);
      const result = await ports.render({
        businessId: c.business_id,
        versionId: variant.template_version_id,
        contactId: x.contactId,
        ...(contact !== undefined ? { contact } : {}),
        variables: c.variables,
        trackingKey: `run:${runId}`,
      });
      if (result.ok) rendered.set(x.contactId, result.message);
      else outcomes.set(x.contactId, { kind: 'failed', reason: result.reason });
    }
    const ready = sendable.filter((x) => rendered.has(x.contactId));
    const drewMedia = [...rendered.values()].some((m) => (m.media?.length ?? 0) > 0);
    const sent = await deps.write(async (tx, emit, savepoint) => {
      const at = clock();
      const verdicts = ready.length
        ? await ports.checkMany({ tx, businessId: c.business_id, accountIds: ready.map((x) => x.accountId), purpose: c.purpose, at, settings })
        : new Map<string, GateVerdict>();
      const going = ready.filter((x) => {
        const blocked = gateOutcome(c, verdicts.get(x.accountId));
        if (blocked) outcomes.set(x.contactId, blocked);
        return !blocked;
      });
      // Chats for the whole batch at once: the existing ones, new ones for people messaged first.
      const chats = going.length ? await deps.openDirectMany(tx, emit, principal, going.map((x) => x.accountId), at) : new Map<string, OpenedChat>();
      const sends: { businessId: string; accountId: string; purpose: string; sendKey: string; at: number }[] = [];
      const sentOne = (x: (typeof going)[number], conversationId: string, message: { id: string; seq: number }) => {
        outcomes.set(x.contactId, { kind: 'sent', messageId: message.id, conversationId, seq: Number(message.seq), accountId: x.accountId });
        sends.push({ businessId: c.business_id, accountId: x.accountId, purpose: c.purpose, sendKey: `campaign:${runId}:${x.contactId}`, at });
      };
      // Plain text goes in one bulk write; media and interactive parts through send, one by one.
      const plain: { x: (typeof going)[number]; conversationId: string; text: string }[] = [];
      const rich: { x: (typeof going)[number]; conversationId: string }[] = [];
      const seen = new Set<string>();
      for (const x of going) {
        const chat = chats.get(x.accountId);
        if (!chat?.ok) {
          outcomes.set(x.contactId, { kind: 'failed', reason: chat ? `${chat.code}: ${chat.message}` : 'not_found: no chat with this person' });
          continue;
        }
        const m = rendered.get(x.contactId)!;
        if (m.text !== undefined && !m.media?.length && m.interactive === undefined && !seen.has(chat.conversationId)) plain.push({ x, conversationId: chat.conversationId, text: m.text });
        else rich.push({ x, conversationId: chat.conversationId });
        seen.add(chat.conversationId);
      }
      if (plain.length) {
        const results = await deps.sendMany(
          principal,
          plain.map((p) => ({ conversationId: p.conversationId, text: p.text, idempotencyKey: `campaign:${runId}:${p.x.contactId}`, eventTo: p.x.accountId })),
          { tx, emit },
        );
        for (const p of plain) {
          const r = results.get(p.conversationId);
          if (r?.ok) sentOne(p.x, p.conversationId, r.message);
          else outcomes.set(p.x.contactId, { kind: 'failed', reason: r ? `${r.code}: ${r.message}` : 'internal: no answer for this message' });
        }
      }
      for (const { x, conversationId } of rich) {
        const key = `campaign:${runId}:${x.contactId}`;
        try {
          const { message } = await savepoint(() => deps.send(principal, conversationId, { ...rendered.get(x.contactId)!, idempotencyKey: key, automated: true, eventTo: x.accountId }, { tx, emit }));
          sentOne(x, conversationId, message);
        } catch (err) {
          // Refusals (blocked, not allowed) are this recipient's outcome; anything else undoes the batch and is retried.
          if (err instanceof AppError) outcomes.set(x.contactId, { kind: 'failed', reason: `${err.code}: ${err.message}` });
          else throw err;
        }
      }
      if (sends.length) await ports.recordSends(tx, sends);
      await record(
        tx,
        runId,
        [...outcomes].map(([contactId, outcome]) => ({ contactId, outcome })),
      );
      return sends.length;
    });
    return { sent, drewMedia };
  }

  /** Records a batch's outcomes, in the batch's transaction: a few statements for the whole batch. */
  async function record(tx: Tx, runId: number, outcomes: { contactId: string; outcome: Outcome }[]) {
    const now = clock();
    const final: Parameters<typeof advanceMany>[2][number][] = [];
    const chats: { conversation_id: string; seq: number; run_id: number; contact_id: string; account_id: string; sent_at: number }[] = [];
    for (const { contactId, outcome } of outcomes) {
      switch (outcome.kind) {
        case 'sent':
          final.push({ contactId, stage: 'sent', set: { message_id: outcome.messageId, reason: null } });
          chats.push({ conversation_id: outcome.conversationId, seq: outcome.seq, run_id: runId, contact_id: contactId, account_id: outcome.accountId, sent_at: now });
          break;
        case 'failed':
        case 'skipped':
          final.push({ contactId, stage: outcome.kind, set: { reason: outcome.reason } });
          break;
        case 'wait':
          await tx
            .updateTable('campaign_recipients')
            .set({ status: CODE.queued, send_after: outcome.until, reason: outcome.reason, updated_at: now })
            .where('run_id', '=', runId)
            .where('contact_id', '=', contactId)
            .where('status', '<', CODE.sent)
            .execute();
          break;
        default: {
          const never: never = outcome;
          throw new Error(`unknown outcome ${JSON.stringify(never)}`);
        }
      }
    }
    await advanceMany(tx, runId, final, now);
    for (let i = 0; i < chats.length; i += 250) {
      await tx
        .insertInto('campaign_chats')
        .values(chats.slice(i, i + 250))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  /** A run with nothing left to send is done; a campaign with no run left is completed. */
  async function finish(run: RunRow) {
    await db.writeTransaction(async (tx) => {
      const now = clock();
      const pending = await tx.selectFrom('campaign_recipients').select('contact_id').where('run_id', '=', Number(run.id)).where('status', '<', CODE.sent).limit(1).executeTakeFirst();
      if (pending) return;
      const updated = await tx.updateTable('campaign_runs').set({ status: 'done', finished_at: now }).where('id', '=', Number(run.id)).where('status', '=', 'sending').executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return;
      const open = await tx.selectFrom('campaign_runs').select(['status']).where('campaign_id', '=', run.campaign_id).where('status', 'not in', ['done', 'cancelled']).execute();
      const status = open.length === 0 ? 'completed' : open.every((r) => r.status === 'waiting') ? 'scheduled' : 'running';
      await tx.updateTable('campaigns').set({ status, updated_at: now }).where('id', '=', run.campaign_id).where('status', '=', 'running').execute();
    });
  }

  /** One lane's job. */
  async function lane(payload: SendLanePayload, signal?: AbortSignal): Promise<string> {
    const began = performance.now();
    let sent = 0;
    let principal: Principal | null = null;
    let settings: GateSettings | undefined;
    // Until a batch shows otherwise, renders are taken to draw media (see sendBatch).
    let drewMedia = true;
    for (;;) {
      const run = await db.db.selectFrom('campaign_runs').selectAll().where('id', '=', payload.runId).executeTakeFirst();
      if (!run || Number(run.sender_chain) !== payload.chain || run.status === 'done' || run.status === 'cancelled' || run.status === 'waiting') return `stopped after ${sent}`;
      const row = await db.db.selectFrom('campaigns').selectAll().where('id', '=', run.campaign_id).executeTakeFirstOrThrow();
      const c = parseCampaign(row);
      if (c.status !== 'running') return `${c.status} after ${sent}`;
      if (signal?.aborted) throw new Error('lane interrupted; its claims expire and are taken over');
      if (performance.now() - began > config.sliceMs) {
        await successor(payload, clock());
        return `handed over after ${sent}`;
      }
      const { rows, waitMs } = await claim(payload.runId, c.throttle_per_second);
      if (rows.length === 0) {
        const now = clock();
        if (waitMs > 0) {
          await successor(payload, now + waitMs);
          return `throttled after ${sent}`;
        }
        if (run.status === 'planning') {
          await successor(payload, now + config.idleMs);
          return `waiting for the planner after ${sent}`;
        }
        const next = await db.db
          .selectFrom('campaign_recipients')
          .select('send_after')
          .where('run_id', '=', payload.runId)
          .where('status', '<', CODE.sent)
          .orderBy('send_after')
          .limit(1)
          .executeTakeFirst();
        if (next) {
          await successor(payload, Math.max(now, Number(next.send_after)));
          return `next due at ${Number(next.send_after)} after ${sent}`;
        }
        await finish(run);
        return `finished after ${sent}`;
      }
      if (!principal) {
        const handle = (await accountsByIds(db.db, [c.business_id])).get(c.business_id)?.handle ?? '';
        principal = businessPrincipal(c.business_id, handle);
      }
      const contacts = await ports.contactsByIds({ businessId: c.business_id, ids: rows.map((r) => r.contact_id) });
      const handles = await accountsByIds(
        db.db,
        contacts.map((x) => x.account_id),
      );
      const byId = new Map(contacts.map((x) => [x.id, { account_id: x.account_id, handle: handles.get(x.account_id)?.kind === 'person' ? handles.get(x.account_id)?.handle : undefined }]));
      settings ??= await ports.gateSettings(c.business_id);
      const batch = await sendBatch({ c, runId: payload.runId, rows, contacts: byId, principal, settings, gateFirst: drewMedia });
      sent += batch.sent;
      drewMedia = batch.drewMedia;
      await breathe();
    }
  }

  return { start, lane };
}

export type Sender = ReturnType<typeof createSender>;
