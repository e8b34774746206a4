/** Schema migrations of the bots capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const botsMigrations: MigrationSteps = {
  '202612050815-bots-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('bots')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('owner_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.unique())
      .addColumn('token_created_at', 'bigint', (c) => c.notNull())
      .addColumn('commands', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .execute();
    await db.schema.createIndex('bots_by_owner').on('bots').columns(['owner_id']).execute();
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text')
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('disabled_reason', 'text')
      .addColumn('failing_since', 'bigint')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .addColumn('lock_token', 'text')
      .addColumn('locked_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('webhooks_by_account').on('webhooks').columns(['account_id']).execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id'))
      .addColumn('lane', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('cursor', 'bigint')
      .addColumn('conversation_id', 'text')
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('last_latency_ms', 'integer')
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    // The drain: a webhook's pending deliveries, lane by lane in order.
    await db.schema.createIndex('webhook_deliveries_pending').on('webhook_deliveries').columns(['webhook_id', 'status', 'lane', 'seq']).execute();
    // The log: newest first.
    await db.schema.createIndex('webhook_deliveries_log').on('webhook_deliveries').columns(['webhook_id', 'seq']).execute();
  },
  '202612050925-bots-webhook-wake': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('webhooks').addColumn('wake_pending', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
