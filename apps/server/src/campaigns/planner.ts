/**
 * The planner: a background job that pages through a run's audience in contact id order and
 * writes its recipient rows in batches, one transaction per page that also moves the run's
 * cursor. The audience is never in memory (one page at a time), a crash resumes at the cursor
 * (a page is written whole or not at all), and sending starts with the first page.
 */
import type { Business } from '../business/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { AudienceContact, CampaignPorts } from './ports.ts';
import { CODE, STAGE, bumpCounts } from './recipients.ts';
import { localInstant, nextOccurrence } from './schedule.ts';
import type { CampaignRun as RunRow } from './schema.ts';
import { type CampaignJobs, type ParsedCampaign, parseCampaign } from './service.ts';
import { variantOf } from './variants.ts';
import { breathe } from '../lib/breathe.ts';

/** Rows per insert statement: 9 parameters each, well under both databases' limits. */
const ROWS_PER_STATEMENT = 100;

export interface PlannerDeps {
  db: Database;
  clock: () => number;
  ports: CampaignPorts;
  business: Pick<Business, 'settings'>;
  jobs: CampaignJobs;
  /** Creates a run and enqueues its planning (campaigns service). */
  newRun(tx: Tx, options: { campaignId: string; kind: 'recurring'; scheduledAt: number; throttle: number }): Promise<number>;
  /** Contacts read per page (and rows written per transaction). */
  pageSize: number;
}

type Page = { ids: string[]; zones: Map<string, string | null> | null };

