/**
 * Schema migrations of the queue capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationSteps } from '../db/migrations.ts';

export const queueMigrations: MigrationSteps = {
  '0002-jobs': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('available_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('lease_token', 'text')
      .addColumn('dedupe_key', 'text', (c) => c.unique())
      .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('result', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    // Polling reads only live jobs in due order; finished jobs pile up outside this index. The
    // condition is literal SQL so both planners can match it against the claim query's.
    await db.schema
      .createIndex('jobs_due')
      .on('jobs')
      .columns(['available_at'])
      .where(sql<boolean>`status in ('queued', 'running')`)
      .execute();
    // Pruning old finished jobs. Partial too, so the planner never prefers it for polling.
    await db.schema
      .createIndex('jobs_finished')
      .on('jobs')
      .columns(['finished_at'])
      .where(sql<boolean>`status in ('succeeded', 'failed')`)
      .execute();
  },
};
