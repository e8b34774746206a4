/**
 * Schema migrations of the platform capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from './db/migrations.ts';

export const secretsMigrations: MigrationSteps = {
  '0003-media': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('server_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

export interface SecretsTables {
  server_secrets: { name: string; value: string };
}