export function createPlanner(deps: PlannerDeps) {
  const { db, clock, ports } = deps;

  /** The next page of the run's audience after `cursor`, with time zones when the schedule needs them. */
  async function nextPage(run: RunRow, c: ParsedCampaign, cursor: string | null, needZones: boolean): Promise<Page> {
    const limit = deps.pageSize;
    if (run.kind === 'resend') {
      // The earlier run's failed, or unread (sent or delivered, never read), recipients.
      const statuses = run.resend_to === 'failed' ? [CODE.failed] : [CODE.sent, CODE.delivered];
      let q = db.db.selectFrom('campaign_recipients').select('contact_id').where('run_id', '=', Number(run.resend_of)).where('status', 'in', statuses);
      if (cursor !== null) q = q.where('contact_id', '>', cursor);
      const rows = await q.orderBy('contact_id').limit(limit).execute();
      return { ids: rows.map((r) => r.contact_id), zones: null };
    }
    const audience = c.audience;
    let contacts: AudienceContact[];
    if ('contact_ids' in audience) {
      // Kept sorted at create: the page after the cursor is a slice.
      const list = audience.contact_ids;
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cursor !== null && list[mid]! <= cursor) lo = mid + 1;
        else hi = mid;
      }
      const ids = list.slice(lo, lo + limit);
      if (!needZones) return { ids, zones: null };
      contacts = ids.length === 0 ? [] : await ports.contactsByIds({ businessId: c.business_id, ids });
      // An id no longer a contact still gets its row (the sender skips it with a reason).
      const zones = new Map<string, string | null>(ids.map((id) => [id, null]));
      for (const contact of contacts) zones.set(contact.id, contact.time_zone);
      return { ids, zones };
    }
    if ('external_ids' in audience) return { ids: [], zones: null };
    contacts = await ports.audiencePage({
      businessId: c.business_id,
      ...('segment_id' in audience ? { segmentId: audience.segment_id } : { rule: audience.rule }),
      afterContactId: cursor,
      limit,
    });
    contacts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { ids: contacts.map((x) => x.id), zones: new Map(contacts.map((x) => [x.id, x.time_zone])) };
  }

  /** The plan job: returns what it did (a job's result), throws to be retried. */
  async function plan(runId: number, signal?: AbortSignal): Promise<string> {
    // Read before the transaction: on SQLite a read on another connection inside it would wait for ever.
    const owner = await db.db.selectFrom('campaign_runs').innerJoin('campaigns', 'campaigns.id', 'campaign_runs.campaign_id').select('campaigns.business_id').where('campaign_runs.id', '=', runId).executeTakeFirst();
    if (!owner) return 'not planning';
    const defaultZone = (await deps.business.settings(owner.business_id)).default_time_zone;
    const begun = await db.writeTransaction(async (tx) => {
      const run = await tx.selectFrom('campaign_runs').selectAll().where('id', '=', runId).executeTakeFirst();
      if (!run || (run.status !== 'waiting' && run.status !== 'planning')) return null;
      const row = await tx.selectFrom('campaigns').selectAll().where('id', '=', run.campaign_id).executeTakeFirstOrThrow();
      const c = parseCampaign(row);
      // Paused: resume enqueues planning again. Cancelled: the run was cancelled with it.
      if (c.status === 'paused' || c.status === 'cancelled') return null;
      const now = clock();
      if (run.status === 'waiting') {
        await tx.updateTable('campaign_runs').set({ status: 'planning', refilled_at: Math.max(now, Number(run.refilled_at)) }).where('id', '=', runId).execute();
        if (c.status !== 'running') await tx.updateTable('campaigns').set({ status: 'running', updated_at: now }).where('id', '=', c.id).execute();
        // Each occurrence of a recurring campaign is a run; the next one is scheduled as this one begins.
        if (run.kind === 'recurring' && c.schedule.kind === 'recurring') {
          const next = nextOccurrence(c.schedule, defaultZone, Number(run.scheduled_at));
          if (next !== null) await deps.newRun(tx, { campaignId: c.id, kind: 'recurring', scheduledAt: next, throttle: c.throttle_per_second });
        }
        await deps.jobs.send(tx, runId);
      }
      return { run: { ...run, status: 'planning' }, campaign: c };
    });
    if (!begun) return 'not planning';
    const { run, campaign } = begun;
    const local = run.kind !== 'resend' && campaign.schedule.kind === 'local' ? campaign.schedule.local_time : null;
    let cursor = run.plan_cursor;
    let written = 0;
    for (;;) {
      if (signal?.aborted) throw new Error('planning interrupted; the next attempt resumes at the cursor');
      const page = await nextPage(run, campaign, cursor, local !== null);
      const now = clock();
      const outcome = await db.writeTransaction(async (tx) => {
        const current = await tx.selectFrom('campaign_runs').select(['status', 'plan_cursor']).where('id', '=', runId).executeTakeFirst();
        // Another planner moved on (a retried job overlapping a slow one), or the run was cancelled.
        if (current?.status !== 'planning' || current.plan_cursor !== cursor) return 'stale' as const;
        const status = await tx.selectFrom('campaigns').select('status').where('id', '=', campaign.id).executeTakeFirstOrThrow();
        if (status.status === 'paused' || status.status === 'cancelled') return 'stopped' as const;
        if (page.ids.length === 0) {
          await tx.updateTable('campaign_runs').set({ status: 'sending' }).where('id', '=', runId).execute();
          return 'done' as const;
        }
        const perVariant = new Map<number, number>();
        const rows = page.ids.map((contactId) => {
          const variant = variantOf(campaign.id, contactId, campaign.variants);
          perVariant.set(variant, (perVariant.get(variant) ?? 0) + 1);
          const sendAfter = local !== null ? localInstant(local, page.zones?.get(contactId) ?? defaultZone) : run.kind === 'resend' ? now : Number(run.scheduled_at);
          return { run_id: runId, contact_id: contactId, variant, status: CODE.queued, stages: 1 << STAGE.planned, reason: null, message_id: null, send_after: sendAfter, updated_at: now };
        });
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          await tx.insertInto('campaign_recipients').values(rows.slice(i, i + ROWS_PER_STATEMENT)).onConflict((oc) => oc.doNothing()).execute();
        }
        await bumpCounts(
          tx,
          [...perVariant].map(([variant, n]) => ({ runId, variant, stage: STAGE.planned, by: n })),
        );
        const last = page.ids.at(-1)!;
        await tx
          .updateTable('campaign_runs')
          .set((eb) => ({ plan_cursor: last, planned: eb('planned', '+', page.ids.length) }))
          .where('id', '=', runId)
          .execute();
        return 'page' as const;
      });
      if (outcome !== 'page') return outcome === 'done' ? `planned ${written}` : outcome;
      written += page.ids.length;
      cursor = page.ids.at(-1)!;
      await breathe();
    }
  }

  return { plan };
}

export type Planner = ReturnType<typeof createPlanner>;
