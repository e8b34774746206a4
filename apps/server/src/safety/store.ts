/** Rows of hash banks, their signals and the hashes of stored uploads, and their API views. */
import { createHash } from 'node:crypto';
import type { Bank, BankAction, BankCategory, Signal, SignalType } from '@mmd/contracts';
import { notFound } from '../errors.ts';
import type { SafetyBanksTable, SafetySignalsTable } from './schema.ts';
import { lockScope } from '../platform/db/index.ts';
import type { Executor } from './audit.ts';
import { safetyId } from './ids.ts';
import type { MatchStats } from './matches.ts';

export type BankRow = SafetyBanksTable;
export type SignalRow = Omit<SafetySignalsTable, 'id'> & { id: number };

/** A signal about to be stored (value already normalised, see hash-codec). */
export interface NewSignal {
  type: SignalType;
  value: string;
  label?: string | null;
  quality?: number | null;
  /** JSON robust reference set. */
  robust?: string | null;
  origin: SignalRow['origin'];
  caseRef?: string | null;
}

/** A peer's bank (federation) has `source` = this prefix + the peer's id. */
export const PEER_SOURCE = 'peer:';

/** Whether a bank's `source` marks it as a peer's (federation). */
export function isPeerSource(source: string | null): boolean {
  return source?.startsWith(PEER_SOURCE) ?? false;
}

export function valueKey(type: SignalType, value: string): string {
  return type === 'vpdq' ? createHash('sha256').update(value).digest('hex') : value;
}

export function toBank(row: BankRow, counts: { signals: number; matches: MatchStats | undefined }): Bank {
  return {
    id: row.id,
    name: row.name,
    category: row.category as BankCategory,
    source: row.source,
    action: row.action,
    pdq_threshold: Number(row.pdq_threshold),
    system: row.system,
    trusted: Number(row.trusted) === 1,
    signal_count: counts.signals,
    match_count: counts.matches?.count ?? 0,
    last_match_at: counts.matches?.lastAt ?? null,
    created_at: Number(row.created_at),
  };
}

export function toSignal(row: SignalRow): Signal {
  return {
    id: Number(row.id),
    bank_id: row.bank_id,
    type: row.type,
    value: row.value,
    label: row.label,
    crop_resistant: row.robust !== null,
    created_at: Number(row.created_at),
  };
}

export async function loadBank(db: Executor, id: string): Promise<BankRow> {
  const row = await db.selectFrom('safety_banks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('bank');
  return row;
}

export async function signalCounts(db: Executor, bankIds: string[]): Promise<Map<string, number>> {
  if (bankIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('safety_signals')
    .select(['bank_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('bank_id', 'in', bankIds)
    .groupBy('bank_id')
    .execute();
  return new Map(rows.map((r) => [r.bank_id, Number(r.n)]));
}

/**
 * The bank MMD keeps for one purpose (protection submissions, takedowns), created the first time
 * it is needed. Two processes racing both try; the unique `system` column keeps one.
 */
export async function systemBank(db: Executor, system: 'protect' | 'takedown', now: number): Promise<BankRow> {
  const existing = await db.selectFrom('safety_banks').selectAll().where('system', '=', system).executeTakeFirst();
  if (existing) return existing;
  const spec: Record<
    typeof system,
    { name: string; category: BankCategory; action: BankAction; source: string }
  > = {
    // Anyone may send these, unverified: a match is held for a moderator, never blocked outright.
    protect: {
      name: 'Hash-only protection',
      category: 'ncii',
      action: 'hold',
      source: 'people protecting their own images (hashes computed on their devices)',
    },
    takedown: { name: 'Takedowns', category: 'other', action: 'block', source: 'MMD moderators' },
  };
  const s = spec[system];
  await db
    .insertInto('safety_banks')
    .values({
      id: safetyId('bnk'),
      name: s.name,
      category: s.category,
      source: s.source,
      action: s.action,
      pdq_threshold: 31,
      system,
      trusted: 0,
      created_by: null,
      created_at: now,
    })
    .onConflict((oc) => oc.column('system').doNothing())
    .execute();
  return db.selectFrom('safety_banks').selectAll().where('system', '=', system).executeTakeFirstOrThrow();
}

/**
 * The lock (platform/db `lockScope`) every write of safety's id-ordered tables takes (signals,
 * their removals, stored uploads' hashes) before it takes an id: their readers follow them by
 * "id > the last seen" (indexes.ts), so their ids must become visible in the order they were
 * assigned. These writes are rare next to sends, which never wait for it.
 */
export const SAFETY_ORDERED_IDS = 'safety-ordered-ids';

/**
 * Deletes signals of a bank and logs each removal (safety_signal_removals), so every process's
 * index drops them (indexes.ts). Call inside writeTransaction (removal ids in commit order), and
 * announce after the commit. Returns the ids removed.
 */
export async function removeSignals(tx: Executor, options: { ids: readonly number[]; now: number; bankId?: string; origin?: NewSignal['origin'] }): Promise<number[]> {
  const removed: number[] = [];
  await lockScope(tx, SAFETY_ORDERED_IDS);
  for (let i = 0; i < options.ids.length; i += 400) {
    let query = tx.deleteFrom('safety_signals').where('id', 'in', options.ids.slice(i, i + 400));
    if (options.bankId) query = query.where('bank_id', '=', options.bankId);
    if (options.origin) query = query.where('origin', '=', options.origin);
    const rows = await query.returning('id').execute();
    removed.push(...rows.map((r) => Number(r.id)));
  }
  for (let i = 0; i < removed.length; i += 400) {
    await tx.insertInto('safety_signal_removals').values(removed.slice(i, i + 400).map((signal_id) => ({ signal_id, removed_at: options.now }))).execute();
  }
  return removed.sort((a, b) => a - b);
}

/**
 * Stores signals, skipping any the bank already holds (same type and value). Returns the rows
 * added, in id order. Call inside writeTransaction so ids are visible in commit order (indexes.ts).
 */
export async function insertSignals(
  tx: Executor,
  options: { bankId: string; signals: NewSignal[]; createdBy: string | null; now: number },
): Promise<SignalRow[]> {
  const added: SignalRow[] = [];
  const seen = new Set<string>();
  const rows = options.signals
    .map((s) => ({
      bank_id: options.bankId,
      type: s.type,
      value: s.value,
      value_key: valueKey(s.type, s.value),
      label: s.label ?? null,
      quality: s.quality ?? null,
      robust: s.robust ?? null,
      origin: s.origin,
      case_ref: s.caseRef ?? null,
      created_by: options.createdBy,
      created_at: options.now,
    }))
    .filter((r) => {
      const k = `${r.type}:${r.value_key}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  await lockScope(tx, SAFETY_ORDERED_IDS);
  // Chunks keep every statement under both databases' bound-parameter limits.
  for (let i = 0; i < rows.length; i += 400) {
    const inserted = await tx
      .insertInto('safety_signals')
      .values(rows.slice(i, i + 400))
      .onConflict((oc) => oc.columns(['bank_id', 'type', 'value_key']).doNothing())
      .returningAll()
      .execute();
    for (const r of inserted) added.push({ ...r, id: Number(r.id), created_at: Number(r.created_at) });
  }
  return added.sort((a, b) => a.id - b.id);
}
