/**
 * The safety audit log: one row per decision — screening verdicts, reviews, reveals, takedowns,
 * sweeps, bank changes, protection requests — with who (null: MMD itself or an anonymous person)
 * and when. Rows are only ever appended.
 */
import type { AuditAction, AuditEntry } from '@mmd/contracts';
import { accountIdByHandle, handlesOf } from '../accounts/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';

export type Executor = Database['db'] | Tx;

export interface AuditInput {
  at: number;
  actorId: string | null;
  action: AuditAction;
  subjectType?: 'media' | 'message' | 'review' | 'bank' | 'case' | 'takedown' | 'report' | 'cluster' | 'account' | 'erasure';
  subjectId?: string;
  bankId?: string | null;
  detail?: Record<string, unknown>;
}

export async function appendAudit(db: Executor, e: AuditInput): Promise<void> {
  await db
    .insertInto('safety_audit')
    .values({
      at: e.at,
      actor_id: e.actorId,
      action: e.action,
      subject_type: e.subjectType ?? null,
      subject_id: e.subjectId ?? null,
      bank_id: e.bankId ?? null,
      detail: JSON.stringify(e.detail ?? {}),
    })
    .execute();
}

/** Newest first; `before` pages back by id. `actor` is an account id, or a handle after "@". */
export async function listAudit(
  db: Executor,
  q: { action?: string; actor?: string; since?: number; until?: number; before?: number; limit: number },
): Promise<{ entries: AuditEntry[]; next_before: number | null }> {
  let actorId = q.actor;
  if (actorId?.startsWith('@')) {
    const account = await accountIdByHandle(db, actorId.slice(1));
    // Nobody by that handle: nothing they did, rather than everything.
    if (!account) return { entries: [], next_before: null };
    actorId = account;
  }
  let query = db
    .selectFrom('safety_audit as a')
    .select(['a.id', 'a.at', 'a.actor_id', 'a.action', 'a.subject_type', 'a.subject_id', 'a.bank_id', 'a.detail'])
    .orderBy('a.id', 'desc')
    .limit(q.limit + 1);
  if (q.action) query = query.where('a.action', '=', q.action);
  if (actorId) query = query.where('a.actor_id', '=', actorId);
  if (q.since !== undefined) query = query.where('a.at', '>=', q.since);
  if (q.until !== undefined) query = query.where('a.at', '<=', q.until);
  if (q.before !== undefined) query = query.where('a.id', '<', q.before);
  const rows = await query.execute();
  const page = rows.slice(0, q.limit);
  const handles = await handlesOf(
    db,
    page.flatMap((r) => (r.actor_id ? [r.actor_id] : [])),
  );
  return {
    entries: page.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      actor_id: r.actor_id,
      actor_handle: r.actor_id ? (handles.get(r.actor_id) ?? null) : null,
      action: r.action,
      subject_type: r.subject_type,
      subject_id: r.subject_id,
      bank_id: r.bank_id,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    })),
    next_before: rows.length > q.limit ? Number(page[page.length - 1]!.id) : null,
  };
}
