/**
 * Campaign progress for metrics: unfinished runs by status, and the funnel counters (the same
 * rows the funnel shows) of runs planning or sending, summed by stage. Two small reads: counters
 * are per run × variant × stage, never per recipient.
 */
import type { Database } from '../platform/db/index.ts';
import { STAGES } from './recipients.ts';

export async function activeCampaignProgress(db: Database) {
  const runs = await db.db
    .selectFrom('campaign_runs')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['waiting', 'planning', 'sending'])
    .groupBy('status')
    .execute();
  const counts = await db.db
    .selectFrom('campaign_counts')
    .innerJoin('campaign_runs', 'campaign_runs.id', 'campaign_counts.run_id')
    .select(['campaign_counts.stage', (eb) => eb.fn.sum<number>('campaign_counts.n').as('n')])
    .where('campaign_runs.status', 'in', ['planning', 'sending'])
    .groupBy('campaign_counts.stage')
    .execute();
  return {
    runs: runs.map((r) => ({ status: r.status, n: Number(r.n) })),
    recipients: counts.filter((c) => STAGES[Number(c.stage)] !== undefined).map((c) => ({ stage: STAGES[Number(c.stage)]!, n: Number(c.n) })),
  };
}
