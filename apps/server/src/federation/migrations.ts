/** Schema migrations of the federation capability's tables. */
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const federationMigrations: MigrationSteps = {
  '202612060500-federation': async (db: Kysely<unknown>, dialect) => {
    // Outbox cursors are what peers pull by: assigned in commit order (writeTransaction).
    const serial = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
    const serialType = dialect === 'sqlite' ? 'integer' : 'bigserial';
    await db.schema
      .createTable('federation_identity')
      .addColumn('key_id', 'text', (c) => c.primaryKey())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('federation_peers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('base_url', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull().unique())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('trusted_categories', 'text', (c) => c.notNull())
      .addColumn('share_categories', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('default_action', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('pull_cursor', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_delivery_error', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('federation_outbox')
      .addColumn('seq', serialType, serial)
      .addColumn('peer_id', 'text', (c) => c.notNull().references('federation_peers.id'))
      .addColumn('message_id', 'text', (c) => c.notNull().unique())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('case_ref', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('federation_outbox_by_peer').on('federation_outbox').columns(['peer_id', 'seq']).execute();
    await db.schema
      .createTable('federation_shared')
      .addColumn('seq', serialType, serial)
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('takedown_id', 'text')
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('signals', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('retracted_at', 'bigint')
      .execute();
    await db.schema.createIndex('federation_shared_by_takedown').on('federation_shared').columns(['takedown_id']).execute();
    await db.schema
      .createTable('federation_outcomes')
      .addColumn('case_id', 'text', (c) => c.notNull())
      .addColumn('peer_id', 'text', (c) => c.notNull().references('federation_peers.id'))
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('copies', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('federation_outcomes_pk', ['case_id', 'peer_id'])
      .execute();
    await db.schema
      .createTable('federation_received')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('peer_id', 'text', (c) => c.notNull().references('federation_peers.id'))
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('case_ref', 'text')
      .addColumn('origin', 'text')
      .addColumn('category', 'text')
      .addColumn('confidence', 'real')
      .addColumn('action', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('bank_id', 'text')
      .addColumn('pending_signals', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('federation_received_once', ['peer_id', 'message_id'])
      .execute();
    await db.schema.createIndex('federation_received_by_case').on('federation_received').columns(['peer_id', 'case_ref']).execute();
    await db.schema
      .createTable('federation_received_signals')
      .addColumn('received_id', 'text', (c) => c.notNull().references('federation_received.id'))
      .addColumn('signal_id', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('federation_received_signals_pk', ['received_id', 'signal_id'])
      .execute();
    await db.schema.createIndex('federation_received_signals_by_signal').on('federation_received_signals').columns(['signal_id']).execute();
    await db.schema
      .createTable('federation_nonces')
      .addColumn('peer_id', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('federation_nonces_pk', ['peer_id', 'nonce'])
      .execute();
    await db.schema.createIndex('federation_nonces_by_expiry').on('federation_nonces').columns(['expires_at']).execute();
  },
  '202612060800-federation-rotation-hma': async (db: Kysely<unknown>, dialect) => {
    const serial = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
    const serialType = dialect === 'sqlite' ? 'integer' : 'bigserial';
    // Key rotation: a retired key is kept (and published) until it expires; it endorses its successor.
    for (const [name, type] of [['retired_at', 'bigint'], ['expires_at', 'bigint'], ['next_key_id', 'text'], ['endorsement', 'text']] as const) {
      await db.schema.alterTable('federation_identity').addColumn(name, type).execute();
    }
    for (const [name, type] of [
      ['previous_key_id', 'text'],
      ['previous_public_key', 'text'],
      ['previous_key_expires_at', 'bigint'],
      ['last_push_at', 'bigint'],
      ['last_pull_at', 'bigint'],
      ['last_pull_error', 'text'],
    ] as const) {
      await db.schema.alterTable('federation_peers').addColumn(name, type).execute();
    }
    await db.schema
      .createTable('federation_hma_consumers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('bank_ids', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_fetch_at', 'bigint')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // The signals of offered banks as the exchange last saw them (what a later look compares against).
    await db.schema
      .createTable('federation_hma_known')
      .addColumn('signal_id', 'bigint', (c) => c.primaryKey())
      .addColumn('bank_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('federation_hma_known_by_bank').on('federation_hma_known').columns(['bank_id']).execute();
    // One row per change of a hash in a bank; consumers read it by time (their checkpoint) and seq (a page).
    await db.schema
      .createTable('federation_hma_log')
      .addColumn('seq', serialType, serial)
      .addColumn('bank_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('changed_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('federation_hma_log_by_time').on('federation_hma_log').columns(['changed_at', 'seq']).execute();
  },
  // A victim's protection case shared with peers: the local case it stands for (never sent).
  '202612060746-federation-protect-cases': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('federation_shared').addColumn('protect_ref', 'text').execute();
    await db.schema.createIndex('federation_shared_by_protect_ref').on('federation_shared').columns(['protect_ref']).execute();
  },
};
