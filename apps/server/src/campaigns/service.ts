/**
 * Campaigns: create (every refusal a clear error), start, pause, resume, cancel, test sends,
 * resends, and what a business reads back (the campaign with its funnel, its recipients, a CSV).
 *
 * Nothing here writes a row per recipient: the request path writes the campaign and its run and
 * enqueues the planner (planner.ts), which pages through the audience in the background; sender
 * workers (sender.ts) then claim due recipients in batches on a queue of their own.
 */
import type {
  Campaign,
  CampaignAudience,
  CampaignDetail,
  CampaignRecipient,
  CampaignRun,
  CampaignSchedule,
  CampaignStatus,
  CreateCampaignBody,
  RecipientStatus,
  ResendCampaignBody,
  TestCampaignBody,
  TestCampaignReply,
} from '@mmd/contracts';
import { API_SCOPES } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import type { Business, BusinessActor } from '../business/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { CampaignPorts, SendableMessage } from './ports.ts';
import { CODE, type Funnel, countsOf, emptyFunnel, statusName } from './recipients.ts';
import type { CampaignRun as RunRow, CampaignsTable } from './schema.ts';
import { firstRunAt } from './schedule.ts';
import { type Variant, variantName } from './variants.ts';

/** Messages per second when a campaign names no throttle. */
export const DEFAULT_THROTTLE = 50;

export interface CampaignJobs {
  /** Plans a run (pages through its audience); runAt is when planning may start. */
  plan(tx: Tx, runId: number, runAt: number): Promise<unknown>;
  /** Starts the run's sender lanes (a new chain: lanes of an older chain stop). */
  send(tx: Tx, runId: number): Promise<unknown>;
}

export interface CampaignsDeps {
  db: Database;
  clock: () => number;
  ports: CampaignPorts;
  business: Pick<Business, 'settings' | 'members'>;
  jobs: CampaignJobs;
  /** messaging.send and conversations.create (direct), as the business (test sends). */
  sendAs(principal: Principal, conversationId: string, input: SendableMessage & { idempotencyKey: string; automated: true }): Promise<{ message: { id: string } }>;
  openDirect(principal: Principal, handle: string): Promise<{ conversation: { id: string } }>;
}

/** The business account acting as itself (sends into its own direct chats). */
export function businessPrincipal(accountId: string, handle: string): Principal {
  return { accountId, handle, kind: 'business', role: 'user', deviceId: null, apiKeyId: null, scopes: new Set(API_SCOPES) };
}

function invalid(path: string, message: string): AppError {
  return new AppError('validation_failed', message, { errors: [{ path, message }] });
}

