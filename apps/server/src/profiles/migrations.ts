/** Schema migrations of the profiles capability's tables. */
import { type Kysely, sql } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const profilesMigrations: MigrationSteps = {
  '202612060510-profiles': async (db: Kysely<unknown>, dialect) => {
    await db.schema
      .createTable('profiles')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('display_name', 'text')
      .addColumn('about', 'text')
      .addColumn('photo_id', 'text', (c) => c.unique())
      .addColumn('photo', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('profile_words')
      // Bytewise order on PostgreSQL too (SQLite's default is already binary): `word >= q and
      // word < q || U+FFFF` is then exactly "starts with q", and uses the primary key's index.
      .addColumn('word', 'text', (c) => (dialect === 'postgres' ? c.notNull().modifyEnd(sql`collate "C"`) : c.notNull()))
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addPrimaryKeyConstraint('profile_words_pk', ['word', 'account_id'])
      .execute();
    await db.schema.createIndex('profile_words_by_account').on('profile_words').columns(['account_id']).execute();
    await db.schema
      .createTable('presence')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('online_until', 'bigint')
      .execute();
  },
};
