/**
 * Sender lanes: jobs on the campaign queue (apart from media processing and everything else) that
 * claim batches of due recipients and send each one's message into their direct chat with the
 * business.
 *
 * - Pace: a token bucket in the run's row, refilled at the campaign's throttle and taken from in
 *   the claiming transaction, so every lane on every process shares one limit.
 * - Claims: a claimed recipient's `send_after` becomes the claim's expiry; a lane killed mid-batch
 *   leaves rows another lane reclaims once it passes.
 * - Exactly once: each message carries the idempotency key `campaign:<run>:<contact>`, which
 *   messaging deduplicates in the transaction that writes it. A reclaimed recipient whose message
 *   already went out gets the same message back (replayed), and is recorded, not sent again.
 * - Consent: the gate (contacts capability) answers for each recipient at send time: no consent,
 *   suppressed or capped is skipped with that reason; quiet hours wait until they end (skipped only
 *   when that is past the campaign's send window).
 * - A lane works for a bounded time, then enqueues its successor (a dedupe key per step makes a
 *   re-run job enqueue the same successor): pause and cancel take effect at the next batch, and
 *   no job holds its lease for hours.
 */
import { performance } from 'node:perf_hooks';
import { accountsByIds } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { CampaignPorts, SendableMessage } from './ports.ts';
import { CODE, advance } from './recipients.ts';
import type { CampaignRun as RunRow } from './schema.ts';
import { type ParsedCampaign, businessPrincipal, parseCampaign } from './service.ts';
import type { Principal } from '../accounts/index.ts';

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
  send(
    principal: Principal,
    conversationId: string,
    input: SendableMessage & { idempotencyKey: string; automated: true; eventTo: string },
  ): Promise<{ message: { id: string; seq: number } }>;
  openDirect(principal: Principal, handle: string): Promise<{ conversation: { id: string } }>;
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

  async function outcomeFor(options: {
    c: ParsedCampaign;
    runId: number;
    contactId: string;
    variant: number;
    contact: { account_id: string; handle: string | undefined } | undefined;
    principal: Principal;
  }): Promise<Outcome> {
    const { c, runId, contactId, contact } = options;
    if (!contact?.handle) return { kind: 'skipped', reason: 'not_a_contact' };
    const now = clock();
    if (c.send_until !== null && now > c.send_until) return { kind: 'skipped', reason: 'window_passed' };
    const verdict = await ports.check({ businessId: c.business_id, accountId: contact.account_id, purpose: c.purpose, at: now });
    if (!verdict.ok) {
      if (verdict.reason === 'quiet_hours' && verdict.retryAt !== undefined) {
        if (c.send_until !== null && verdict.retryAt > c.send_until) return { kind: 'skipped', reason: 'quiet_hours_passed_window' };
        return { kind: 'wait', until: verdict.retryAt, reason: 'quiet_hours' };
      }
      return { kind: 'skipped', reason: verdict.reason };
    }
    const variant = c.variants[options.variant] ?? c.variants[0]!;
    const rendered = await ports.render({ businessId: c.business_id, versionId: variant.template_version_id, contactId, variables: c.variables, trackingKey: `run:${runId}` });
    if (!rendered.ok) return { kind: 'failed', reason: rendered.reason };
    try {
      const { conversation } = await deps.openDirect(options.principal, contact.handle);
      const key = `campaign:${runId}:${contactId}`;
      const { message } = await deps.send(options.principal, conversation.id, {
        ...rendered.message,
        idempotencyKey: key,
        automated: true,
        eventTo: contact.account_id,
      });
      await ports.recordSend({ businessId: c.business_id, accountId: contact.account_id, purpose: c.purpose, sendKey: key, at: now });
      return { kind: 'sent', messageId: message.id, conversationId: conversation.id, seq: Number(message.seq), accountId: contact.account_id };
    } catch (err) {
      // Refusals (blocked, not allowed) are this recipient's outcome; anything else is retried.
      if (err instanceof AppError) return { kind: 'failed', reason: `${err.code}: ${err.message}` };
      throw err;
    }
  }

  /** Records a batch's outcomes in one transaction. */
  async function record(runId: number, outcomes: { contactId: string; outcome: Outcome }[]) {
    await db.writeTransaction(async (tx) => {
      const now = clock();
      for (const { contactId, outcome } of outcomes) {
        switch (outcome.kind) {
          case 'sent':
            await advance(tx, { runId, contactId, stage: 'sent', at: now, set: { message_id: outcome.messageId, reason: null } });
            await tx
              .insertInto('campaign_chats')
              .values({ conversation_id: outcome.conversationId, seq: outcome.seq, run_id: runId, contact_id: contactId, account_id: outcome.accountId, sent_at: now })
              .onConflict((oc) => oc.doNothing())
              .execute();
            break;
          case 'failed':
          case 'skipped':
            await advance(tx, { runId, contactId, stage: outcome.kind, at: now, set: { reason: outcome.reason } });
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
    });
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
      const outcomes: { contactId: string; outcome: Outcome }[] = [];
      try {
        for (const r of rows) {
          const outcome = await outcomeFor({ c, runId: payload.runId, contactId: r.contact_id, variant: r.variant, contact: byId.get(r.contact_id), principal });
          outcomes.push({ contactId: r.contact_id, outcome });
          if (outcome.kind === 'sent') sent += 1;
        }
      } finally {
        // What was decided is kept even when a later recipient's send threw (it is retried).
        if (outcomes.length > 0) await record(payload.runId, outcomes);
      }
    }
  }

  return { start, lane };
}

export type Sender = ReturnType<typeof createSender>;
