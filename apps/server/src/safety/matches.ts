/**
 * Which uploads matched which bank — found at screening, by a sweep, or taken down with the bank's
 * hashes — so a bank can say how much it catches. One row per bank and item: a retried job or a
 * second look at the same item counts once.
 */
import type { SafetyMatchesTable } from './schema.ts';
import type { Executor } from './audit.ts';
import { safetyId } from './ids.ts';

export type MatchSource = SafetyMatchesTable['source'];

export interface NewMatch {
  bankId: string;
  mediaId: string;
  signalId?: number | null;
  rule?: string | null;
}

export async function recordMatches(db: Executor, options: { matches: NewMatch[]; source: MatchSource; now: number }): Promise<void> {
  const rows = options.matches.map((m) => ({ bank_id: m.bankId, media_id: m.mediaId, signal_id: m.signalId ?? null, rule: m.rule ?? null, source: options.source, created_at: options.now }));
  // Chunks keep every statement under both databases' bound-parameter limits.
  for (let i = 0; i < rows.length; i += 400) {
    await db
      .insertInto('safety_matches')
      .values(rows.slice(i, i + 400))
      .onConflict((oc) => oc.columns(['bank_id', 'media_id']).doNothing())
      .execute();
  }
}

export interface MatchStats {
  count: number;
  lastAt: number | null;
}

export async function matchStats(db: Executor, bankIds: string[]): Promise<Map<string, MatchStats>> {
  if (bankIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('safety_matches')
    .select(['bank_id', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('created_at').as('last')])
    .where('bank_id', 'in', bankIds)
    .groupBy('bank_id')
    .execute();
  return new Map(rows.map((r) => [r.bank_id, { count: Number(r.n), lastAt: r.last === null ? null : Number(r.last) }]));
}

/**
 * Queues a review (kind `hold`) for each item that has no open one, for matches that must not act
 * by themselves (a crop match against a block bank). Delivered content stays up meanwhile.
 */
export async function queueForReview(db: Executor, options: { mediaIds: string[]; bank: { id: string; category: string }; now: number }): Promise<number> {
  let queued = 0;
  for (const mediaId of options.mediaIds) {
    const open = await db.selectFrom('safety_reviews').select('id').where('media_id', '=', mediaId).where('status', '!=', 'closed').executeTakeFirst();
    if (open) continue;
    await db
      .insertInto('safety_reviews')
      .values({ id: safetyId('rev'), kind: 'hold', status: 'open', outcome: null, reason: options.bank.category, message_id: null, media_id: mediaId, bank_id: options.bank.id, signal_id: null, report_count: 0, created_at: options.now, decided_at: null, decided_by: null, note: null })
      .execute();
    queued++;
  }
  return queued;
}
