/**
 * The jobs table's SQL: every statement the queue runs, each a single statement so it is atomic
 * on its own. Writes that finish or extend a run are fenced by the lease token: they match no row
 * once another worker has reclaimed the job, so a stale worker can never complete it.
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, Tx } from '../db/index.ts';
import type { DB } from '../../schema.ts';
import type { JobsTable } from './schema.ts';
import type { Enqueued, JobInfo, QueueStats } from './types.ts';

export type JobRow = Selectable<JobsTable>;

export interface NewJob {
  type: string;
  payload: unknown;
  runAt: number;
  maxAttempts: number;
  dedupeKey: string | null;
}

/** The claimed jobs and the token that fences them. */
export interface Claim {
  token: string;
  jobs: JobRow[];
}

export interface JobStore {
  insert(exec: Kysely<DB> | Tx, job: NewJob): Promise<Enqueued>;
  /** Claims up to `limit` due jobs of `types` (queued, or running with an expired lease). */
  claim(types: readonly string[], limit: number, leaseMs: number): Promise<Claim>;
  /** Extends a held lease; false when it is no longer held. */
  renew(id: string, token: string, leaseMs: number): Promise<boolean>;
  complete(id: string, token: string, resultJson: string): Promise<boolean>;
  /** Puts a held job back to wait for `runAt`, recording the error. */
  retry(id: string, token: string, error: string, runAt: number): Promise<boolean>;
  fail(id: string, token: string, error: string): Promise<boolean>;
  /** Sets progress on a running job; with a token, only while that lease is held. */
  setProgress(id: string, token: string | null, percent: number): Promise<boolean>;
  get(id: string): Promise<JobInfo | undefined>;
  stats(): Promise<QueueStats>;
  prune(finishedBefore: number): Promise<number>;
}

const MAX_ERROR_LENGTH = 4000;

export function newJobId(): string {
  return `job_${randomBytes(12).toString('base64url')}`;
}

// These predicates are literally those of the partial indexes (see migrations.ts), so both
// planners can prove the index covers the query; bound parameters would hide that.
const live = sql<boolean>`status in ('queued', 'running')`;
const finished = sql<boolean>`status in ('succeeded', 'failed')`;

/** The polling query (exported so a test can check its plan). */
export function dueJobs(db: Kysely<DB>, types: readonly string[], now: number, limit: number) {
  return db
    .selectFrom('jobs')
    .select('id')
    .where(live)
    .where('available_at', '<=', now)
    .where('type', 'in', [...types])
    .orderBy('available_at')
    .limit(limit);
}

/**
 * Live jobs of every type, for metrics: waiting (due, unclaimed), scheduled (due later), running,
 * and how long the oldest waiting one has been due. Every queue shares the one jobs table, so one
 * read covers them all; it reads the live jobs' partial index only, never finished ones.
 */
export async function jobBacklog(database: Database, now: number) {
  const rows = await database.db
    .selectFrom('jobs')
    .select([
      'type',
      sql<number>`sum(case when status = 'queued' and available_at <= ${now} then 1 else 0 end)`.as('waiting'),
      sql<number>`sum(case when status = 'queued' and available_at > ${now} then 1 else 0 end)`.as('scheduled'),
      sql<number>`sum(case when status = 'running' then 1 else 0 end)`.as('running'),
      sql<number | null>`min(case when status = 'queued' and available_at <= ${now} then available_at end)`.as('oldest'),
    ])
    .where(live)
    .groupBy('type')
    .execute();
  return rows.map((r) => ({
    type: r.type,
    waiting: Number(r.waiting),
    scheduled: Number(r.scheduled),
    running: Number(r.running),
    oldestWaitingMs: r.oldest === null ? 0 : Math.max(0, now - Number(r.oldest)),
  }));
}

