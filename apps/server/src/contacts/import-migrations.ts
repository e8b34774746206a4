/** Schema migrations of contact imports' tables (import-schema.ts). */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const contactImportMigrations: MigrationSteps = {
  '202612051200-contacts-imports': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('contact_imports')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('options', 'text', (c) => c.notNull())
      .addColumn('format', 'text')
      .addColumn('charset', 'text', (c) => c.notNull())
      .addColumn('file', 'text', (c) => c.notNull())
      .addColumn('file_bytes', 'bigint', (c) => c.notNull())
      .addColumn('bytes_read', 'bigint', (c) => c.notNull())
      .addColumn('rows_done', 'integer', (c) => c.notNull())
      .addColumn('created', 'integer', (c) => c.notNull())
      .addColumn('updated', 'integer', (c) => c.notNull())
      .addColumn('unchanged', 'integer', (c) => c.notNull())
      .addColumn('refused', 'integer', (c) => c.notNull())
      .addColumn('consents', 'integer', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('error_line', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema.createIndex('contact_imports_by_business').on('contact_imports').columns(['business_id', 'created_at']).execute();
    await db.schema
      .createTable('contact_import_errors')
      .addColumn('import_id', 'text', (c) => c.notNull())
      .addColumn('row', 'integer', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .addColumn('line', 'integer')
      .addColumn('idx', 'integer')
      .addColumn('column_name', 'text')
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('contact_import_errors_pk', ['import_id', 'row', 'n'])
      .execute();
  },
};
