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

export interface MessagingTables {
  messages: MessagesTable;
  reactions: ReactionsTable;
  spread_clusters: SpreadClustersTable;
  spread_shares: SpreadSharesTable;
}