export function createJobStore(deps: { database: Database; clock: () => number }): JobStore {
  const { database, clock } = deps;
  const db = database.db;

  const finish = async (id: string, token: string, set: Partial<JobRow>) => {
    const r = await db
      .updateTable('jobs')
      .set({ ...set, lease_token: null, updated_at: clock() })
      .where('id', '=', id)
      .where('lease_token', '=', token)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  };

  return {
    async insert(exec, job) {
      const now = clock();
      const id = newJobId();
      // Twice: the row a dedupe key collided with may be pruned between the two statements.
      for (let i = 0; i < 2; i++) {
        const inserted = await exec
          .insertInto('jobs')
          .values({
            id,
            type: job.type,
            payload: JSON.stringify(job.payload ?? null),
            status: 'queued',
            available_at: job.runAt,
            attempts: 0,
            max_attempts: job.maxAttempts,
            lease_token: null,
            dedupe_key: job.dedupeKey,
            progress: 0,
            result: null,
            last_error: null,
            created_at: now,
            updated_at: now,
            finished_at: null,
          })
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted) return { id: inserted.id, deduplicated: false };
        const existing = await exec
          .selectFrom('jobs')
          .select('id')
          .where('dedupe_key', '=', job.dedupeKey)
          .executeTakeFirst();
        if (existing) return { id: existing.id, deduplicated: true };
      }
      throw new Error(`could not enqueue job with dedupe key ${job.dedupeKey}`);
    },

    async claim(types, limit, leaseMs) {
      const token = randomBytes(16).toString('base64url');
      if (types.length === 0 || limit <= 0) return { token, jobs: [] };
      const now = clock();
      let candidates = dueJobs(db, types, now, limit);
      // PostgreSQL: concurrent claimers skip each other's rows instead of queueing on them. SQLite
      // has one writer, so the single UPDATE is already exclusive.
      if (database.dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
      const jobs = await db
        .updateTable('jobs')
        .set({
          status: 'running',
          lease_token: token,
          available_at: now + leaseMs,
          attempts: sql<number>`attempts + 1`,
          updated_at: now,
        })
        .where('id', 'in', candidates)
        .returningAll()
        .execute();
      return { token, jobs };
    },

    async renew(id, token, leaseMs) {
      const now = clock();
      const r = await db
        .updateTable('jobs')
        .set({ available_at: now + leaseMs, updated_at: now })
        .where('id', '=', id)
        .where('lease_token', '=', token)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    complete: (id, token, resultJson) =>
      finish(id, token, { status: 'succeeded', result: resultJson, progress: 100, finished_at: clock() }),

    retry: (id, token, error, runAt) =>
      finish(id, token, {
        status: 'queued',
        available_at: runAt,
        last_error: error.slice(0, MAX_ERROR_LENGTH),
      }),

    fail: (id, token, error) =>
      finish(id, token, {
        status: 'failed',
        last_error: error.slice(0, MAX_ERROR_LENGTH),
        finished_at: clock(),
      }),

    async setProgress(id, token, percent) {
      let q = db
        .updateTable('jobs')
        .set({ progress: percent, updated_at: clock() })
        .where('id', '=', id)
        .where('status', '=', 'running');
      if (token !== null) q = q.where('lease_token', '=', token);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async get(id) {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toInfo(row) : undefined;
    },

    async stats() {
      const rows = await db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      const stats: QueueStats = { queued: 0, running: 0, succeeded: 0, failed: 0 };
      for (const r of rows) stats[r.status] = Number(r.n);
      return stats;
    },

    async prune(finishedBefore) {
      const r = await db
        .deleteFrom('jobs')
        .where(finished)
        .where('finished_at', '<', finishedBefore)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

function toInfo(row: JobRow): JobInfo {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    payload: JSON.parse(row.payload),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    progress: Number(row.progress),
    result: row.result === null ? null : JSON.parse(row.result),
    lastError: row.last_error,
    availableAt: Number(row.available_at),
    dedupeKey: row.dedupe_key,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}
