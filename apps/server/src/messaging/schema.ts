/** The tables the messaging capability owns (Kysely types). Times are Unix milliseconds. */
import type { Generated } from 'kysely';

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  text: string | null;
  reply_to: string | null;
  forward_origin_id: string | null;
  forward_origin_conversation_id: string | null;
  forward_origin_sender_id: string | null;
  forward_hops: number;
  idempotency_key: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  /** 'removed': deleted by moderators (a takedown), not by a person; null otherwise. */
  deleted_reason: 'removed' | null;
  /** sent | pending (waiting for its media) | failed (its media failed). */
  status: 'sent' | 'pending' | 'failed';
  /**
   * A message held when written (pending, then sent or failed): the conversation's last_seq then.
   * Until it is released its `seq` is a private negative placeholder and nobody else counts it;
   * its sender sees it just after this seq. Null for a message sent at once.
   */
  held_after: number | null;
  /** The same message: the event-log cursor when it was written (who was there, see pending.ts). */
  written_cursor: number | null;
  /** 1 when automation (rules or the assistant) sent it on a business's behalf, else 0. */
  automated: number;
  /** A business's message written by a person on its team (team inbox): that person's account id. */
  agent_id?: string | null;
  /** Its media's near-duplicate cluster, public id (spread.ts); null without clustered media. */
  spread_cluster?: string | null;
  /** Hops inherited from that cluster (spread.ts); null without clustered media. */
  spread_hops?: number | null;
  /** 1 when its cluster was spreading fast as it was sent (spread-velocity.ts): the label says so. */
  spread_fast?: number | null;
  /** 1 when its sender confirmed sharing something spreading fast (`confirm_spread`), for a message held for its media. */
  spread_confirmed?: number | null;
}

export interface ReactionsTable {
  message_id: string;
  account_id: string;
  emoji: string;
  created_at: number;
}

/** A near-duplicate cluster once shared (spread.ts): its public id and running totals. */
export interface SpreadClustersTable {
  cluster_id: number;
  public_id: string;
  shares: number;
  max_hops: number;
  first_at: number;
  last_at: number;
  /** Distinct chats it has reached, and distinct people who shared it. */
  reach?: number;
  sharers?: number;
  /** `open`, `hold` (new shares wait for a moderator), `cleared` (reviewed: no friction beyond the label). */
  state?: 'open' | 'hold' | 'cleared' | 'removed';
  /** Highest friction tier it reached (0 none, 1 label, 2 confirm, 3 cooldown, 4 hold). */
  peak_tier?: number;
  /** When it first reached the hold tier and the safety team was alerted. */
  alerted_at?: number | null;
  reviewed_by?: string | null;
  reviewed_at?: number | null;
}

/** Per cluster and minute: shares, new chats reached, new people sharing (spread-velocity.ts). */
export interface SpreadMinutesTable {
  cluster_id: number;
  minute: number;
  shares: number;
  chats: number;
  sharers: number;
  max_hops: number;
}

/** A message held because its cluster is under review (or its sender's shares are). */
export interface SpreadHoldsTable {
  message_id: string;
  cluster_id: number;
  conversation_id: string;
  sender_id: string;
  /** `cluster`: the cluster is under review; `account`: the sender's shares are. */
  reason: 'cluster' | 'account';
  at: number;
}

/** A safety team's restriction on an account's shares (suspected coordinated amplification). */
export interface SpreadRestrictionsTable {
  account_id: string;
  /** `rate_limit`: one new chat per cooldown per picture; `review`: every share held for review. */
  mode: 'rate_limit' | 'review';
  reason: string;
  by: string;
  at: number;
}

/** One message carrying a cluster's media into one chat (spread.ts). */
export interface SpreadSharesTable {
  id: Generated<number>;
  cluster_id: number;
  message_id: string;
  conversation_id: string;
  sender_id: string;
  hops: number;
  at: number;
}

/**
 * A message's link preview (link-previews.ts): made by a job after the message is sent.
 * `pending` until made; `ready`; `none` (nothing to show: the page failed, had no metadata, or the
 * sender's preview allowance was spent); `removed` by its sender.
 */
export interface LinkPreviewsTable {
  message_id: string;
  conversation_id: string;
  sender_id: string;
  url: string;
  status: 'pending' | 'ready' | 'none' | 'removed';
  title: string | null;
  description: string | null;
  site_name: string | null;
  /** The picture, a media item owned by the sender (ingested like an upload). */
  image_media_id: string | null;
  /** 1 when making it fetched the page (not the cache): what the per-sender allowance counts. */
  fetched: number;
  created_at: number;
  updated_at: number;
}

/** What a URL's page said, kept a while so a link shared a thousand times is fetched once. */
export interface LinkPreviewCacheTable {
  url: string;
  /** 0: the page gave nothing to show (kept for a shorter while). */
  ok: number;
  title: string | null;
  description: string | null;
  site_name: string | null;
  image_media_id: string | null;
  fetched_at: number;
}

export interface MessagingTables {
  messages: MessagesTable;
  reactions: ReactionsTable;
  spread_clusters: SpreadClustersTable;
  spread_shares: SpreadSharesTable;
  spread_minutes: SpreadMinutesTable;
  spread_holds: SpreadHoldsTable;
  spread_restrictions: SpreadRestrictionsTable;
  link_shares: LinkSharesTable;
  message_search: MessageSearchTable;
  link_previews: LinkPreviewsTable;
  link_preview_cache: LinkPreviewCacheTable;
  message_hides: MessageHidesTable;
  pinned_messages: PinnedMessagesTable;
  starred_messages: StarredMessagesTable;
  message_mentions: MessageMentionsTable;
}

/**
 * A member a group message mentions (mentions.ts), written with the message and rewritten by each
 * edit; `position` keeps the order the text names them.
 */
export interface MessageMentionsTable {
  message_id: string;
  conversation_id: string;
  account_id: string;
  position: number;
  created_at: number;
}

/** A message pinned at the top of its chat, for every member (at most MAX_PINNED_MESSAGES a chat). */
export interface PinnedMessagesTable {
  conversation_id: string;
  message_id: string;
  pinned_by: string;
  pinned_at: number;
}

/** A message one person starred (theirs alone). */
export interface StarredMessagesTable {
  account_id: string;
  message_id: string;
  conversation_id: string;
  starred_at: number;
}

/**
 * "Delete for me" (hides.ts): a message gone for one person (all their devices) and for nobody
 * else. History, single reads, search and the chat list's newest message skip it for them.
 */
export interface MessageHidesTable {
  account_id: string;
  message_id: string;
  conversation_id: string;
  created_at: number;
}

/**
 * One row per message that has words or media to find (search.ts), written in the message's own
 * transactions: sent, edited, deleted. On SQLite the FTS5 table `message_search_fts` indexes
 * `terms` (triggers keep it in step: external content, rowid = id); on PostgreSQL a GIN index on
 * `array_to_tsvector(string_to_array(terms, ' '))` does. The id orders results, newest first.
 */
export interface MessageSearchTable {
  id: Generated<number>;
  message_id: string;
  conversation_id: string;
  /** The message's words, its conversation's token and its kinds' tokens, space-separated (search-text.ts indexTerms). */
  terms: string;
  /** What it carries, as bits (search.ts KIND_BITS): photo, video, voice, document, link. */
  kinds: number;
}

/** A normalised link in a sent message (links.ts), for coordinated-amplification detection. */
export interface LinkSharesTable {
  id: Generated<number>;
  link: string;
  message_id: string;
  conversation_id: string;
  sender_id: string;
  at: number;
}
