/** Schema migrations of the push capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const pushMigrations: MigrationSteps = {
  '202612060800-push-subscriptions': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('push_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('p256dh', 'text', (c) => c.notNull())
      .addColumn('auth', 'text', (c) => c.notNull())
      .addColumn('previews', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expires_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    // One row per (device, endpoint): registering again updates it.
    await db.schema.createIndex('push_subscriptions_device_endpoint').on('push_subscriptions').columns(['device_id', 'endpoint']).unique().execute();
    await db.schema.createIndex('push_subscriptions_by_account').on('push_subscriptions').columns(['account_id']).execute();
  },
};
