/** Schema migrations of the contacts capability's tables (schema.ts describes their shape). */
import type { Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const contactsMigrations: MigrationSteps = {
  '202612051100-contacts-core': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('contacts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('name', 'text')
      .addColumn('locale', 'text')
      .addColumn('time_zone', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('erased_at', 'bigint')
      .addColumn('last_inbound_at', 'bigint')
      .addUniqueConstraint('contacts_account', ['business_id', 'account_id'])
      // Both dialects let several rows hold a null external_id under a unique constraint.
      .addUniqueConstraint('contacts_external', ['business_id', 'external_id'])
      .execute();
    // The list pages by id within a business.
    await db.schema.createIndex('contacts_by_business').on('contacts').columns(['business_id', 'id']).execute();
    await db.schema.createIndex('contacts_by_account').on('contacts').columns(['account_id']).execute();

    await db.schema
      .createTable('contact_tags')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('contact_tags_pk', ['contact_id', 'tag'])
      .execute();
    await db.schema.createIndex('contact_tags_by_tag').on('contact_tags').columns(['business_id', 'tag']).execute();

    await db.schema
      .createTable('contact_attribute_defs')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('contact_attribute_defs_pk', ['business_id', 'key'])
      .execute();
    await db.schema
      .createTable('contact_attributes')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('text_value', 'text')
      .addColumn('num_value', 'double precision')
      .addPrimaryKeyConstraint('contact_attributes_pk', ['contact_id', 'key'])
      .execute();
    await db.schema.createIndex('contact_attributes_num').on('contact_attributes').columns(['business_id', 'key', 'num_value']).execute();
    await db.schema.createIndex('contact_attributes_text').on('contact_attributes').columns(['business_id', 'key', 'text_value']).execute();

    await db.schema
      .createTable('consent_purposes')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('wording', 'text', (c) => c.notNull())
      .addColumn('subscribable', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('consent_purposes_pk', ['business_id', 'key'])
      .execute();

    await db.schema
      .createTable('consent_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .addColumn('wording', 'text')
      .addColumn('evidence', 'text')
      .addColumn('collected_via', 'text')
      .addColumn('actor_id', 'text')
      .addColumn('page', 'text')
      .addColumn('importer', 'text')
      // Two appends for one person at once cannot take the same place in their ledger.
      .addUniqueConstraint('consent_events_order', ['business_id', 'account_id', 'seq'])
      .execute();
    await db.schema.createIndex('consent_events_by_account').on('consent_events').columns(['account_id', 'business_id']).execute();

    await db.schema
      .createTable('consent_state')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('since', 'bigint', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('consent_state_pk', ['business_id', 'account_id', 'purpose'])
      .execute();
    await db.schema.createIndex('consent_state_by_purpose').on('consent_state').columns(['business_id', 'purpose', 'state']).execute();

    await db.schema
      .createTable('suppressions')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('suppressions_pk', ['business_id', 'account_id'])
      .execute();

    await db.schema
      .createTable('consent_confirmations')
      .addColumn('token', 'text', (c) => c.primaryKey())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('wording', 'text', (c) => c.notNull())
      .addColumn('page', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('done_at', 'bigint')
      .execute();
    await db.schema.createIndex('consent_confirmations_open').on('consent_confirmations').columns(['business_id', 'account_id', 'done_at']).execute();

    await db.schema
      .createTable('contact_sends')
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('send_key', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('contact_sends_pk', ['business_id', 'send_key'])
      .execute();
    await db.schema.createIndex('contact_sends_window').on('contact_sends').columns(['business_id', 'account_id', 'purpose', 'at']).execute();
  },
  // Activity for segments ("read in the last 30 days", "never clicked"): kept on the contact row.
  '202612051230-contacts-activity': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('contacts').addColumn('last_read_at', 'bigint').execute();
    await db.schema.alterTable('contacts').addColumn('last_clicked_at', 'bigint').execute();
  },
};
