/**
 * Reads other capabilities need about membership (sync's live fan-out and typing relay), so none
 * of them queries `conversations` or `members` itself.
 */
import type { ConversationKind } from '@mmd/contracts';
import type { Database, Tx } from '../platform/db/index.ts';

type Reader = Database['db'] | Tx;

/** The conversation as a current member sees it; null if the account is not (or no longer) a member. */
export async function activeMembership(
  db: Reader,
  options: { conversationId: string; accountId: string },
): Promise<{ kind: ConversationKind; memberCount: number } | null> {
  const row = await db
    .selectFrom('conversations')
    .innerJoin('members', 'members.conversation_id', 'conversations.id')
    .select(['conversations.kind', 'conversations.member_count'])
    .where('conversations.id', '=', options.conversationId)
    .where('members.account_id', '=', options.accountId)
    .where('members.left_cursor', 'is', null)
    .executeTakeFirst();
  return row ? { kind: row.kind, memberCount: Number(row.member_count) } : null;
}

/** The accounts currently members of a conversation. */
export async function currentMemberIds(db: Reader, conversationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('members')
    .select('account_id')
    .where('conversation_id', '=', conversationId)
    .where('left_cursor', 'is', null)
    .execute();
  return rows.map((r) => r.account_id);
}

/** The conversations an account currently belongs to. */
export async function conversationIdsOf(db: Reader, accountId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('members')
    .select('conversation_id')
    .where('account_id', '=', accountId)
    .where('left_cursor', 'is', null)
    .execute();
  return rows.map((r) => r.conversation_id);
}

/** The conversations an account currently belongs to, with the cursor each stay began at. */
export async function membershipsOf(db: Reader, accountId: string): Promise<{ conversationId: string; joinedCursor: number }[]> {
  const rows = await db
    .selectFrom('members')
    .select(['conversation_id', 'joined_cursor'])
    .where('account_id', '=', accountId)
    .where('left_cursor', 'is', null)
    .execute();
  return rows.map((r) => ({ conversationId: r.conversation_id, joinedCursor: Number(r.joined_cursor) }));
}

/** Each conversation's kind, by id (unknown ids are missing). */
export async function kindsOf(
  db: Reader,
  conversationIds: Iterable<string>,
): Promise<Map<string, ConversationKind>> {
  const ids = [...new Set(conversationIds)];
  const kinds = new Map<string, ConversationKind>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('conversations')
      .select(['id', 'kind'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) kinds.set(r.id, r.kind);
  }
  return kinds;
}

/** Which of `accountIds` are current members of the conversation (few ids: webhook owners). */
export async function membersAmong(
  db: Reader,
  conversationId: string,
  accountIds: readonly string[],
  options: { joinedBy?: number | null } = {},
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < accountIds.length; i += 500) {
    let q = db
      .selectFrom('members')
      .select('account_id')
      .where('conversation_id', '=', conversationId)
      .where('account_id', 'in', accountIds.slice(i, i + 500))
      .where('left_cursor', 'is', null);
    // An event for the members whose current stay began by then (a released held message; see sync's events.members_joined_by).
    if (options.joinedBy !== null && options.joinedBy !== undefined) q = q.where('joined_cursor', '<=', options.joinedBy);
    const rows = await q.execute();
    for (const r of rows) found.add(r.account_id);
  }
  return found;
}

/**
 * What `directPair` found, by conversation id. A conversation's kind and direct_key never change
 * once written, and ids are random and never reused, so an answer stays true in every process
 * and for every database (a rolled-back conversation's id is simply never asked again): three
 * event taps ask for every message, and this spares their two reads. Unknown ids are not kept.
 */
const knownPairs = new Map<string, [string, string] | null>();
const KNOWN_PAIRS_MAX = 100_000;

/** The two accounts of a direct chat; null for a group, a channel or an unknown id. */
export async function directPair(db: Reader, conversationId: string): Promise<[string, string] | null> {
  const known = knownPairs.get(conversationId);
  if (known !== undefined) return known;
  const row = await db.selectFrom('conversations').select(['kind', 'direct_key']).where('id', '=', conversationId).executeTakeFirst();
  if (!row) return null;
  const [a, b] = row.kind === 'direct' && row.direct_key ? row.direct_key.split(':') : [];
  const pair: [string, string] | null = a && b ? [a, b] : null;
  if (knownPairs.size >= KNOWN_PAIRS_MAX) knownPairs.clear();
  knownPairs.set(conversationId, pair);
  return pair;
}

/** Existing direct chats between `accountId` and each of `peerIds`: peer id → conversation id. */
export async function directChatIds(db: Reader, accountId: string, peerIds: readonly string[]): Promise<Map<string, string>> {
  const byKey = new Map(peerIds.map((peer) => [[accountId, peer].sort().join(':'), peer]));
  const keys = [...byKey.keys()];
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db.selectFrom('conversations').select(['id', 'direct_key']).where('direct_key', 'in', keys.slice(i, i + 500)).execute();
    for (const r of rows) out.set(byKey.get(r.direct_key!)!, r.id);
  }
  return out;
}

/**
 * Unread messages over all the chats an account is in (what its app badge shows): each chat's
 * messages after both its read mark and what the person cleared, muted chats included.
 */
export async function unreadTotal(db: Reader, accountId: string): Promise<number> {
  const rows = await db
    .selectFrom('members')
    .innerJoin('conversations', 'conversations.id', 'members.conversation_id')
    .leftJoin('chat_settings', (j) => j.onRef('chat_settings.conversation_id', '=', 'members.conversation_id').onRef('chat_settings.account_id', '=', 'members.account_id'))
    .select(['conversations.last_seq', 'members.read_seq', 'chat_settings.cleared_seq'])
    .where('members.account_id', '=', accountId)
    .where('members.left_cursor', 'is', null)
    .execute();
  let total = 0;
  for (const r of rows) total += Math.max(0, Number(r.last_seq) - Math.max(Number(r.read_seq), Number(r.cleared_seq ?? 0)));
  return total;
}

/** A channel as its posts show it: its own name and handle stand in for the admin who posted. */
export interface ChannelIdentity {
  id: string;
  title: string | null;
  handle: string | null;
  signPosts: boolean;
}

/** Which of these conversations are channels, with how their posts are shown. */
export async function channelsAmong(db: Reader, conversationIds: Iterable<string>): Promise<Map<string, ChannelIdentity>> {
  const ids = [...new Set(conversationIds)];
  const channels = new Map<string, ChannelIdentity>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('conversations')
      .select(['id', 'title', 'handle', 'sign_posts'])
      .where('id', 'in', ids.slice(i, i + 500))
      .where('kind', '=', 'channel')
      .execute();
    for (const r of rows) channels.set(r.id, { id: r.id, title: r.title, handle: r.handle, signPosts: Number(r.sign_posts ?? 0) === 1 });
  }
  return channels;
}

/**
 * Of these conversations, the channels in which this account is a subscriber, not an admin: where
 * who wrote a post is the channel's secret (its admins' accounts never show to subscribers).
 */
export async function channelsSubscribedOnly(db: Reader, accountId: string, conversationIds: Iterable<string>): Promise<Set<string>> {
  const ids = [...new Set(conversationIds)];
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('members')
      .innerJoin('conversations', 'conversations.id', 'members.conversation_id')
      .select('members.conversation_id')
      .where('members.account_id', '=', accountId)
      .where('members.conversation_id', 'in', ids.slice(i, i + 500))
      .where('conversations.kind', '=', 'channel')
      .where('members.role', '=', 'member')
      .execute();
    for (const r of rows) out.add(r.conversation_id);
  }
  return out;
}
