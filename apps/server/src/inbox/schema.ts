/** The tables the team inbox owns (Kysely types). Times are Unix milliseconds. */

/**
 * One customer's direct chat with a business, as its team works it. Made when the customer first
 * writes (a chat the business opened, e.g. a campaign, joins the inbox at the customer's first
 * answer); kept current by the inbox's event tap, in the transaction that writes each message.
 */
export interface InboxConversationsTable {
  conversation_id: string;
  business_id: string;
  customer_id: string;
  /** The customer's handle, lower-cased: the inbox searches by its start. */
  customer_handle_key: string;
  status: 'open' | 'pending' | 'resolved';
  /** A person on the team (or the business account), or null: unassigned. */
  assignee_id: string | null;
  last_activity_at: number;
  last_customer_message_at: number | null;
  last_message_id: string | null;
  /** The newest message's text, shortened; null for media alone, and once that message is deleted. */
  last_message_preview: string | null;
  last_message_from: 'customer' | 'business' | null;
  created_at: number;
  updated_at: number;
}

/** An internal note: the team's alone, never a message of the chat. */
export interface InboxNotesTable {
  id: string;
  business_id: string;
  conversation_id: string;
  author_id: string;
  text: string;
  created_at: number;
}

export interface InboxTables {
  inbox_conversations: InboxConversationsTable;
  inbox_notes: InboxNotesTable;
}
