/**
 * Schema migrations of the accounts capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import type { Kysely } from 'kysely';
import { handleKeys } from './handles.ts';
import type { MigrationSteps } from '../platform/db/migrations.ts';

export const accountsMigrations: MigrationSteps = {
  '0001-messaging-core': async (db: Kysely<unknown>) => {
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
  },
  '202612050530-accounts-blocks-privacy': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('blocks')
      .addColumn('blocker_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('blocked_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('blocks_pk', ['blocker_id', 'blocked_id'])
      .execute();
    // "Did any of these people block me?" when adding many people at once.
    await db.schema.createIndex('blocks_by_blocked').on('blocks').columns(['blocked_id', 'blocker_id']).execute();
    await db.schema
      .createTable('privacy_settings')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('add_me', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  '202612050523-accounts-handles': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('handles')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('owner_kind', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('handles_by_owner').on('handles').columns(['owner_id']).execute();
    // Existing handles keep theirs, oldest first; a later look-alike that already exists keeps
    // working but claims no key (the first holder of a key keeps it).
    const typed = db as unknown as Kysely<{
      accounts: { id: string; handle: string; created_at: number };
      conversations: { id: string; handle: string | null; kind: string; created_at: number };
      handles: { key: string; owner_kind: string; owner_id: string; created_at: number };
    }>;
    const people = await typed.selectFrom('accounts').select(['id', 'handle', 'created_at']).execute();
    const channels = await typed.selectFrom('conversations').select(['id', 'handle', 'created_at']).where('kind', '=', 'channel').where('handle', 'is not', null).execute();
    const owners = [
      ...people.map((p) => ({ kind: 'account', id: p.id, handle: p.handle, at: Number(p.created_at) })),
      ...channels.map((c) => ({ kind: 'channel', id: c.id, handle: c.handle!, at: Number(c.created_at) })),
    ].sort((a, b) => a.at - b.at);
    for (const o of owners) {
      const rows = handleKeys(o.handle).map((key) => ({ key, owner_kind: o.kind, owner_id: o.id, created_at: o.at }));
      await typed.insertInto('handles').values(rows).onConflict((oc) => oc.column('key').doNothing()).execute();
    }
  },
  // A safety team may suspend an account (suspected coordinated amplification): its tokens stop working.
  '202612060010-accounts-suspension': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('accounts').addColumn('suspended_at', 'bigint').execute();
  },
  // Profiles and presence: who sees last seen and the profile photo, who finds me in search.
  '202612060500-accounts-privacy-visibility': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('privacy_settings').addColumn('last_seen', 'text').execute();
    await db.schema.alterTable('privacy_settings').addColumn('photo', 'text').execute();
    await db.schema.alterTable('privacy_settings').addColumn('find_me', 'text').execute();
  },
  // Read receipts on or off (WhatsApp's rule: off hides reads both ways in direct chats).
  '202612060800-accounts-read-receipts': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('privacy_settings').addColumn('read_receipts', 'integer').execute();
  },
};
