/** Schema migrations of the business capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const businessMigrations: MigrationSteps = {
  '202612051100-business-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('business_profiles')
      .addColumn('business_id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('about', 'text')
      .addColumn('avatar_media_id', 'text')
      .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('verified_at', 'bigint')
      .addColumn('verified_by', 'text')
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('business_members')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('added_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('business_members_pk', ['business_id', 'account_id'])
      .execute();
    await db.schema.createIndex('business_members_by_account').on('business_members').columns(['account_id', 'business_id']).execute();
  },
};
