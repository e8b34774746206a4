/** Schema migrations of the team inbox's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const inboxMigrations: MigrationSteps = {
  '202612051140-inbox-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('inbox_conversations')
      .addColumn('conversation_id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('customer_id', 'text', (c) => c.notNull())
      .addColumn('customer_handle_key', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('assignee_id', 'text')
      .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
      .addColumn('last_customer_message_at', 'bigint')
      .addColumn('last_message_id', 'text')
      .addColumn('last_message_preview', 'text')
      .addColumn('last_message_from', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // The list, newest activity first: all, by status, by assignee (mine / unassigned).
    await db.schema.createIndex('inbox_by_activity').on('inbox_conversations').columns(['business_id', 'last_activity_at', 'conversation_id']).execute();
    await db.schema.createIndex('inbox_by_status').on('inbox_conversations').columns(['business_id', 'status', 'last_activity_at']).execute();
    await db.schema.createIndex('inbox_by_assignee').on('inbox_conversations').columns(['business_id', 'assignee_id', 'last_activity_at']).execute();
    await db.schema.createIndex('inbox_by_handle').on('inbox_conversations').columns(['business_id', 'customer_handle_key']).execute();
    await db.schema
      .createTable('inbox_notes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('author_id', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('inbox_notes_by_conversation').on('inbox_notes').columns(['conversation_id', 'created_at']).execute();
  },
};
