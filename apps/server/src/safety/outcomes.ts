/**
 * Closing the loop with people who reported: when a review is decided, or content they reported
 * is taken down by any route (a takedown, a sweep, another review), their reports are resolved
 * and each reporter gets a `report.resolved` event addressed to them alone.
 */
import type { ReportReason } from '@mmd/contracts';
import type { Tx } from '../platform/db/index.ts';
import type { Emit } from '../sync/index.ts';

export type ReportOutcome = 'removed' | 'no_action';

/** Resolves the open reports of these reviews and tells each reporter. */
export async function resolveReports(tx: Tx, emit: Emit, options: { reviewIds: string[]; outcome: ReportOutcome; now: number }): Promise<number> {
  if (options.reviewIds.length === 0) return 0;
  const reports = await tx.selectFrom('safety_reports').select(['id', 'message_id', 'reporter_id', 'reason']).where('review_id', 'in', options.reviewIds).where('status', '=', 'open').execute();
  if (reports.length === 0) return 0;
  await tx.updateTable('safety_reports').set({ status: 'resolved', outcome: options.outcome, resolved_at: options.now }).where('id', 'in', reports.map((r) => r.id)).execute();
  for (const r of reports) {
    await emit({
      type: 'report.resolved',
      conversationId: null,
      targetAccountId: r.reporter_id,
      data: { report_id: r.id, message_id: r.message_id, reason: r.reason as ReportReason, outcome: options.outcome },
      at: options.now,
    });
  }
  return reports.length;
}

/** Closes every open or escalated review about these messages or media as taken down. */
export async function closeReviewsForRemoved(tx: Tx, emit: Emit, options: { messageIds: string[]; mediaIds: string[]; decidedBy: string | null; now: number }): Promise<void> {
  const ids = new Set<string>();
  for (const [column, values] of [['message_id', options.messageIds], ['media_id', options.mediaIds]] as const) {
    for (let i = 0; i < values.length; i += 500) {
      const rows = await tx.selectFrom('safety_reviews').select('id').where(column, 'in', values.slice(i, i + 500)).where('status', '!=', 'closed').execute();
      for (const r of rows) ids.add(r.id);
    }
  }
  if (ids.size === 0) return;
  const list = [...ids];
  await tx.updateTable('safety_reviews').set({ status: 'closed', outcome: 'takedown', decided_at: options.now, decided_by: options.decidedBy }).where('id', 'in', list).execute();
  await resolveReports(tx, emit, { reviewIds: list, outcome: 'removed', now: options.now });
}
