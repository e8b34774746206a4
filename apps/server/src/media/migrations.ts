/**
 * Schema migrations of the media capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const mediaMigrations: MigrationSteps = {
  '0003-media': async (db: Kysely<unknown>) => {
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
  },
  /** Which budget-adapted copies an item has (oldest first), so each item keeps a bounded number. */
  '202612050636-media-adapted-copies': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('media').addColumn('adapted', 'text').execute();
  },
  /** The item's near-duplicate cluster, as screening found it: messages count spread by it. */
  '202612052140-media-cluster': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('media').addColumn('cluster_id', 'bigint').execute();
  },
  /**
   * Provenance read from the original (C2PA credentials or XMP) and the uploader's AI disclosure:
   * renditions carry no metadata, so this is where it survives.
   */
  '202612060445-media-provenance': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('media').addColumn('provenance', 'text').execute();
    await db.schema.alterTable('media').addColumn('ai_disclosure', 'text').execute();
  },
  /** Resumable uploads' state in the database and their bytes in the blob store (tus-store.ts): any node continues any upload. */
  '202612060800-media-resumable-shared': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('resumable_uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint')
      .addColumn('received', 'bigint', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('resumable_uploads_by_created').on('resumable_uploads').columns(['created_at']).execute();
    await db.schema
      .createTable('resumable_upload_parts')
      .addColumn('upload_id', 'text', (c) => c.notNull())
      .addColumn('start', 'bigint', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('resumable_upload_parts_pk', ['upload_id', 'start'])
      .execute();
  },
};
