/**
 * Takedowns as records: one row per takedown, written when it starts and after every step (hashes
 * banked, copies found, each batch removed), so a moderator can watch a big takedown progress and
 * find every past one with its figures. A process that stops mid-takedown leaves its row running;
 * `failInterrupted` marks such rows failed once they have not moved for a while.
 */
import type { TakedownList, TakedownRecord, TakedownStatus } from '@mmd/contracts';
import { handlesOf } from '../accounts/index.ts';
import { notFound } from '../errors.ts';
import type { SafetyTakedownsTable } from './schema.ts';
import type { Executor } from './audit.ts';

type Row = Omit<SafetyTakedownsTable, 'seq'>;
export type TakedownProgress = Partial<Pick<Row, 'stage' | 'bank_id' | 'signals_added' | 'copies_found' | 'media_removed' | 'messages_removed' | 'conversations'>>;

/** A running takedown writes at least once per batch of 500 (seconds apart); three minutes without a write means its process stopped. */
export const INTERRUPTED_AFTER_MS = 3 * 60_000;
export const INTERRUPTED_ERROR = 'interrupted: the server stopped during the takedown; run it again to finish (what was removed stays removed)';

export async function startRecord(db: Executor, row: { id: string; reason: string; actorId: string | null; reviewId: string | null; bankId: string; now: number }): Promise<void> {
  await db
    .insertInto('safety_takedowns')
    .values({
      id: row.id,
      status: 'running',
      stage: 'banking',
      reason: row.reason,
      actor_id: row.actorId,
      review_id: row.reviewId,
      bank_id: row.bankId,
      signals_added: 0,
      copies_found: null,
      media_removed: 0,
      messages_removed: 0,
      conversations: 0,
      error: null,
      started_at: row.now,
      updated_at: row.now,
      finished_at: null,
      duration_ms: null,
    })
    .execute();
}

export async function updateRecord(db: Executor, id: string, progress: TakedownProgress & { now: number }): Promise<void> {
  const { now, ...fields } = progress;
  await db.updateTable('safety_takedowns').set({ ...fields, updated_at: now }).where('id', '=', id).execute();
}

export async function finishRecord(db: Executor, id: string, end: { status: Exclude<TakedownStatus, 'running'>; now: number; durationMs?: number; error?: string } & TakedownProgress): Promise<void> {
  const { status, now, durationMs, error, ...fields } = end;
  await db
    .updateTable('safety_takedowns')
    .set({ ...fields, status, ...(status === 'done' ? { stage: 'finished' as const } : {}), error: error ?? null, duration_ms: durationMs ?? null, finished_at: now, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Marks takedowns that stopped moving as failed; returns how many. */
export async function failInterrupted(db: Executor, now: number): Promise<number> {
  const result = await db
    .updateTable('safety_takedowns')
    .set({ status: 'failed', error: INTERRUPTED_ERROR, finished_at: now, updated_at: now })
    .where('status', '=', 'running')
    .where('updated_at', '<', now - INTERRUPTED_AFTER_MS)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

function query(db: Executor) {
  return db
    .selectFrom('safety_takedowns as t')
    .leftJoin('safety_banks', 'safety_banks.id', 't.bank_id')
    .selectAll('t')
    .select(['safety_banks.name as bank_name']);
}
type ViewRow = Awaited<ReturnType<ReturnType<typeof query>['execute']>>[number];

const n = (v: number | null) => (v === null ? null : Number(v));
function toRecord(r: ViewRow, handles: Map<string, string>): TakedownRecord {
  return {
    id: r.id,
    status: r.status,
    stage: r.stage,
    reason: r.reason,
    actor_id: r.actor_id,
    actor_handle: r.actor_id ? (handles.get(r.actor_id) ?? null) : null,
    review_id: r.review_id,
    bank_id: r.bank_id,
    bank_name: r.bank_name,
    signals_added: Number(r.signals_added),
    copies_found: n(r.copies_found),
    media_removed: Number(r.media_removed),
    messages_removed: Number(r.messages_removed),
    conversations: Number(r.conversations),
    error: r.error,
    started_at: Number(r.started_at),
    updated_at: Number(r.updated_at),
    finished_at: n(r.finished_at),
    duration_ms: n(r.duration_ms),
  };
}

/** Newest first; `before` is the previous page's next_before. */
export async function listRecords(db: Executor, q: { status?: TakedownStatus; before?: number; limit: number }): Promise<TakedownList> {
  let select = query(db).orderBy('t.seq', 'desc').limit(q.limit + 1);
  if (q.status) select = select.where('t.status', '=', q.status);
  if (q.before !== undefined) select = select.where('t.seq', '<', q.before);
  const rows = await select.execute();
  const page = rows.slice(0, q.limit);
  const handles = await handlesOf(
    db,
    page.flatMap((r) => (r.actor_id ? [r.actor_id] : [])),
  );
  return { takedowns: page.map((r) => toRecord(r, handles)), next_before: rows.length > q.limit ? Number(page[page.length - 1]!.seq) : null };
}

export async function getRecord(db: Executor, id: string): Promise<TakedownRecord> {
  const row = await query(db).where('t.id', '=', id).executeTakeFirst();
  if (!row) throw notFound('takedown');
  return toRecord(row, await handlesOf(db, row.actor_id ? [row.actor_id] : []));
}
