/** Schema migrations of the campaigns capability's tables. */
import { type Kysely, sql } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const campaignsMigrations: MigrationSteps = {
  '202612051200-campaigns-core': async (db: Kysely<unknown>, dialect) => {
    await db.schema
      .createTable('campaigns')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('audience', 'text', (c) => c.notNull())
      .addColumn('variants', 'text', (c) => c.notNull())
      .addColumn('variables', 'text', (c) => c.notNull())
      .addColumn('schedule', 'text', (c) => c.notNull())
      .addColumn('throttle_per_second', 'integer', (c) => c.notNull())
      .addColumn('send_until', 'bigint')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('campaigns_by_business').on('campaigns').columns(['business_id', 'created_at', 'id']).execute();
    await db.schema
      .createTable('campaign_runs')
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('campaign_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('scheduled_at', 'bigint', (c) => c.notNull())
      .addColumn('plan_cursor', 'text')
      .addColumn('planned', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('resend_of', 'bigint')
      .addColumn('resend_to', 'text')
      .addColumn('tokens', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('refilled_at', 'bigint', (c) => c.notNull())
      .addColumn('sender_chain', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema.createIndex('campaign_runs_by_campaign').on('campaign_runs').columns(['campaign_id', 'id']).execute();
    // One row per recipient: narrow, keyed by (run, contact). On SQLite without a rowid, the
    // primary key is the table itself (one B-tree, not two).
    let recipients = db.schema
      .createTable('campaign_recipients')
      .addColumn('run_id', 'bigint', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('variant', 'smallint', (c) => c.notNull())
      .addColumn('status', 'smallint', (c) => c.notNull())
      .addColumn('stages', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('reason', 'text')
      .addColumn('message_id', 'text')
      .addColumn('send_after', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_recipients_pk', ['run_id', 'contact_id']);
    if (dialect === 'sqlite') recipients = recipients.modifyEnd(sql`without rowid`);
    await recipients.execute();
    // Senders claim due recipients through this; partial, so it shrinks to nothing as a run finishes.
    await db.schema
      .createIndex('campaign_recipients_due')
      .on('campaign_recipients')
      .columns(['run_id', 'send_after'])
      .where(sql.ref('status'), '<', 2)
      .execute();
    // GET …/recipients?status=…: one status, in contact order.
    await db.schema.createIndex('campaign_recipients_by_status').on('campaign_recipients').columns(['run_id', 'status', 'contact_id']).execute();
    await db.schema
      .createTable('campaign_counts')
      .addColumn('run_id', 'bigint', (c) => c.notNull())
      .addColumn('variant', 'smallint', (c) => c.notNull())
      .addColumn('stage', 'smallint', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_counts_pk', ['run_id', 'variant', 'stage'])
      .execute();
    await db.schema
      .createTable('campaign_chats')
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('run_id', 'bigint', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('campaign_chats_pk', ['conversation_id', 'seq'])
      .execute();
    await db.schema.createIndex('campaign_chats_by_age').on('campaign_chats').columns(['sent_at']).execute();
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('template_version_id', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('variables', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('message_id', 'text')
      .addColumn('conversation_id', 'text')
      .addColumn('seq', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('notifications_key', ['business_id', 'idempotency_key'])
      .execute();
    await db.schema.createIndex('notifications_by_chat').on('notifications').columns(['conversation_id', 'seq']).where(sql.ref('conversation_id'), 'is not', null).execute();
  },
};
