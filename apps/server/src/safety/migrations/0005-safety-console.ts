/**
 * What the safety console shows that was not stored before: which uploads matched which bank
 * (`safety_matches`, for a bank's match count), and takedowns as records whose progress a
 * moderator can watch while they run (`safety_takedowns`).
 */
import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../../platform/db/index.ts';

export function safetyConsoleMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // One row per bank and item, whatever found it (screening, a sweep, a takedown): a retried
      // job or a second sweep over the same item changes nothing, so the count stays "items".
      await db.schema
        .createTable('safety_matches')
        .addColumn('bank_id', 'text', (c) => c.notNull().references('safety_banks.id'))
        .addColumn('media_id', 'text', (c) => c.notNull())
        .addColumn('signal_id', 'bigint')
        .addColumn('rule', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('safety_matches_pk', ['bank_id', 'media_id'])
        .execute();
      // Screening verdicts were already audited with their bank: they are the matches so far.
      await sql`
        insert into safety_matches (bank_id, media_id, signal_id, rule, source, created_at)
        select a.bank_id, a.subject_id, null, null, 'screening', min(a.at)
        from safety_audit a
        join safety_banks b on b.id = a.bank_id
        where a.action in ('upload.blocked', 'upload.held', 'upload.blurred') and a.subject_id is not null
        group by a.bank_id, a.subject_id
      `.execute(db);

      // `seq` orders and pages the list (ids are random); on SQLite it must be the integer key.
      const serial = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
      await db.schema
        .createTable('safety_takedowns')
        .addColumn('seq', dialect === 'sqlite' ? 'integer' : 'bigserial', serial)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        // running | done | failed; stage says where a running one is.
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('review_id', 'text')
        .addColumn('bank_id', 'text', (c) => c.notNull())
        .addColumn('signals_added', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('copies_found', 'integer')
        .addColumn('media_removed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('messages_removed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('conversations', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('duration_ms', 'double precision')
        .execute();
      await db.schema.createIndex('safety_takedowns_by_status').on('safety_takedowns').columns(['status', 'seq']).execute();
    },
  };
}
