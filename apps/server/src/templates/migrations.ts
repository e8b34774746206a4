/** Schema migrations of the templates capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const templatesMigrations: MigrationSteps = {
  '202612051100-templates-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('templates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('latest_number', 'integer', (c) => c.notNull())
      .addColumn('approved_version_id', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('archived_at', 'bigint')
      .execute();
    // The list: a business's templates by name; a name is taken once among active templates (checked in the write transaction).
    await db.schema.createIndex('templates_by_business').on('templates').columns(['business_id', 'status', 'name']).execute();
    await db.schema
      .createTable('template_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('template_id', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('default_locale', 'text', (c) => c.notNull())
      .addColumn('variables', 'text', (c) => c.notNull())
      .addColumn('variants', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('approved_by', 'text')
      .addColumn('approved_at', 'bigint')
      .execute();
    // Two concurrent edits cannot both write version n + 1.
    await db.schema.createIndex('template_versions_number').on('template_versions').columns(['template_id', 'number']).unique().execute();
    await db.schema
      .createTable('template_renders')
      .addColumn('cache_key', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('media_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('template_clicks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('template_id', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull())
      .addColumn('button', 'text', (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text')
      .addColumn('context', 'text')
      .addColumn('clicked_at', 'bigint', (c) => c.notNull())
      .execute();
    // Clicks of one campaign (context), per contact; and per template over time.
    await db.schema.createIndex('template_clicks_by_context').on('template_clicks').columns(['context', 'contact_id', 'clicked_at']).execute();
    await db.schema.createIndex('template_clicks_by_template').on('template_clicks').columns(['template_id', 'clicked_at']).execute();
  },
};
