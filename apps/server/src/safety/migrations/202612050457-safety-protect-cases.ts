/**
 * Protection cases become claims a moderator decides, not verdicts: the `protect` bank holds for
 * review instead of blocking, cases get the states their submitter sees and a decision, the items
 * a case matched are recorded, daily allowances are counted, and banks can be marked trusted.
 */
import { type Kysely, sql } from 'kysely';

export async function protectCasesMigration(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('safety_banks')
    .addColumn('trusted', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Hashes sent by anyone, unverified: from now on they hold matches for a moderator.
  await sql`update safety_banks set action = 'hold' where system = 'protect'`.execute(db);

  for (const [name, type] of [
    ['updated_at', 'bigint'],
    ['images', 'integer'],
    ['videos', 'integer'],
    ['decided_at', 'bigint'],
    ['decided_by', 'text'],
    ['note', 'text'],
  ] as const) {
    await db.schema.alterTable('safety_cases').addColumn(name, type).execute();
  }
  await sql`update safety_cases set updated_at = coalesce(last_checked_at, created_at), images = 0, videos = 0`.execute(
    db,
  );
  // Old cases already swept: from now on their matches wait for a moderator like any other's.
  await sql`update safety_cases set status = case when status = 'checking' then 'received' else 'under_review' end`.execute(
    db,
  );
  await db.schema
    .createIndex('safety_cases_by_status')
    .on('safety_cases')
    .columns(['status', 'created_at'])
    .execute();

  await db.schema
    .createTable('safety_case_items')
    .addColumn('case_ref', 'text', (c) => c.notNull().references('safety_cases.reference'))
    .addColumn('media_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('auto_action', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('safety_case_items_pk', ['case_ref', 'media_id'])
    .execute();
  await db.schema
    .createIndex('safety_case_items_by_media')
    .on('safety_case_items')
    .columns(['media_id'])
    .execute();

  await db.schema
    .createTable('safety_protect_quota')
    .addColumn('address_key', 'text', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('signals', 'integer', (c) => c.notNull())
    .addColumn('submissions', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('safety_protect_quota_pk', ['address_key', 'day'])
    .execute();
}
