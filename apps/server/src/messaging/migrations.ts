/**
 * Schema migrations of the messaging capability's tables. A migration name shared with other
 * capabilities (e.g. 0001-messaging-core) runs their steps together, in the order schema.ts lists them.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationSteps } from '../platform/db/migrations.ts';
import { indexTerms, kindBits, searchWords } from './search-text.ts';

export const messagingMigrations: MigrationSteps = {
  '0001-messaging-core': async (db: Kysely<unknown>) => {
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
    await db.schema
      .createIndex('messages_by_forward_origin')
      .on('messages')
      .columns(['forward_origin_id'])
      .execute();
    await db.schema
      .createTable('reactions')
      .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('emoji', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('reactions_pk', ['message_id', 'account_id', 'emoji'])
      .execute();
  },
  '0003-media': async (db: Kysely<unknown>) => {
    // sent | pending (media still processing: not yet delivered) | failed (media failed).
    await db.schema
      .alterTable('messages')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('sent'))
      .execute();
  },
  // Why a message was deleted, when not by a person: 'removed' (moderators took it down). Clients
  // say "Removed by moderators" from history too, not only from the live event.
  '202612050554-messaging-deleted-reason': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('messages').addColumn('deleted_reason', 'text').execute();
  },
  // Set when automation (a business's rules or assistant) sent the message: clients label it, and
  // automation never answers a message that carries it (no bot-to-bot loops).
  '202612050801-messaging-automated': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('messages').addColumn('automated', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
  // A held message takes its seq when released, not when written: until then nobody but its sender
  // can count it (last_seq, unread counts, gaps). Rows held before this keep the seq they had.
  '202612050813-messaging-held-position': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('messages').addColumn('held_after', 'bigint').execute();
    await db.schema.alterTable('messages').addColumn('written_cursor', 'bigint').execute();
    await sql`update messages set held_after = seq - 1 where status <> 'sent'`.execute(db);
  },
  // The person on a business's team who wrote a business's message (team inbox): customers see
  // "Business · handle". Null for everything else.
  '202612051130-messaging-agent': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('messages').addColumn('agent_id', 'text').execute();
  },
  // Forward limits ask "to how many chats did this person forward this message in the last
  // minute": the forwards of one origin, by sender and time. It also serves every lookup of an
  // origin's forwards, which the single-column index did; that one indexed every message's null.
  '202612052100-messaging-forwards-by-sender': async (db: Kysely<unknown>) => {
    await db.schema
      .createIndex('messages_forwards_by_sender')
      .on('messages')
      .columns(['forward_origin_id', 'sender_id', 'created_at'])
      .where(sql.ref('forward_origin_id'), 'is not', null)
      .execute();
    await db.schema.dropIndex('messages_by_forward_origin').execute();
  },
  // Spread per near-duplicate cluster (spread.ts): each message's share of its media's clusters,
  // a cluster's public id and totals, and the message's inherited hops.
  '202612052150-messaging-spread': async (db: Kysely<unknown>, dialect) => {
    await db.schema.alterTable('messages').addColumn('spread_cluster', 'text').execute();
    await db.schema.alterTable('messages').addColumn('spread_hops', 'integer').execute();
    await db.schema
      .createTable('spread_clusters')
      .addColumn('cluster_id', 'bigint', (c) => c.primaryKey())
      .addColumn('public_id', 'text', (c) => c.notNull().unique())
      .addColumn('shares', 'bigint', (c) => c.notNull())
      .addColumn('max_hops', 'integer', (c) => c.notNull())
      .addColumn('first_at', 'bigint', (c) => c.notNull())
      .addColumn('last_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('spread_shares')
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('cluster_id', 'bigint', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('sender_id', 'text', (c) => c.notNull())
      .addColumn('hops', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    // "The shares of this cluster into one of these chats" (the sender's), for the hops they inherit.
    await db.schema.createIndex('spread_shares_by_chat').on('spread_shares').columns(['cluster_id', 'conversation_id', 'hops']).execute();
    // A sender's shares of a cluster in the last minute (the limits).
    await db.schema.createIndex('spread_shares_by_sender').on('spread_shares').columns(['sender_id', 'cluster_id', 'at']).execute();
  },
  // Velocity and friction per cluster (spread-velocity.ts): per-minute counts of new chats reached
  // and new people sharing, the cluster's review state, messages held for that review, and the
  // per-account restrictions the safety team puts on suspected coordinated amplification.
  '202612060000-messaging-spread-velocity': async (db: Kysely<unknown>, dialect) => {
    await db.schema.alterTable('messages').addColumn('spread_fast', 'integer').execute();
    await db.schema.alterTable('messages').addColumn('spread_confirmed', 'integer').execute();
    await db.schema.alterTable('spread_clusters').addColumn('reach', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('spread_clusters').addColumn('sharers', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('spread_clusters').addColumn('state', 'text', (c) => c.notNull().defaultTo('open')).execute();
    await db.schema.alterTable('spread_clusters').addColumn('peak_tier', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('spread_clusters').addColumn('alerted_at', 'bigint').execute();
    await db.schema.alterTable('spread_clusters').addColumn('reviewed_by', 'text').execute();
    await db.schema.alterTable('spread_clusters').addColumn('reviewed_at', 'bigint').execute();
    // The shares of the last hours, for coordinated amplification (amplification.ts).
    await db.schema.createIndex('spread_shares_by_at').on('spread_shares').columns(['at']).execute();
    await db.schema.createIndex('spread_clusters_by_last').on('spread_clusters').columns(['last_at']).execute();
    await db.schema
      .createTable('spread_minutes')
      .addColumn('cluster_id', 'bigint', (c) => c.notNull())
      .addColumn('minute', 'bigint', (c) => c.notNull())
      .addColumn('shares', 'integer', (c) => c.notNull())
      .addColumn('chats', 'integer', (c) => c.notNull())
      .addColumn('sharers', 'integer', (c) => c.notNull())
      .addColumn('max_hops', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('spread_minutes_pk', ['cluster_id', 'minute'])
      .execute();
    await db.schema
      .createTable('spread_holds')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('cluster_id', 'bigint', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('sender_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('spread_holds_pk', ['message_id', 'cluster_id'])
      .execute();
    await db.schema.createIndex('spread_holds_by_sender').on('spread_holds').columns(['sender_id', 'cluster_id', 'at']).execute();
    await db.schema.createIndex('spread_clusters_by_state').on('spread_clusters').columns(['state', 'last_at']).execute();
    // Links shared in messages, for coordinated-amplification detection (links.ts).
    await db.schema
      .createTable('link_shares')
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('link', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('sender_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('link_shares_by_at').on('link_shares').columns(['at']).execute();
    await db.schema.createIndex('spread_holds_by_cluster').on('spread_holds').columns(['cluster_id', 'at']).execute();
    await db.schema
      .createTable('spread_restrictions')
      .addColumn('account_id', 'text', (c) => c.primaryKey())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('by', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
  },
  // Message search (search.ts, search-text.ts): one row per message with words or media, its
  // words made by our own tokeniser so both databases find the same messages. SQLite indexes them
  // with FTS5 (external content on message_search, kept in step by triggers in the writing
  // transaction); PostgreSQL with a GIN index on the lexeme array, taken as given (no parser,
  // no stemming). Existing messages are indexed here, a page at a time.
  '202612060130-messaging-search': async (db: Kysely<unknown>, dialect) => {
    await db.schema
      .createTable('message_search')
      .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('message_id', 'text', (c) => c.notNull().unique())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('terms', 'text', (c) => c.notNull())
      .addColumn('kinds', 'integer', (c) => c.notNull())
      .execute();
    // Search within one chat, and by type without words: the chat's rows newest first.
    await db.schema.createIndex('message_search_by_chat').on('message_search').columns(['conversation_id', 'id']).execute();
    if (dialect === 'sqlite') {
      // ascii: splits only at ASCII spaces and punctuation and folds only ASCII case, so the
      // words search-text.ts wrote come back out unchanged (see there).
      await sql`create virtual table message_search_fts using fts5(terms, content='message_search', content_rowid='id', tokenize='ascii')`.execute(db);
      // The index's terms, for expanding a prefix to the words it starts (search.ts).
      await sql`create virtual table message_search_vocab using fts5vocab(message_search_fts, 'row')`.execute(db);
      await sql`create trigger message_search_ai after insert on message_search begin
        insert into message_search_fts(rowid, terms) values (new.id, new.terms);
      end`.execute(db);
      await sql`create trigger message_search_ad after delete on message_search begin
        insert into message_search_fts(message_search_fts, rowid, terms) values ('delete', old.id, old.terms);
      end`.execute(db);
      await sql`create trigger message_search_au after update of terms on message_search begin
        insert into message_search_fts(message_search_fts, rowid, terms) values ('delete', old.id, old.terms);
        insert into message_search_fts(rowid, terms) values (new.id, new.terms);
      end`.execute(db);
    } else {
      await sql`create index message_search_terms on message_search using gin (array_to_tsvector(string_to_array(terms, ' ')))`.execute(db);
    }
    // Existing messages, oldest first (ids order results). Media kinds from media's tables: a
    // migration runs before any capability's code could be asked.
    let after = '';
    for (;;) {
      const page = (
        await sql<{ id: string; conversation_id: string; text: string | null }>`
          select id, conversation_id, text from messages where deleted_at is null and id > ${after} order by id limit 1000`.execute(db)
      ).rows;
      if (page.length === 0) break;
      after = page.at(-1)!.id;
      const ids = page.map((m) => m.id);
      const media = (
        await sql<{ message_id: string; kind: string | null }>`
          select mm.message_id, m.kind from message_media mm join media m on m.id = mm.media_id where mm.message_id in (${sql.join(ids)})`.execute(db)
      ).rows;
      const kindsOf = new Map<string, (string | null)[]>();
      for (const r of media) kindsOf.set(r.message_id, [...(kindsOf.get(r.message_id) ?? []), r.kind]);
      const rows = page
        .map((m) => ({ m, kinds: kindBits(kindsOf.get(m.id) ?? [], m.text) }))
        .filter(({ m, kinds }) => kinds !== 0 || searchWords(m.text).length > 0)
        .map(({ m, kinds }) => ({ message_id: m.id, conversation_id: m.conversation_id, terms: indexTerms({ text: m.text, conversationId: m.conversation_id, kinds }), kinds }));
      for (let i = 0; i < rows.length; i += 200) await (db as Kysely<{ message_search: (typeof rows)[number] }>).insertInto('message_search').values(rows.slice(i, i + 200)).execute();
    }
  },
  // Link previews (link-previews.ts): one row per message with a link, and a cache per URL.
  '202612061000-messaging-link-previews': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('link_previews')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('sender_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('title', 'text')
      .addColumn('description', 'text')
      .addColumn('site_name', 'text')
      .addColumn('image_media_id', 'text')
      .addColumn('fetched', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // A sender's fetches in the last minutes (the allowance).
    await db.schema.createIndex('link_previews_by_sender').on('link_previews').columns(['sender_id', 'created_at']).execute();
    await db.schema
      .createTable('link_preview_cache')
      .addColumn('url', 'text', (c) => c.primaryKey())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .addColumn('title', 'text')
      .addColumn('description', 'text')
      .addColumn('site_name', 'text')
      .addColumn('image_media_id', 'text')
      .addColumn('fetched_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('link_preview_cache_by_at').on('link_preview_cache').columns(['fetched_at']).execute();
  },
  '202612060510-messaging-message-hides': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('message_hides')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('message_hides_pk', ['account_id', 'message_id'])
      .execute();
  },
  '202612060520-messaging-pins-stars': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('pinned_messages')
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('pinned_by', 'text', (c) => c.notNull())
      .addColumn('pinned_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('pinned_messages_pk', ['conversation_id', 'message_id'])
      .execute();
    await db.schema
      .createTable('starred_messages')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('starred_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('starred_messages_pk', ['account_id', 'message_id'])
      .execute();
    // A person's stars, newest first.
    await db.schema.createIndex('starred_by_account').on('starred_messages').columns(['account_id', 'starred_at']).execute();
  },
  '202612060800-messaging-mentions': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('message_mentions')
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('message_mentions_pk', ['message_id', 'account_id'])
      .execute();
    // A person's mentions per chat (the @ badge and the jump list).
    await db.schema.createIndex('message_mentions_by_account').on('message_mentions').columns(['account_id', 'conversation_id']).execute();
  },
};
