/** Who may do what in a conversation: the one place these rules live. */
import { AppError, notFound } from '../errors.ts';
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { type Database, type Tx, prepared } from '../platform/db/index.ts';
import type { DB } from '../schema.ts';
import type { ConversationsTable, MembersTable } from './schema.ts';
import { clearedSeq, settingsOf } from './chat-settings.ts';

/** Groups up to this size show new members their earlier history unless an admin says otherwise. */
export const HISTORY_VISIBLE_DEFAULT_MAX_MEMBERS = 100;

export interface Membership {
  conversation: ConversationsTable;
  member: MembersTable;
}

/** Every column of members, each read by `conversationAndMember` under a `member__` alias. */
const MEMBER_COLUMNS = ['conversation_id', 'account_id', 'role', 'joined_at', 'joined_cursor', 'left_cursor', 'delivered_seq', 'read_seq'] as const;
// The compiler keeps the list complete: a column added to MembersTable and not here fails this line.
const memberColumnsComplete: Exclude<keyof MembersTable, (typeof MEMBER_COLUMNS)[number]> extends never ? true : never = true;
void memberColumnsComplete;

/**
 * The conversation and the account's active membership in one statement (one round trip on
 * PostgreSQL, one snapshot): the member's columns come back prefixed, all null when there is none.
 */
const conversationAndMember = prepared((db, p: { conversationId: string; accountId: string }) =>
  db
    .selectFrom('conversations')
    .leftJoin('members', (join) => join.onRef('members.conversation_id', '=', 'conversations.id').on('members.account_id', '=', p.accountId).on('members.left_cursor', 'is', null))
    .selectAll('conversations')
    .select(MEMBER_COLUMNS.map((c) => `members.${c} as member__${c}` as const))
    .where('conversations.id', '=', p.conversationId),
);

/** Loads a conversation and the caller's active membership, or refuses. */
export async function requireMember(db: Database['db'] | Tx, conversationId: string, accountId: string): Promise<Membership> {
  // Prepared once: every message sent, read and reacted to passes here.
  const [row] = (await conversationAndMember(db, { conversationId, accountId })).rows;
  if (!row) throw notFound('conversation');
  // account_id is the key's second half: null only when the join found no active membership.
  if (row.member__account_id === null) throw new AppError('not_a_member', 'you are not a member of this conversation');
  const conversation: Record<string, unknown> = {};
  const member: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith('member__')) member[key.slice('member__'.length)] = value;
    else conversation[key] = value;
  }
  return { conversation: normaliseConversation(conversation as unknown as ConversationsTable), member: normaliseMember(member as unknown as MembersTable) };
}

/** Does a newcomer read what was sent before they joined? */
export function historyVisible(c: ConversationsTable): boolean {
  if (c.kind !== 'group') return true;
  if (c.history_visible === null || c.history_visible === undefined) return Number(c.member_count) <= HISTORY_VISIBLE_DEFAULT_MAX_MEMBERS;
  return Number(c.history_visible) === 1;
}

/** Seqs from `from` to `to` (inclusive; `to` null: up to now). */
export interface SeqRange {
  from: number;
  to: number | null;
}

/**
 * The messages one member may read, as seq ranges, or null for all of them (channels and direct
 * chats). In a group: each stay of theirs, and — when the group shows history to newcomers —
 * everything before their first stay. What was sent while they were out stays unread.
 */
export function rangesOf(conversation: ConversationsTable, windows: { from_seq: number; to_seq: number | null }[], clearedSeq = 0): SeqRange[] | null {
  if (conversation.kind !== 'group') return afterClear(null, clearedSeq);
  const ranges = windows
    .map((w) => ({ from: Number(w.from_seq), to: w.to_seq === null ? null : Number(w.to_seq) }))
    .sort((a, b) => a.from - b.from);
  if (ranges[0] && historyVisible(conversation)) ranges[0] = { ...ranges[0], from: 1 };
  return afterClear(ranges, clearedSeq);
}

/**
 * "Clear chat" (chat-settings.ts) takes everything up to `clearedSeq` out of what one person reads:
 * history, search, the list's newest message and every message lookup follow these ranges, so
 * cleared messages are gone for them everywhere and for nobody else.
 */
function afterClear(ranges: SeqRange[] | null, clearedSeq: number): SeqRange[] | null {
  if (clearedSeq <= 0) return ranges;
  if (ranges === null) return [{ from: clearedSeq + 1, to: null }];
  return ranges.filter((r) => r.to === null || r.to > clearedSeq).map((r) => ({ from: Math.max(r.from, clearedSeq + 1), to: r.to }));
}

export async function readableRanges(db: Database['db'] | Tx, { conversation, member }: Membership): Promise<SeqRange[] | null> {
  const cleared = await clearedSeq(db, member.account_id, conversation.id);
  if (conversation.kind !== 'group') return afterClear(null, cleared);
  const windows = await db
    .selectFrom('member_windows')
    .select(['from_seq', 'to_seq'])
    .where('conversation_id', '=', conversation.id)
    .where('account_id', '=', member.account_id)
    .execute();
  return rangesOf(conversation, windows, cleared);
}

