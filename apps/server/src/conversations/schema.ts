/** The tables the conversations capability owns (Kysely types). Times are Unix milliseconds. */

export interface ConversationsTable {
  id: string;
  kind: 'direct' | 'group' | 'channel';
  title: string | null;
  handle: string | null;
  handle_key: string | null;
  /** "accountA:accountB" (sorted) for direct chats, so each pair has one chat. */
  direct_key: string | null;
  created_by: string;
  created_at: number;
  last_seq: number;
  member_count: number;
  /**
   * Groups: do new members read what was sent before they joined? 1 yes, 0 no, null: the default
   * (yes up to HISTORY_VISIBLE_DEFAULT_MAX_MEMBERS members, as Telegram chose). Channels and
   * direct chats always show their history.
   */
  history_visible: number | null;
  /** Channels: 1 when posts carry the posting admin's display name (Telegram's "Sign messages"). */
  sign_posts?: number;
}

export interface MembersTable {
  conversation_id: string;
  account_id: string;
  role: 'owner' | 'admin' | 'member';
  joined_at: number;
  /** The member sees the conversation's events from this cursor… */
  joined_cursor: number;
  /** …up to this one, when they have left or been removed (null while a member). */
  left_cursor: number | null;
  delivered_seq: number;
  read_seq: number;
}

/**
 * The stretches of a group's messages (by seq) a member was there for: one per stay, closed when
 * they leave or are removed. History follows them as the stream follows joined/left cursors.
 */
export interface MemberWindowsTable {
  conversation_id: string;
  account_id: string;
  /** The first seq of the stay (the conversation's last_seq at join, plus one)… */
  from_seq: number;
  /** …and the last (null while still a member). */
  to_seq: number | null;
}

/** Someone asked to add `account_id`, whose privacy setting asks for an invitation instead. */
export interface InvitationsTable {
  id: string;
  conversation_id: string;
  account_id: string;
  invited_by: string;
  created_at: number;
}

/**
 * How one person keeps one chat (chat-settings.ts): a row only once they changed something.
 * Nobody else reads it; it outlives a stay (leave and come back: still pinned, still cleared).
 */
export interface ChatSettingsTable {
  conversation_id: string;
  account_id: string;
  /** Silent until then (MUTED_FOREVER: always); null: not muted. */
  muted_until: number | null;
  /** When pinned (the list orders pins by it); null: not pinned. */
  pinned_at: number | null;
  /** 1: listed under "Archived". */
  archived: number;
  /** 1: marked unread by hand, until opened. */
  marked_unread: number;
  /** "Clear chat": messages up to this seq are gone for this person. */
  cleared_seq: number;
  updated_at: number;
}

/** What one person was writing in one chat (drafts.ts): kept across reloads and devices. */
export interface ChatDraftsTable {
  account_id: string;
  conversation_id: string;
  text: string;
  updated_at: number;
}

/**
 * An invite link (invite-links.ts). The token is kept as is: admins list their links and show them
 * again (as Telegram and WhatsApp do); anyone who reads the database could join, as could anyone
 * holding the link, and revoking it ends both.
 */
export interface InviteLinksTable {
  id: string;
  conversation_id: string;
  token: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  member_limit: number | null;
  joined_count: number;
  requires_approval: number;
  revoked_at: number | null;
}

/** Someone asked to join through a link that needs an admin's approval. */
export interface JoinRequestsTable {
  conversation_id: string;
  account_id: string;
  link_id: string;
  created_at: number;
}

/** Removed by an admin: links and a public channel's join refuse them until an admin unbans them. */
export interface ConversationBansTable {
  conversation_id: string;
  account_id: string;
  banned_by: string;
  banned_at: number;
}

export interface ConversationsTables {
  invite_links: InviteLinksTable;
  join_requests: JoinRequestsTable;
  conversation_bans: ConversationBansTable;
  chat_settings: ChatSettingsTable;
  chat_drafts: ChatDraftsTable;
  invitations: InvitationsTable;
  conversations: ConversationsTable;
  members: MembersTable;
  member_windows: MemberWindowsTable;
}
