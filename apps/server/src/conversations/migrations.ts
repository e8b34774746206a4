/**
 * Schema migrations of the conversations capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const conversationsMigrations: MigrationSteps = {
  '0001-messaging-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('conversations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('title', 'text')
      .addColumn('handle', 'text')
      .addColumn('handle_key', 'text', (c) => c.unique())
      .addColumn('direct_key', 'text', (c) => c.unique())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('members')
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('joined_at', 'bigint', (c) => c.notNull())
      .addColumn('joined_cursor', 'bigint', (c) => c.notNull())
      .addColumn('left_cursor', 'bigint')
      .addColumn('delivered_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('read_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('members_pk', ['conversation_id', 'account_id'])
      .execute();
    await db.schema
      .createIndex('members_by_account')
      .on('members')
      .columns(['account_id', 'conversation_id'])
      .execute();
    // Receipt counts in big groups: "how many members have read up to seq N" is an index range.
    await db.schema
      .createIndex('members_by_read')
      .on('members')
      .columns(['conversation_id', 'read_seq'])
      .execute();
    await db.schema
      .createIndex('members_by_delivered')
      .on('members')
      .columns(['conversation_id', 'delivered_seq'])
      .execute();
  },
  '202612050535-conversations-invitations': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('invitations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('invited_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('invitations_once', ['conversation_id', 'account_id'])
      .execute();
    await db.schema.createIndex('invitations_by_account').on('invitations').columns(['account_id', 'created_at']).execute();
  },
  '202612050515-conversations-history-windows': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('conversations').addColumn('history_visible', 'integer').execute();
    await db.schema
      .createTable('member_windows')
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('from_seq', 'bigint', (c) => c.notNull())
      .addColumn('to_seq', 'bigint')
      .addPrimaryKeyConstraint('member_windows_pk', ['conversation_id', 'account_id', 'from_seq'])
      .execute();
    // Today's stays, from the event log: the seqs sent between a member's join and leave events.
    // (Earlier stays of re-added members were overwritten and are lost: those start at their rejoin.)
    await sql`
      insert into member_windows (conversation_id, account_id, from_seq, to_seq)
      select m.conversation_id, m.account_id,
        coalesce((select max(e.seq) from events e
          where e.conversation_id = m.conversation_id and e.type = 'message.created' and e.id < m.joined_cursor), 0) + 1,
        case when m.left_cursor is null then null else coalesce((select max(e.seq) from events e
          where e.conversation_id = m.conversation_id and e.type = 'message.created' and e.id <= m.left_cursor), 0) end
      from members m`.execute(db);
  },
  '202612060500-conversations-chat-settings': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('chat_settings')
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('muted_until', 'bigint')
      .addColumn('pinned_at', 'bigint')
      .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('marked_unread', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cleared_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      // A person's rows together: the chat list reads them all at once.
      .addPrimaryKeyConstraint('chat_settings_pk', ['account_id', 'conversation_id'])
      .execute();
  },
  '202612060530-conversations-chat-drafts': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('chat_drafts')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('chat_drafts_pk', ['account_id', 'conversation_id'])
      .execute();
  },
  '202612060800-conversations-invite-links': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('conversations').addColumn('sign_posts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createTable('invite_links')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('token', 'text', (c) => c.notNull().unique())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('member_limit', 'integer')
      .addColumn('joined_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('requires_approval', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('invite_links_by_conversation').on('invite_links').columns(['conversation_id', 'created_at']).execute();
    await db.schema
      .createTable('join_requests')
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('link_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('join_requests_pk', ['conversation_id', 'account_id'])
      .execute();
    await db.schema
      .createTable('conversation_bans')
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('banned_by', 'text', (c) => c.notNull())
      .addColumn('banned_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('conversation_bans_pk', ['conversation_id', 'account_id'])
      .execute();
  },
};
