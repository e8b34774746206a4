/**
 * Schema migrations, in order. They run at start and through `mmd migrate`. Both dialects share
 * them; the only difference is how the events table numbers its rows.
 */
import { type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Dialect } from './index.ts';
import { safetyConsoleMigration } from './migrations/0005-safety-console.ts';

function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-messaging-core': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('accounts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('handle', 'text', (c) => c.notNull())
          .addColumn('handle_key', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull().defaultTo('user'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('devices')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .addColumn('acked_cursor', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex('devices_by_account').on('devices').columns(['account_id']).execute();
        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute();
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
        await db.schema.createIndex('members_by_account').on('members').columns(['account_id', 'conversation_id']).execute();
        // Receipt counts in big groups: "how many members have read up to seq N" is an index range.
        await db.schema.createIndex('members_by_read').on('members').columns(['conversation_id', 'read_seq']).execute();
        await db.schema.createIndex('members_by_delivered').on('members').columns(['conversation_id', 'delivered_seq']).execute();
        await db.schema
          .createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('sender_id', 'text', (c) => c.notNull())
          .addColumn('text', 'text')
          .addColumn('reply_to', 'text')
          .addColumn('forward_origin_id', 'text')
          .addColumn('forward_origin_conversation_id', 'text')
          .addColumn('forward_origin_sender_id', 'text')
          .addColumn('forward_hops', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('idempotency_key', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('edited_at', 'bigint')
          .addColumn('deleted_at', 'bigint')
          .addUniqueConstraint('messages_seq', ['conversation_id', 'seq'])
          .addUniqueConstraint('messages_idempotency', ['conversation_id', 'sender_id', 'idempotency_key'])
          .execute();
        await db.schema.createIndex('messages_by_forward_origin').on('messages').columns(['forward_origin_id']).execute();
        await db.schema
          .createTable('reactions')
          .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('emoji', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('reactions_pk', ['message_id', 'account_id', 'emoji'])
          .execute();
        // SQLite: AUTOINCREMENT never reuses a number, even after the newest row is deleted.
        // PostgreSQL: bigserial; commits are ordered by the advisory lock in writeTransaction.
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
        await db.schema.createIndex('events_by_conversation').on('events').columns(['conversation_id', 'id']).execute();
        await db.schema.createIndex('events_by_target').on('events').columns(['target_account_id', 'id']).execute();
        await sql`select 1`.execute(db);
      },
    },
    '0002-jobs': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('available_at', 'bigint', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('lease_token', 'text')
          .addColumn('dedupe_key', 'text', (c) => c.unique())
          .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('result', 'text')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .execute();
        // Polling reads only live jobs in due order; finished jobs pile up outside this index. The
        // condition is literal SQL so both planners can match it against the claim query's.
        await db.schema
          .createIndex('jobs_due')
          .on('jobs')
          .columns(['available_at'])
          .where(sql<boolean>`status in ('queued', 'running')`)
          .execute();
        // Pruning old finished jobs. Partial too, so the planner never prefers it for polling.
        await db.schema
          .createIndex('jobs_finished')
          .on('jobs')
          .columns(['finished_at'])
          .where(sql<boolean>`status in ('succeeded', 'failed')`)
          .execute();
      },
    },
    '0003-media': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('media')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('kind', 'text')
          .addColumn('mime', 'text')
          .addColumn('filename', 'text')
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('original_key', 'text', (c) => c.notNull())
          .addColumn('width', 'integer')
          .addColumn('height', 'integer')
          .addColumn('duration_ms', 'bigint')
          .addColumn('placeholder', 'text')
          .addColumn('waveform', 'text')
          .addColumn('renditions', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('reason_code', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('media_by_original').on('media').columns(['original_key']).execute();
        await db.schema.createIndex('media_by_owner').on('media').columns(['owner_id', 'created_at']).execute();
        await db.schema
          .createTable('message_media')
          .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
          .addColumn('media_id', 'text', (c) => c.notNull().references('media.id'))
          .addColumn('position', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('message_media_pk', ['message_id', 'position'])
          .execute();
        await db.schema.createIndex('message_media_by_media').on('message_media').columns(['media_id']).execute();
        // sent | pending (media still processing: not yet delivered) | failed (media failed).
        await db.schema.alterTable('messages').addColumn('status', 'text', (c) => c.notNull().defaultTo('sent')).execute();
        await db.schema
          .createTable('server_secrets')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0004-safety': {
      async up(db: Kysely<unknown>) {
        // Row ids that the in-memory hash indexes key on, and that other processes poll past: they
        // are assigned inside writeTransaction (PostgreSQL: under the commit-order lock), so a
        // reader that has seen id N has seen every committed row below it.
        const serial = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
        const serialType = dialect === 'sqlite' ? 'integer' : 'bigserial';
        await db.schema
          .createTable('safety_banks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('source', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('pdq_threshold', 'integer', (c) => c.notNull())
          // 'protect' | 'takedown' for the banks MMD keeps itself; at most one of each.
          .addColumn('system', 'text', (c) => c.unique())
          .addColumn('created_by', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('safety_signals')
          .addColumn('id', serialType, serial)
          .addColumn('bank_id', 'text', (c) => c.notNull().references('safety_banks.id'))
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          // The value itself, or its SHA-256 for vPDQ (a long JSON list no index should hold).
          .addColumn('value_key', 'text', (c) => c.notNull())
          .addColumn('label', 'text')
          .addColumn('quality', 'integer')
          // MMD's crop-resistant reference hash set (JSON), when the signal came from pixels.
          .addColumn('robust', 'text')
          .addColumn('origin', 'text', (c) => c.notNull())
          .addColumn('case_ref', 'text')
          .addColumn('created_by', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('safety_signals_unique', ['bank_id', 'type', 'value_key'])
          .execute();
        await db.schema.createIndex('safety_signals_by_value').on('safety_signals').columns(['type', 'value_key']).execute();
        await db.schema.createIndex('safety_signals_by_case').on('safety_signals').columns(['case_ref']).execute();
        await db.schema
          .createTable('safety_media_hashes')
          .addColumn('id', serialType, serial)
          .addColumn('media_id', 'text', (c) => c.notNull().unique().references('media.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('md5', 'text', (c) => c.notNull())
          .addColumn('pdq', 'text')
          .addColumn('quality', 'integer')
          .addColumn('query', 'text')
          .addColumn('reference', 'text')
          .addColumn('vpdq', 'text')
          .addColumn('removed_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('safety_media_by_sha256').on('safety_media_hashes').columns(['sha256']).execute();
        await db.schema.createIndex('safety_media_by_md5').on('safety_media_hashes').columns(['md5']).execute();
        await db.schema
          .createTable('safety_reviews')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text')
          .addColumn('media_id', 'text')
          .addColumn('bank_id', 'text')
          .addColumn('signal_id', 'bigint')
          .addColumn('report_count', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('decided_at', 'bigint')
          .addColumn('decided_by', 'text')
          .addColumn('note', 'text')
          .execute();
        await db.schema.createIndex('safety_reviews_queue').on('safety_reviews').columns(['status', 'created_at']).execute();
        await db.schema.createIndex('safety_reviews_by_message').on('safety_reviews').columns(['message_id']).execute();
        await db.schema.createIndex('safety_reviews_by_media').on('safety_reviews').columns(['media_id']).execute();
        await db.schema
          .createTable('safety_reports')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
          .addColumn('reporter_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('review_id', 'text', (c) => c.notNull().references('safety_reviews.id'))
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('resolved_at', 'bigint')
          .addUniqueConstraint('safety_reports_once', ['message_id', 'reporter_id'])
          .execute();
        await db.schema.createIndex('safety_reports_by_review').on('safety_reports').columns(['review_id']).execute();
        await db.schema
          .createTable('safety_audit')
          .addColumn('id', serialType, serial)
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('subject_type', 'text')
          .addColumn('subject_id', 'text')
          .addColumn('bank_id', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('safety_audit_by_action').on('safety_audit').columns(['action', 'id']).execute();
        await db.schema.createIndex('safety_audit_by_actor').on('safety_audit').columns(['actor_id', 'id']).execute();
        await db.schema.createIndex('safety_audit_by_time').on('safety_audit').columns(['at']).execute();
        await db.schema
          .createTable('safety_cases')
          .addColumn('reference', 'text', (c) => c.primaryKey())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('copies_removed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_checked_at', 'bigint')
          .execute();
        // 'blur' when the item matched a blur bank: delivered, shown behind a warning.
        await db.schema.alterTable('media').addColumn('safety', 'text').execute();
      },
    },
    '0005-safety-console': safetyConsoleMigration(dialect),
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect, schema?: string): Promise<string[]> {
  // Naming the schema matters: Kysely looks for its bookkeeping tables by name, and would find
  // another schema's otherwise.
  const migrator = new Migrator({ db, provider: new StaticProvider(dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    // Kysely's PostgreSQL introspection lists every schema's tables; one dropped at that moment by
    // another tenant of the database (3F000: schema does not exist) fails the listing, not us.
    // Migrations run in a transaction under a lock, so trying again is safe.
    if (error && (error as { code?: string }).code === '3F000' && attempt < 3) continue;
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }
}
