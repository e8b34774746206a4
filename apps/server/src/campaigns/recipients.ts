/**
 * Recipient rows and funnel counters. A recipient's status is a small integer (the latest stage
 * it reached) and `stages` a bit mask of every stage reached, so each stage is counted once, the
 * first time, in the same transaction that records it: a funnel is a read of a few counter rows,
 * never a scan of a million recipients.
 */
import { RECIPIENT_STATUSES, type RecipientStatus } from '@mmd/contracts';
import { sql } from 'kysely';
import type { Database, Tx } from '../platform/db/index.ts';

type Reader = Database['db'] | Tx;

/** Status codes, in the order a recipient moves through them (failed and skipped are final). */
export const CODE: Record<RecipientStatus, number> = Object.fromEntries(RECIPIENT_STATUSES.map((s, i) => [s, i])) as Record<RecipientStatus, number>;
export const statusName = (code: number): RecipientStatus => RECIPIENT_STATUSES[code] ?? 'queued';

/** Funnel stages (bit positions in `stages`, and `stage` in campaign_counts). */
export const STAGES = ['planned', 'sent', 'delivered', 'read', 'clicked', 'replied', 'voted', 'opted_out', 'failed', 'skipped'] as const;
export type Stage = (typeof STAGES)[number];
export const STAGE: Record<Stage, number> = Object.fromEntries(STAGES.map((s, i) => [s, i])) as Record<Stage, number>;
const bit = (stage: Stage) => 1 << STAGE[stage];

/** Reaching a stage implies the earlier ones a person must have passed (a reply was read). */
const IMPLIES: Record<Stage, Stage[]> = {
  planned: [],
  sent: [],
  delivered: ['sent'],
  read: ['sent', 'delivered'],
  clicked: ['sent', 'delivered', 'read'],
  replied: ['sent', 'delivered', 'read'],
  voted: ['sent', 'delivered', 'read'],
  opted_out: ['sent', 'delivered', 'read'],
  failed: [],
  skipped: [],
};

const STATUS_OF: Record<Exclude<Stage, 'planned'>, RecipientStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  clicked: 'clicked',
  replied: 'replied',
  voted: 'voted',
  opted_out: 'opted_out',
  failed: 'failed',
  skipped: 'skipped',
};

/** Adds `by` to counters (run, variant, stage), creating the rows as needed. */
export async function bumpCounts(tx: Tx, rows: { runId: number; variant: number; stage: number; by: number }[]) {
  for (const r of rows) {
    if (r.by === 0) continue;
    await tx
      .insertInto('campaign_counts')
      .values({ run_id: r.runId, variant: r.variant, stage: r.stage, n: r.by })
      .onConflict((oc) => oc.columns(['run_id', 'variant', 'stage']).doUpdateSet((eb) => ({ n: eb('campaign_counts.n', '+', eb.ref('excluded.n')) })))
      .execute();
  }
}

/** What reaching `stage` does to a recipient row: the newly reached stages, the new mask and status. */
function transition(row: { stages: number | string; status: number | string }, stage: Exclude<Stage, 'planned'>) {
  const had = Number(row.stages);
  const fresh = [stage, ...IMPLIES[stage]].filter((s) => (had & bit(s)) === 0);
  const status = CODE[STATUS_OF[stage]];
  const current = Number(row.status);
  // Final outcomes (failed, skipped) replace queued/sending only; engagement moves status forward.
  const final = stage === 'failed' || stage === 'skipped';
  const nextStatus = final ? (current < CODE.sent ? status : current) : Math.max(current, status);
  return { fresh, stages: fresh.reduce((m, s) => m | bit(s), had), current, nextStatus };
}

/**
 * Moves one recipient to `stage` (and the stages it implies), counting each newly reached stage
 * once. The status only moves forward (a late delivery receipt does not undo a read). Returns
 * whether anything changed.
 */
