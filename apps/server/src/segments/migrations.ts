/** Schema migrations of the segments capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const segmentsMigrations: MigrationSteps = {
  '202612051200-segments': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('segments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('segments_by_business').on('segments').columns(['business_id', 'id']).execute();
  },
};