export function parseCampaign(row: CampaignsTable) {
  return {
    ...row,
    audience: JSON.parse(row.audience) as CampaignAudience,
    variants: JSON.parse(row.variants) as Variant[],
    variables: JSON.parse(row.variables) as Record<string, string>,
    schedule: JSON.parse(row.schedule) as CampaignSchedule,
    throttle_per_second: Number(row.throttle_per_second),
    send_until: row.send_until === null ? null : Number(row.send_until),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}
export type ParsedCampaign = ReturnType<typeof parseCampaign>;

function runView(r: RunRow): CampaignRun {
  return {
    id: Number(r.id),
    kind: r.kind as CampaignRun['kind'],
    status: r.status as CampaignRun['status'],
    scheduled_at: Number(r.scheduled_at),
    planned: Number(r.planned),
    finished_at: r.finished_at === null ? null : Number(r.finished_at),
  };
}

function toFunnel(f: Funnel) {
  return {
    planned: f.planned,
    sent: f.sent,
    delivered: f.delivered,
    read: f.read,
    clicked: f.clicked,
    replied: f.replied,
    voted: f.voted,
    opted_out: f.opted_out,
    failed: f.failed,
    skipped: f.skipped,
  };
}

/** Keyset cursors: opaque to callers, `run:contact` inside. */
function decodeCursor(cursor: string | undefined): { runId: number; contactId: string } | null {
  if (!cursor) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const at = text.indexOf(':');
  const runId = Number(text.slice(0, at));
  if (at < 1 || !Number.isInteger(runId)) throw invalid('/cursor', 'not a cursor this endpoint gave');
  return { runId, contactId: text.slice(at + 1) };
}
const encodeCursor = (runId: number, contactId: string) => Buffer.from(`${runId}:${contactId}`, 'utf8').toString('base64url');

export function createCampaigns(deps: CampaignsDeps) {
  const { db, clock, ports, jobs } = deps;

  async function load(executor: Database['db'] | Tx, businessId: string, id: string): Promise<ParsedCampaign> {
    const row = await executor.selectFrom('campaigns').selectAll().where('id', '=', id).where('business_id', '=', businessId).executeTakeFirst();
    // Another business's campaign is as absent as one that never existed.
    if (!row) throw notFound('campaign');
    return parseCampaign(row);
  }

  async function runsOf(executor: Database['db'] | Tx, campaignId: string): Promise<RunRow[]> {
    return executor.selectFrom('campaign_runs').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();
  }

  async function checkVariants(businessId: string, variants: readonly { template_version_id: string }[], variables: Record<string, string>) {
    for (const [i, v] of variants.entries()) {
      const info = await ports.templateVersion({ businessId, versionId: v.template_version_id, variables });
      const path = `/variants/${i}/template_version_id`;
      if (!info) throw new AppError('not_found', `template version ${v.template_version_id} not found`, { errors: [{ path, message: 'not found' }] });
      if (!info.approved) throw new AppError('template_not_approved', `template version ${v.template_version_id} is not approved; approve it before sending`, { errors: [{ path, message: 'not approved' }] });
      if (info.unknownVariables.length > 0) {
        const names = info.unknownVariables.map((n) => `{{${n}}}`).join(', ');
        throw new AppError('unknown_variables', `template version ${v.template_version_id} uses ${names}, which no contact field, attribute or campaign variable provides`, {
          errors: info.unknownVariables.map((n) => ({ path, message: `unknown variable ${n}` })),
        });
      }
    }
  }

  /** An inline list resolved and checked; a segment or rule checked for at least one contact. */
  async function checkAudience(businessId: string, audience: CampaignAudience): Promise<CampaignAudience> {
    if ('contact_ids' in audience || 'external_ids' in audience) {
      let ids: string[];
      if ('external_ids' in audience) {
        const found = await ports.contactIdsByExternalIds({ businessId, externalIds: audience.external_ids });
        const missing = audience.external_ids.filter((e) => !found.has(e));
        if (missing.length > 0) throw unknownIn('/audience/external_ids', missing, 'external ids');
        ids = [...new Set(found.values())];
      } else {
        ids = audience.contact_ids;
        const known = new Set<string>();
        for (let i = 0; i < ids.length; i += 500) for (const c of await ports.contactsByIds({ businessId, ids: ids.slice(i, i + 500) })) known.add(c.id);
        const missing = ids.filter((id) => !known.has(id));
        if (missing.length > 0) throw unknownIn('/audience/contact_ids', missing, 'contacts');
      }
      if (ids.length === 0) throw new AppError('audience_empty', 'the audience has nobody in it');
      // Sorted: the planner pages through the list in contact id order, as through a segment.
      return { contact_ids: [...ids].sort() };
    }
    const first = await ports.audiencePage({ businessId, ...('segment_id' in audience ? { segmentId: audience.segment_id } : { rule: audience.rule }), afterContactId: null, limit: 1 });
    if (first.length === 0) throw new AppError('audience_empty', 'the audience has nobody in it: the segment matches no contact');
    return audience;
  }

  function unknownIn(path: string, missing: string[], what: string): AppError {
    const shown = missing.slice(0, 20);
    return new AppError('validation_failed', `${missing.length} unknown ${what}: ${shown.join(', ')}${missing.length > shown.length ? ', …' : ''}`, {
      errors: shown.map((m) => ({ path, message: `unknown: ${m}` })),
    });
  }

  function checkThrottle(value: number | undefined): number {
    const throttle = value ?? DEFAULT_THROTTLE;
    if (throttle < 1) throw invalid('/throttle_per_second', `a throttle of ${throttle} messages per second would never send; give at least 1`);
    return throttle;
  }

  async function checkSchedule(businessId: string, campaign: { schedule: CampaignSchedule; send_until: number | null }, now: number): Promise<number> {
    const settings = await deps.business.settings(businessId);
    const at = firstRunAt(campaign.schedule, { now, defaultZone: settings.default_time_zone });
    if (campaign.send_until !== null && campaign.send_until <= Math.max(now, campaign.schedule.kind === 'local' ? at : at)) {
      throw invalid('/send_until', 'the send window ends before the campaign starts');
    }
    return at;
  }

  function view(c: ParsedCampaign, nextRunAt?: number | null): Campaign {
    return {
      id: c.id,
      name: c.name,
      purpose: c.purpose,
      status: c.status as CampaignStatus,
      audience: c.audience,
      variants: c.variants,
      variables: c.variables,
      schedule: c.schedule,
      throttle_per_second: c.throttle_per_second,
      send_until: c.send_until,
      next_run_at: nextRunAt ?? null,
      created_by: c.created_by,
      created_at: c.created_at,
      updated_at: c.updated_at,
    };
  }

  /** The campaign with its runs and funnel, read from `executor` (one snapshot when it is a read transaction). */
  async function detail(c: ParsedCampaign, executor: Database['db'] | Tx = db.db): Promise<CampaignDetail> {
    const runs = await runsOf(executor, c.id);
    const counts = await countsOf(
      executor,
      runs.map((r) => Number(r.id)),
    );
    const total = emptyFunnel();
    const perVariant = c.variants.map((v, i) => {
      const f = counts.get(i) ?? emptyFunnel();
      for (const k of Object.keys(total) as (keyof Funnel)[]) total[k] += f[k];
      return { name: v.name, funnel: toFunnel(f) };
    });
    const waiting = runs.find((r) => r.status === 'waiting');
    return { ...view(c, waiting ? Number(waiting.scheduled_at) : null), funnel: toFunnel(total), variant_funnels: perVariant, runs: runs.map(runView) };
  }

  async function setStatus(tx: Tx, id: string, status: CampaignStatus, now: number) {
    await tx.updateTable('campaigns').set({ status, updated_at: now }).where('id', '=', id).execute();
  }

  async function newRun(tx: Tx, options: { campaignId: string; kind: 'scheduled' | 'recurring' | 'resend'; scheduledAt: number; throttle: number; resendOf?: number; resendTo?: string }): Promise<number> {
    const now = clock();
    const row = await tx
      .insertInto('campaign_runs')
      .values({
        campaign_id: options.campaignId,
        kind: options.kind,
        status: 'waiting',
        scheduled_at: options.scheduledAt,
        plan_cursor: null,
        planned: 0,
        resend_of: options.resendOf ?? null,
        resend_to: options.resendTo ?? null,
        // A full bucket: the first second may send `throttle` messages at once.
        tokens: options.throttle,
        refilled_at: options.scheduledAt,
        sender_chain: 0,
        created_at: now,
        finished_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const runId = Number(row.id);
    await jobs.plan(tx, runId, options.scheduledAt);
    return runId;
  }

  function assertState(c: ParsedCampaign, allowed: CampaignStatus[], action: string) {
    if (!allowed.includes(c.status as CampaignStatus)) throw new AppError('campaign_state', `a ${c.status} campaign cannot be ${action}`);
  }

  /** One page of recipients (all runs, in run then contact order), optionally of one status. */
  async function recipients(actor: BusinessActor, id: string, options: { status?: RecipientStatus; cursor?: string; limit: number }): Promise<{ recipients: CampaignRecipient[]; next_cursor: string | null }> {
    const c = await load(db.db, actor.businessId, id);
    const runIds = (await runsOf(db.db, id)).map((r) => Number(r.id));
    if (runIds.length === 0) return { recipients: [], next_cursor: null };
    const after = decodeCursor(options.cursor);
    let q = db.db.selectFrom('campaign_recipients').selectAll().where('run_id', 'in', runIds);
    if (options.status) q = q.where('status', '=', CODE[options.status]);
    if (after) q = q.where((eb) => eb.or([eb('run_id', '>', after.runId), eb.and([eb('run_id', '=', after.runId), eb('contact_id', '>', after.contactId)])]));
    const rows = await q.orderBy('run_id').orderBy('contact_id').limit(options.limit + 1).execute();
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      recipients: page.map((r) => ({
        run_id: Number(r.run_id),
        contact_id: r.contact_id,
        variant: c.variants[Number(r.variant)]?.name ?? variantName(Number(r.variant)),
        status: statusName(Number(r.status)),
        reason: r.reason,
        message_id: r.message_id,
        send_after: Number(r.status) < CODE.sent ? Number(r.send_after) : null,
        updated_at: Number(r.updated_at),
      })),
      next_cursor: rows.length > options.limit && last ? encodeCursor(Number(last.run_id), last.contact_id) : null,
    };
  }

  return {
    newRun,
    recipients,

    async create(actor: BusinessActor, body: CreateCampaignBody): Promise<Campaign> {
      const now = clock();
      const throttle = checkThrottle(body.throttle_per_second);
      const schedule: CampaignSchedule = body.schedule ?? { kind: 'now' };
      const sendUntil = body.send_until === undefined ? null : Date.parse(body.send_until);
      if (sendUntil !== null && !Number.isFinite(sendUntil)) throw invalid('/send_until', 'not a date-time');
      await checkSchedule(actor.businessId, { schedule, send_until: sendUntil }, now);
      const variables = body.variables ?? {};
      await checkVariants(actor.businessId, body.variants, variables);
      const audience = await checkAudience(actor.businessId, body.audience);
      const equal = Math.floor(100 / body.variants.length);
      const variants: Variant[] = body.variants.map((v, i) => ({ name: variantName(i), template_version_id: v.template_version_id, weight: v.weight ?? equal }));
      const row: CampaignsTable = {
        id: newId('cmp'),
        business_id: actor.businessId,
        name: body.name,
        purpose: body.purpose ?? 'marketing',
        status: 'draft',
        audience: JSON.stringify(audience),
        variants: JSON.stringify(variants),
        variables: JSON.stringify(variables),
        schedule: JSON.stringify(schedule),
        throttle_per_second: throttle,
        send_until: sendUntil,
        created_by: actor.accountId,
        created_at: now,
        updated_at: now,
      };
      await db.db.insertInto('campaigns').values(row).execute();
      return view(parseCampaign(row));
    },

    async list(actor: BusinessActor, options: { cursor?: string; limit: number }): Promise<{ campaigns: Campaign[]; next_cursor: string | null }> {
      let q = db.db.selectFrom('campaigns').selectAll().where('business_id', '=', actor.businessId);
      if (options.cursor) {
        const [at, id] = Buffer.from(options.cursor, 'base64url').toString('utf8').split('|');
        const createdAt = Number(at);
        if (!id || !Number.isFinite(createdAt)) throw invalid('/cursor', 'not a cursor this endpoint gave');
        q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit + 1).execute();
      const page = rows.slice(0, options.limit);
      const last = page.at(-1);
      return {
        campaigns: page.map((r) => view(parseCampaign(r))),
        next_cursor: rows.length > options.limit && last ? Buffer.from(`${Number(last.created_at)}|${last.id}`, 'utf8').toString('base64url') : null,
      };
    },

    async get(actor: BusinessActor, id: string): Promise<CampaignDetail> {
      // One snapshot: a run finishing between reading the campaign and its runs would otherwise
      // show a finished run beside the campaign's status from before (on PostgreSQL).
      return db.readTransaction(async (tx) => detail(await load(tx, actor.businessId, id), tx));
    },

    /** Schedules the first run: planning starts at its time (now, the time, or the earliest zone's). */
    async start(actor: BusinessActor, id: string): Promise<CampaignDetail> {
      const c = await load(db.db, actor.businessId, id);
      assertState(c, ['draft'], 'started');
      const now = clock();
      // Checked again at start: time has passed and templates may have changed since the draft.
      const at = await checkSchedule(actor.businessId, c, now);
      await checkVariants(actor.businessId, c.variants, c.variables);
      await checkAudience(actor.businessId, c.audience);
      await db.writeTransaction(async (tx) => {
        const fresh = await load(tx, actor.businessId, id);
        assertState(fresh, ['draft'], 'started');
        await newRun(tx, { campaignId: id, kind: c.schedule.kind === 'recurring' ? 'recurring' : 'scheduled', scheduledAt: at, throttle: c.throttle_per_second });
        await setStatus(tx, id, at > now ? 'scheduled' : 'running', now);
      });
      return detail(await load(db.db, actor.businessId, id));
    },

    /** Senders stop after the batch in hand; nothing queued is lost. */
    async pause(actor: BusinessActor, id: string): Promise<CampaignDetail> {
      await db.writeTransaction(async (tx) => {
        const c = await load(tx, actor.businessId, id);
        assertState(c, ['scheduled', 'running'], 'paused');
        await setStatus(tx, id, 'paused', clock());
      });
      return detail(await load(db.db, actor.businessId, id));
    },

    async resume(actor: BusinessActor, id: string): Promise<CampaignDetail> {
      await db.writeTransaction(async (tx) => {
        const c = await load(tx, actor.businessId, id);
        assertState(c, ['paused'], 'resumed');
        const now = clock();
        const runs = (await runsOf(tx, id)).filter((r) => r.status !== 'done' && r.status !== 'cancelled');
        let running = false;
        for (const run of runs) {
          const runId = Number(run.id);
          if (run.status === 'waiting') {
            // Its plan job may have come and gone while paused: a fresh one (the planner is idempotent).
            await jobs.plan(tx, runId, Math.max(now, Number(run.scheduled_at)));
            if (Number(run.scheduled_at) <= now) running = true;
          } else {
            if (run.status === 'planning') await jobs.plan(tx, runId, now);
            await jobs.send(tx, runId);
            running = true;
          }
        }
        await setStatus(tx, id, running ? 'running' : runs.length > 0 ? 'scheduled' : 'completed', now);
      });
      return detail(await load(db.db, actor.businessId, id));
    },

    /** Stops for good: no later run, no further message. Recipients not reached stay queued. */
    async cancel(actor: BusinessActor, id: string): Promise<CampaignDetail> {
      await db.writeTransaction(async (tx) => {
        const c = await load(tx, actor.businessId, id);
        assertState(c, ['draft', 'scheduled', 'running', 'paused'], 'cancelled');
        const now = clock();
        await tx.updateTable('campaign_runs').set({ status: 'cancelled', finished_at: now }).where('campaign_id', '=', id).where('status', 'not in', ['done', 'cancelled']).execute();
        await setStatus(tx, id, 'cancelled', now);
      });
      return detail(await load(db.db, actor.businessId, id));
    },

    /** A follow-up run to the last run's failed or unread (sent or delivered, not read) recipients. */
    async resend(actor: BusinessActor, id: string, body: ResendCampaignBody): Promise<CampaignDetail> {
      await db.writeTransaction(async (tx) => {
        const c = await load(tx, actor.businessId, id);
        assertState(c, ['running', 'completed'], 'resent');
        const last = (await runsOf(tx, id)).filter((r) => r.status === 'done' || r.status === 'sending').at(-1);
        if (!last) throw new AppError('campaign_state', 'nothing was sent yet: there is nobody to resend to');
        const now = clock();
        await newRun(tx, { campaignId: id, kind: 'resend', scheduledAt: now, throttle: c.throttle_per_second, resendOf: Number(last.id), resendTo: body.to });
        await setStatus(tx, id, 'running', now);
      });
      return detail(await load(db.db, actor.businessId, id));
    },

    /** Sends each variant to team members (default: the caller), marked as a test, in their chat with the business. */
    async test(actor: BusinessActor, id: string, body: TestCampaignBody): Promise<TestCampaignReply> {
      const c = await load(db.db, actor.businessId, id);
      const team = await deps.business.members(actor.businessId);
      const handles = body.handles ?? [team.find((m) => m.account_id === actor.accountId)?.handle ?? ''];
      const targets = handles.map((h) => {
        const member = team.find((m) => m.handle.toLowerCase() === h.toLowerCase() && !m.is_business);
        if (!member) throw new AppError('validation_failed', `@${h} is not on the business's team: test sends go to team members only`, { errors: [{ path: '/handles', message: `not a team member: ${h}` }] });
        return member;
      });
      const business = team.find((m) => m.is_business)!;
      const principal = businessPrincipal(actor.businessId, business.handle);
      const sent: TestCampaignReply['sent'] = [];
      const stamp = clock();
      for (const member of targets) {
        const { conversation } = await deps.openDirect(principal, member.handle);
        for (const [i, v] of c.variants.entries()) {
          const rendered = await ports.render({ businessId: actor.businessId, versionId: v.template_version_id, contactId: null, variables: c.variables, trackingKey: `test:${c.id}` });
          if (!rendered.ok) throw new AppError('template_render_failed', `variant ${v.name}: ${rendered.reason}`);
          const label = c.variants.length > 1 ? `[Test · ${v.name}] ` : '[Test] ';
          const { message } = await deps.sendAs(principal, conversation.id, {
            ...rendered.message,
            text: `${label}${rendered.message.text ?? ''}`.trimEnd(),
            idempotencyKey: `campaign-test:${c.id}:${i}:${member.account_id}:${stamp}`,
            automated: true,
          });
          sent.push({ handle: member.handle, variant: v.name, message_id: message.id });
        }
      }
      return { sent };
    },

    /** Every recipient, page by page (the CSV export streams this; never the whole list in memory). */
    async *exportRows(actor: BusinessActor, id: string): AsyncGenerator<CampaignRecipient[]> {
      await load(db.db, actor.businessId, id);
      let cursor: string | undefined;
      for (;;) {
        const page = await recipients(actor, id, { cursor, limit: 1000 });
        if (page.recipients.length > 0) yield page.recipients;
        if (!page.next_cursor) return;
        cursor = page.next_cursor;
      }
    },
  };
}

export type Campaigns = ReturnType<typeof createCampaigns>;
