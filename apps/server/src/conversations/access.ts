/** Who may do what in a conversation: the one place these rules live. */
import { AppError, notFound } from '../errors.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { ConversationsTable, MembersTable } from '../platform/db/schema.ts';

export interface Membership {
  conversation: ConversationsTable;
  member: MembersTable;
}

/** Loads a conversation and the caller's active membership, or refuses. */
export async function requireMember(db: Database['db'] | Tx, conversationId: string, accountId: string): Promise<Membership> {
  const conversation = await db.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirst();
  if (!conversation) throw notFound('conversation');
  const member = await db
    .selectFrom('members')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('account_id', '=', accountId)
    .where('left_cursor', 'is', null)
    .executeTakeFirst();
  if (!member) throw new AppError('not_a_member', 'you are not a member of this conversation');
  return { conversation: normaliseConversation(conversation), member: normaliseMember(member) };
}

export function isAdmin(member: MembersTable): boolean {
  return member.role === 'owner' || member.role === 'admin';
}

/** Channels are one-to-many: only their admins post. Groups and direct chats: every member. */
export function assertMayPost({ conversation, member }: Membership) {
  if (conversation.kind === 'channel' && !isAdmin(member)) {
    throw new AppError('forbidden', 'only admins post to a channel');
  }
}

export function assertMayManage({ conversation, member }: Membership) {
  if (conversation.kind === 'direct') throw new AppError('forbidden', 'direct chats have no members to manage');
  if (!isAdmin(member)) throw new AppError('forbidden', 'only admins manage members');
}

// PostgreSQL returns bigint columns through our int8 parser as numbers already; SQLite returns
// numbers; these keep the types honest if a driver ever hands back strings.
export function normaliseConversation(c: ConversationsTable): ConversationsTable {
  return { ...c, created_at: Number(c.created_at), last_seq: Number(c.last_seq), member_count: Number(c.member_count) };
}
export function normaliseMember(m: MembersTable): MembersTable {
  return {
    ...m,
    joined_at: Number(m.joined_at),
    joined_cursor: Number(m.joined_cursor),
    left_cursor: m.left_cursor === null ? null : Number(m.left_cursor),
    delivered_seq: Number(m.delivered_seq),
    read_seq: Number(m.read_seq),
  };
}
