/**
 * Schema migrations of the safety capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import { type ColumnDefinitionBuilder, type Kysely, sql } from 'kysely';
import { safetyConsoleMigration } from './migrations/0005-safety-console.ts';
import { protectCasesMigration } from './migrations/202612050457-safety-protect-cases.ts';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const safetyMigrations: MigrationSteps = {
  '0004-safety': async (db: Kysely<unknown>, dialect) => {
    // Row ids that the in-memory hash indexes key on, and that other processes poll past: they
    // are assigned inside writeTransaction (PostgreSQL: under the commit-order lock), so a
    // reader that has seen id N has seen every committed row below it.
    const serial = (c: ColumnDefinitionBuilder) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey();
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
    await db.schema
      .createIndex('safety_signals_by_value')
      .on('safety_signals')
      .columns(['type', 'value_key'])
      .execute();
    await db.schema
      .createIndex('safety_signals_by_case')
      .on('safety_signals')
      .columns(['case_ref'])
      .execute();
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
    await db.schema
      .createIndex('safety_media_by_sha256')
      .on('safety_media_hashes')
      .columns(['sha256'])
      .execute();
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
    await db.schema
      .createIndex('safety_reviews_queue')
      .on('safety_reviews')
      .columns(['status', 'created_at'])
      .execute();
    await db.schema
      .createIndex('safety_reviews_by_message')
      .on('safety_reviews')
      .columns(['message_id'])
      .execute();
    await db.schema
      .createIndex('safety_reviews_by_media')
      .on('safety_reviews')
      .columns(['media_id'])
      .execute();
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
    await db.schema
      .createIndex('safety_reports_by_review')
      .on('safety_reports')
      .columns(['review_id'])
      .execute();
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
    await db.schema
      .createIndex('safety_audit_by_action')
      .on('safety_audit')
      .columns(['action', 'id'])
      .execute();
    await db.schema
      .createIndex('safety_audit_by_actor')
      .on('safety_audit')
      .columns(['actor_id', 'id'])
      .execute();
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
  '0005-safety-console': (db: Kysely<unknown>, dialect) => safetyConsoleMigration(dialect).up(db),
  '202612050457-safety-protect-cases': (db: Kysely<unknown>) => protectCasesMigration(db),
  // GET /v1/reports reads one reporter's reports newest first: an index, not a scan of everyone's.
  '202612050551-safety-reports-by-reporter': async (db: Kysely<unknown>) => {
    await db.schema.createIndex('safety_reports_by_reporter').on('safety_reports').columns(['reporter_id', 'created_at']).execute();
  },
  // Near-duplicate clusters of stored uploads (clusters.ts): spread is counted per cluster.
  '202612052130-safety-media-clusters': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('safety_media_hashes').addColumn('cluster_id', 'bigint').execute();
    await db.schema.createIndex('safety_media_hashes_by_cluster').on('safety_media_hashes').columns(['cluster_id']).execute();
  },
  // Uploads screened before clusters existed: each its own cluster (no near-duplicate search over
  // the past), carried to the media item as screening now does, so re-sending an old picture is
  // counted and limited like a new one.
  '202612052200-safety-media-cluster-backfill': async (db: Kysely<unknown>) => {
    await sql`update safety_media_hashes set cluster_id = id where cluster_id is null`.execute(db);
    await sql`update media set cluster_id = (select h.cluster_id from safety_media_hashes h where h.media_id = media.id) where cluster_id is null and exists (select 1 from safety_media_hashes h where h.media_id = media.id)`.execute(db);
  },
  // MMD's robust video signature of a stored video upload (video-signature-format.ts, base64):
  // what crops, bars, mirrors and speed changes of it are found by, beside plain vPDQ; and the
  // few of its hashes the in-memory index keeps (so loading the index never reads signatures).
  '202612060140-safety-video-signatures': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('safety_media_hashes').addColumn('video_signature', 'text').execute();
    await db.schema.alterTable('safety_media_hashes').addColumn('video_keys', 'text').execute();
  },
  // Removed bank signals, by id in commit order: every process's index follows this log to drop
  // them (indexes.ts), as it follows safety_signals' ids to add them.
  '202612060800-safety-signal-removals': async (db: Kysely<unknown>, dialect) => {
    await db.schema
      .createTable('safety_signal_removals')
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('signal_id', 'bigint', (c) => c.notNull())
      .addColumn('removed_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  // A case's key (its hash: the page that shows its platforms and takes its withdrawal), when it
  // was shared with connected platforms and withdrawn; and requests to remove every copy of media
  // a person appears in, which a moderator decides.
  '202612060745-safety-case-sharing': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('safety_cases').addColumn('secret_hash', 'text').execute();
    await db.schema.alterTable('safety_cases').addColumn('shared_at', 'bigint').execute();
    await db.schema.alterTable('safety_cases').addColumn('withdrawn_at', 'bigint').execute();
    await db.schema
      .createTable('safety_erasure_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text')
      .addColumn('case_ref', 'text')
      .addColumn('signals', 'text', (c) => c.notNull())
      .addColumn('images', 'integer', (c) => c.notNull())
      .addColumn('videos', 'integer', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .addColumn('decided_by', 'text')
      .addColumn('reasons', 'text')
      .addColumn('takedown_id', 'text')
      .addColumn('copies_removed', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('safety_erasure_by_status').on('safety_erasure_requests').columns(['status', 'created_at']).execute();
    await db.schema.createIndex('safety_erasure_by_account').on('safety_erasure_requests').columns(['account_id', 'created_at']).execute();
    await db.schema.createIndex('safety_erasure_by_case').on('safety_erasure_requests').columns(['case_ref', 'created_at']).execute();
  },
  // Which parameters an upload's image sets were made with (rehash.ts): a server whose matching
  // changed re-hashes the uploads stored before, from their files.
  '202612071830-safety-media-hash-params': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('safety_media_hashes').addColumn('hash_params', 'text').execute();
  },
};
