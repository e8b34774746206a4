/**
 * Schema migrations of the sync capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const syncMigrations: MigrationSteps = {
  '0001-messaging-core': async (db: Kysely<unknown>, dialect) => {
    // SQLite: AUTOINCREMENT never reuses a number, even after the newest row is deleted.
    // PostgreSQL: bigserial; writers commit out of cursor order, readers stop at the watermark (platform/db/event-watermark.ts).
    await db.schema
      .createTable('events')
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      )
      .addColumn('conversation_id', 'text')
      .addColumn('target_account_id', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('events_by_conversation')
      .on('events')
      .columns(['conversation_id', 'id'])
      .execute();
    await db.schema
      .createIndex('events_by_target')
      .on('events')
      .columns(['target_account_id', 'id'])
      .execute();
  },
  // A held message released later reaches only the members who were there when it was written
  // (a group hiding its history from newcomers): the event names that moment's cursor.
  '202612050812-sync-members-joined-by': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('events').addColumn('members_joined_by', 'bigint').execute();
  },
  // The message an event carries, so deleting a message finds its earlier events by index and
  // rewrites them to the deleted view (see redactMessageEvents). Partial: most events carry none.
  '202612050940-sync-event-message-id': async (db: Kysely<unknown>, dialect) => {
    await db.schema.alterTable('events').addColumn('message_id', 'text').execute();
    const id = dialect === 'sqlite' ? sql`json_extract(payload, '$.id')` : sql`(payload::json)->>'id'`;
    await sql`update events set message_id = ${id} where type in ('message.created', 'message.edited')`.execute(db);
    await db.schema
      .createIndex('events_by_message')
      .on('events')
      .column('message_id')
      .where(sql.ref('message_id'), 'is not', null)
      .execute();
  },
  // Cursors a restore left unissued (see SyncLogGapsTable): a client holding one must reload.
  '202612060140-sync-log-gaps': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('sync_log_gaps')
      .addColumn('after_cursor', 'bigint', (c) => c.primaryKey())
      .addColumn('resumes_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
