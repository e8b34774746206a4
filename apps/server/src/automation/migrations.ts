/** Schema migrations of the automation capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const automationMigrations: MigrationSteps = {
  '202612050812-automation-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('automation_settings')
      .addColumn('business_id', 'text', (c) => c.primaryKey())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('assistant_key', 'text')
      .addColumn('webhook_secret', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('automation_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('actions', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('automation_rules_by_business').on('automation_rules').columns(['business_id', 'position']).execute();
    await db.schema
      .createTable('automation_templates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('automation_templates_name', ['business_id', 'name'])
      .execute();
    await db.schema
      .createTable('automation_conversations')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('changed_at', 'bigint', (c) => c.notNull())
      .addColumn('away_sent_at', 'bigint')
      .addPrimaryKeyConstraint('automation_conversations_pk', ['business_id', 'conversation_id'])
      .execute();
    await db.schema
      .createTable('automation_tags')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('automation_tags_pk', ['business_id', 'conversation_id', 'tag'])
      .execute();
    await db.schema.createIndex('automation_tags_by_tag').on('automation_tags').columns(['business_id', 'tag']).execute();
    await db.schema
      .createTable('automation_runs')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('sent', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('automation_runs_pk', ['business_id', 'message_id'])
      .execute();
    await db.schema.createIndex('automation_runs_by_conversation').on('automation_runs').columns(['conversation_id', 'at']).execute();
  },
  // The activity list reads a business's newest runs.
  '202612050850-automation-runs-by-business': async (db: Kysely<unknown>) => {
    await db.schema.createIndex('automation_runs_by_business').on('automation_runs').columns(['business_id', 'at']).execute();
  },
};