export async function advance(
  tx: Tx,
  options: { runId: number; contactId: string; stage: Exclude<Stage, 'planned'>; at: number; set?: { message_id?: string | null; reason?: string | null } },
): Promise<boolean> {
  const row = await tx
    .selectFrom('campaign_recipients')
    .select(['variant', 'stages', 'status'])
    .where('run_id', '=', options.runId)
    .where('contact_id', '=', options.contactId)
    .executeTakeFirst();
  if (!row) return false;
  const { fresh, stages, current, nextStatus } = transition(row, options.stage);
  if (fresh.length === 0 && nextStatus === current && !options.set) return false;
  await tx
    .updateTable('campaign_recipients')
    .set({ stages, status: nextStatus, updated_at: options.at, ...(options.set ?? {}) })
    .where('run_id', '=', options.runId)
    .where('contact_id', '=', options.contactId)
    .execute();
  await bumpCounts(
    tx,
    fresh.map((s) => ({ runId: options.runId, variant: Number(row.variant), stage: STAGE[s], by: 1 })),
  );
  return fresh.length > 0 || nextStatus !== current;
}

/**
 * `advance` for many recipients of one run at once (a sender's batch): one read, one update per
 * 100 recipients, and one counter update per (variant, stage), with the same rules.
 */
export async function advanceMany(
  tx: Tx,
  runId: number,
  items: readonly { contactId: string; stage: Exclude<Stage, 'planned'>; set?: { message_id?: string | null; reason?: string | null } }[],
  at: number,
): Promise<void> {
  const counts = new Map<string, { variant: number; stage: number; by: number }>();
  for (let i = 0; i < items.length; i += 100) {
    const part = items.slice(i, i + 100);
    const rows = await tx
      .selectFrom('campaign_recipients')
      .select(['contact_id', 'variant', 'stages', 'status'])
      .where('run_id', '=', runId)
      .where(
        'contact_id',
        'in',
        part.map((x) => x.contactId),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.contact_id, r]));
    const changes: { contactId: string; stages: number; status: number; messageId: string | null | undefined; reason: string | null | undefined }[] = [];
    for (const x of part) {
      const row = byId.get(x.contactId);
      if (!row) continue;
      const { fresh, stages, current, nextStatus } = transition(row, x.stage);
      if (fresh.length === 0 && nextStatus === current && !x.set) continue;
      changes.push({ contactId: x.contactId, stages, status: nextStatus, messageId: x.set?.message_id, reason: x.set?.reason });
      for (const s of fresh) {
        const key = `${row.variant}:${STAGE[s]}`;
        const c = counts.get(key) ?? { variant: Number(row.variant), stage: STAGE[s], by: 0 };
        c.by += 1;
        counts.set(key, c);
      }
    }
    if (changes.length === 0) continue;
    const when = (pick: (c: (typeof changes)[number]) => unknown, column: 'stages' | 'status' | 'message_id' | 'reason', cast: string) =>
      sql`case contact_id ${sql.join(
        changes.map((c) => {
          const v = pick(c);
          // Left as it was where this change does not set it.
          return v === undefined ? sql`when ${c.contactId} then ${sql.ref(column)}` : sql`when ${c.contactId} then cast(${v} as ${sql.raw(cast)})`;
        }),
        sql` `,
      )} else ${sql.ref(column)} end`;
    await tx
      .updateTable('campaign_recipients')
      .set({
        stages: when((c) => c.stages, 'stages', 'integer') as never,
        status: when((c) => c.status, 'status', 'smallint') as never,
        message_id: when((c) => c.messageId, 'message_id', 'text') as never,
        reason: when((c) => c.reason, 'reason', 'text') as never,
        updated_at: at,
      })
      .where('run_id', '=', runId)
      .where(
        'contact_id',
        'in',
        changes.map((c) => c.contactId),
      )
      .execute();
  }
  await bumpCounts(
    tx,
    [...counts.values()].map((c) => ({ runId, ...c })),
  );
}

export type Funnel = Record<Exclude<Stage, 'planned'> | 'planned', number>;

export function emptyFunnel(): Funnel {
  return Object.fromEntries(STAGES.map((s) => [s, 0])) as Funnel;
}

/** Counters of these runs, per variant (a handful of rows per run). */
export async function countsOf(db: Reader, runIds: readonly number[]): Promise<Map<number, Funnel>> {
  const out = new Map<number, Funnel>();
  if (runIds.length === 0) return out;
  const rows = await db.selectFrom('campaign_counts').select(['variant', 'stage', 'n']).where('run_id', 'in', runIds).orderBy('variant').orderBy('stage').execute();
  for (const r of rows) {
    const v = Number(r.variant);
    const funnel = out.get(v) ?? emptyFunnel();
    const stage = STAGES[Number(r.stage)];
    if (stage) funnel[stage] += Number(r.n);
    out.set(v, funnel);
  }
  return out;
}
