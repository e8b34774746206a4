/** Schema migrations of the interactive capability's tables. */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const interactiveMigrations: MigrationSteps = {
  '202612050800-interactive-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('interactive_contents')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('sender_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('has_buttons', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('has_quick_replies', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('closes_at', 'bigint')
      .addColumn('closed_at', 'bigint')
      .addColumn('responders', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // History filtered by type (?type=poll) within one conversation.
    await db.schema.createIndex('interactive_contents_by_type').on('interactive_contents').columns(['conversation_id', 'type']).execute();
    await db.schema
      .createTable('poll_tallies')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('option_index', 'integer', (c) => c.notNull())
      .addColumn('votes', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('poll_tallies_pk', ['message_id', 'option_index'])
      .execute();
    await db.schema
      .createTable('poll_votes')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('option_index', 'integer', (c) => c.notNull())
      .addColumn('voted_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('poll_votes_pk', ['message_id', 'account_id', 'option_index'])
      .execute();
    // "Who voted for option N", oldest first, paged.
    await db.schema.createIndex('poll_votes_by_option').on('poll_votes').columns(['message_id', 'option_index', 'voted_at', 'account_id']).execute();
    await db.schema
      .createTable('form_submissions')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('answers', 'text', (c) => c.notNull())
      .addColumn('submitted_at', 'bigint', (c) => c.notNull())
      .addColumn('edited_at', 'bigint')
      .addPrimaryKeyConstraint('form_submissions_pk', ['message_id', 'account_id'])
      .execute();
    await db.schema
      .createTable('callback_queries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('from_id', 'text', (c) => c.notNull())
      .addColumn('button_id', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('answered_at', 'bigint')
      .addColumn('answer', 'text')
      .execute();
  },
};