/** May this account, a current member, read the message with this seq? (Its stays; see readableRanges.) */
export async function mayReadSeq(db: Database['db'] | Tx, options: { conversationId: string; accountId: string; seq: number }): Promise<boolean> {
  const conversation = await db.selectFrom('conversations').selectAll().where('id', '=', options.conversationId).executeTakeFirst();
  const member = await db
    .selectFrom('members')
    .selectAll()
    .where('conversation_id', '=', options.conversationId)
    .where('account_id', '=', options.accountId)
    .where('left_cursor', 'is', null)
    .executeTakeFirst();
  if (!conversation || !member) return false;
  const ranges = await readableRanges(db, { conversation: normaliseConversation(conversation), member: normaliseMember(member) });
  return inRanges(ranges, options.seq);
}

export function inRanges(ranges: SeqRange[] | null, seq: number): boolean {
  return ranges === null || ranges.some((r) => seq >= r.from && (r.to === null || seq <= r.to));
}

/** A where-clause on messages.seq for these ranges (callers handle null, "everything", themselves). */
export function seqIn(eb: ExpressionBuilder<DB, 'messages'>, ranges: SeqRange[]): Expression<SqlBool> {
  if (ranges.length === 0) return eb.lit(false);
  return eb.or(ranges.map((r) => (r.to === null ? eb('messages.seq', '>=', r.from) : eb.and([eb('messages.seq', '>=', r.from), eb('messages.seq', '<=', r.to)]))));
}

/**
 * A where-clause on a `members` query: those who may read the message at `seq`. In a group that
 * hides earlier history, only members whose stay covers it (a newcomer, or one who was out when
 * it was sent, received nothing); elsewhere every current member.
 */
export function readersOfSeq(eb: ExpressionBuilder<DB, 'members'>, conversation: ConversationsTable, seq: number): Expression<SqlBool> {
  if (conversation.kind !== 'group' || historyVisible(conversation)) return eb.lit(true);
  return eb.exists(
    eb
      .selectFrom('member_windows')
      .select('member_windows.from_seq')
      .whereRef('member_windows.conversation_id', '=', 'members.conversation_id')
      .whereRef('member_windows.account_id', '=', 'members.account_id')
      .where('member_windows.from_seq', '<=', seq)
      .where((w) => w.or([w('member_windows.to_seq', 'is', null), w('member_windows.to_seq', '>=', seq)])),
  );
}

// Bidi embeddings, overrides, isolates and marks: they reorder what follows them, so a title could
// make the text after it (a sender's name, a message) read differently from what it is.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const CONTROL = /\p{Cc}/u;
// What draws nothing: spaces, format characters, lone combining marks, and the blank letters
// (Hangul fillers, braille blank) that impersonators use for "empty" names.
const INVISIBLE = /[\p{White_Space}\p{Cf}\p{M}\p{Co}\p{Cn}\u115F\u1160\u3164\uFFA0\u2800]/gu;

/** Refuses a group or channel title that reorders text around it or shows nothing. */
export function assertValidTitle(title: string) {
  const problem = BIDI_CONTROLS.test(title)
    ? 'may not contain bidirectional control characters'
    : CONTROL.test(title)
      ? 'may not contain control characters'
      : title.replace(INVISIBLE, '') === ''
        ? 'needs at least one visible character'
        : null;
  if (problem) throw new AppError('validation_failed', `the title ${problem}`, { errors: [{ path: '/title', message: problem }] });
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
  return {
    ...c,
    created_at: Number(c.created_at),
    last_seq: Number(c.last_seq),
    member_count: Number(c.member_count),
    history_visible: c.history_visible === null || c.history_visible === undefined ? null : Number(c.history_visible),
  };
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

/**
 * Every conversation the account is a member of now (or just `only`), with what it may read
 * there (readableRanges: null for everything, else its stays in a group). Search reads through
 * this, so it finds exactly what history shows: nothing in a conversation left or removed from,
 * nothing outside a stay in a group.
 */
export async function readableConversations(db: Database['db'] | Tx, accountId: string, only?: string): Promise<{ conversationId: string; ranges: SeqRange[] | null }[]> {
  let q = db
    .selectFrom('members')
    .innerJoin('conversations', 'conversations.id', 'members.conversation_id')
    .selectAll('conversations')
    .where('members.account_id', '=', accountId)
    .where('members.left_cursor', 'is', null);
  if (only !== undefined) q = q.where('members.conversation_id', '=', only);
  const conversations = (await q.execute()).map(normaliseConversation);
  const groups = conversations.filter((c) => c.kind === 'group').map((c) => c.id);
  const windows = new Map<string, { from_seq: number; to_seq: number | null }[]>();
  for (let i = 0; i < groups.length; i += 500) {
    const rows = await db
      .selectFrom('member_windows')
      .select(['conversation_id', 'from_seq', 'to_seq'])
      .where('account_id', '=', accountId)
      .where('conversation_id', 'in', groups.slice(i, i + 500))
      .execute();
    for (const r of rows) windows.set(r.conversation_id, [...(windows.get(r.conversation_id) ?? []), r]);
  }
  const settings = await settingsOf(db, accountId, conversations.map((c) => c.id));
  return conversations.map((c) => ({ conversationId: c.id, ranges: rangesOf(c, windows.get(c.id) ?? [], settings.get(c.id)?.cleared_seq ?? 0) }));
}
