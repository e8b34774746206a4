/** Schema migrations of the telegram capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const telegramMigrations: MigrationSteps = {
  '202612050755-telegram-bot-api': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('telegram_ids')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('mmd_id', 'text', (c) => c.notNull())
      .addColumn('num', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('telegram_ids_pk', ['kind', 'mmd_id'])
      .addUniqueConstraint('telegram_ids_num', ['kind', 'num'])
      .execute();
    await db.schema
      .createTable('telegram_bots')
      .addColumn('account_id', 'text', (c) => c.primaryKey())
      .addColumn('confirmed_cursor', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('allowed_updates', 'text')
      .addColumn('webhook_url', 'text')
      .addColumn('webhook_secret', 'text')
      .addColumn('webhook_max_connections', 'integer', (c) => c.notNull().defaultTo(40))
      .addColumn('last_error_at', 'bigint')
      .addColumn('last_error_message', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('commands', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('telegram_chats')
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('chat_num', 'bigint', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('telegram_chats_pk', ['bot_id', 'chat_num'])
      .execute();
    await db.schema
      .createTable('telegram_messages')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('entities', 'text')
      .addColumn('media_kind', 'text')
      .execute();
  },
};
