/**
 * Direct chats by the batch: what a business's campaign needs to reach a few hundred people at
 * once, in the caller's transaction, with the checks and effects `create` has for one direct chat
 * (no chat with yourself, none with someone who blocked you, the peer alone told live) and a
 * handful of statements for the whole batch instead of about ten per chat.
 */
import { sql } from 'kysely';
import { blockedBy, blockersOf } from '../accounts/index.ts';
import type { Principal } from '../accounts/index.ts';
import { newId } from '../lib/ids.ts';
import { type Tx, prepared } from '../platform/db/index.ts';
import { type Emit, emitAll } from '../sync/index.ts';
import type { ConversationsTable, MembersTable } from './schema.ts';
import { directChatIds } from './lookup.ts';

/** Rows written by one statement: well under both databases' parameter limits. */
const ROWS_PER_STATEMENT = 250;

export type OpenedChat = { ok: true; conversationId: string; created: boolean } | { ok: false; code: 'forbidden' | 'validation_failed'; message: string };

/**
 * The direct chat of `opener` with each peer: the existing one, or a new one announced to the
 * peer alone. Only a business opens chats in bulk (a bot never starts a chat with a person).
 * Peers blocked either way get no chat; the answer says so per peer.
 */
export async function openDirectChats(tx: Tx, emit: Emit, opener: Principal, peerIds: readonly string[], now: number): Promise<Map<string, OpenedChat>> {
  if (opener.kind !== 'business') throw new Error('openDirectChats: only a business opens direct chats in bulk');
  const out = new Map<string, OpenedChat>();
  const peers = [...new Set(peerIds)];
  for (const peer of peers) if (peer === opener.accountId) out.set(peer, { ok: false, code: 'validation_failed', message: 'a direct chat needs another account than yours' });
  const candidates = peers.filter((p) => p !== opener.accountId);
  const existing = await directChatIds(tx, opener.accountId, candidates);
  for (const [peer, conversationId] of existing) out.set(peer, { ok: true, conversationId, created: false });
  const missing = candidates.filter((p) => !existing.has(p));
  if (missing.length === 0) return out;
  // A new chat would appear in their list: someone who blocked you does not get one. Nor does
  // someone you blocked: the message that opens it could not be sent, and an empty chat would stay.
  const blockers = await blockersOf(tx, missing, opener.accountId);
  const blocked = await blockedBy(tx, opener.accountId, missing);
  const fresh = missing.filter((p) => !blockers.has(p) && !blocked.has(p));
  for (const p of blocked) out.set(p, { ok: false, code: 'forbidden', message: 'you blocked this account; unblock it to write' });
  for (const p of blockers) out.set(p, { ok: false, code: 'forbidden', message: 'this account does not accept messages from you' });
  if (fresh.length === 0) return out;
  const rows: ConversationsTable[] = fresh.map((peer) => ({
    id: newId('cnv', now),
    kind: 'direct',
    title: null,
    handle: null,
    handle_key: null,
    direct_key: [opener.accountId, peer].sort().join(':'),
    created_by: opener.accountId,
    created_at: now,
    last_seq: 0,
    member_count: 2,
    history_visible: null,
  }));
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await tx.insertInto('conversations').values(rows.slice(i, i + ROWS_PER_STATEMENT)).execute();
  const events = await emitAll(
    emit,
    rows.map((row, i) => ({
      type: 'conversation.created' as const,
      conversationId: row.id,
      // The business's devices and its team's browsers are not told of each chat a campaign opens.
      targetAccountId: fresh[i]!,
      data: { conversation: { id: row.id, kind: row.kind, title: null, handle: null, created_by: row.created_by, created_at: now }, member_ids: [opener.accountId, fresh[i]!] },
      at: now,
    })),
  );
  const members: MembersTable[] = rows.flatMap((row, i) =>
    [opener.accountId, fresh[i]!].map((accountId) => ({
      conversation_id: row.id,
      account_id: accountId,
      role: 'member',
      joined_at: now,
      joined_cursor: events[i]!.id,
      left_cursor: null,
      delivered_seq: 0,
      read_seq: 0,
    })),
  );
  for (let i = 0; i < members.length; i += ROWS_PER_STATEMENT) await tx.insertInto('members').values(members.slice(i, i + ROWS_PER_STATEMENT)).execute();
  for (const [i, row] of rows.entries()) out.set(fresh[i]!, { ok: true, conversationId: row.id, created: true });
  return out;
}

/**
 * Sequence numbers for one new message in each of these conversations (each at most once), in
 * one statement per 250: the conversation's `last_seq` moves on by one, as `nextSeq` does.
 */
export async function nextSeqs(tx: Tx, conversationIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < conversationIds.length; i += ROWS_PER_STATEMENT) {
    const part = conversationIds.slice(i, i + ROWS_PER_STATEMENT);
    const rows = await tx
      .updateTable('conversations')
      .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
      .where('id', 'in', part)
      .returning(['id', 'last_seq'])
      .execute();
    for (const r of rows) out.set(r.id, Number(r.last_seq));
  }
  return out;
}

/**
 * Of these direct chats, those where `accountId` is a current member, with the peer's id: the
 * chats a sender may write in (anyone in a direct chat may post).
 */
export async function directChatsOf(tx: Tx, accountId: string, conversationIds: readonly string[]): Promise<Map<string, { peerId: string }>> {
  const out = new Map<string, { peerId: string }>();
  for (let i = 0; i < conversationIds.length; i += ROWS_PER_STATEMENT) {
    const part = conversationIds.slice(i, i + ROWS_PER_STATEMENT);
    const rows = await tx
      .selectFrom('conversations')
      .innerJoin('members', 'members.conversation_id', 'conversations.id')
      .select(['conversations.id', 'conversations.direct_key'])
      .where('conversations.id', 'in', part)
      .where('conversations.kind', '=', 'direct')
      .where('members.account_id', '=', accountId)
      .where('members.left_cursor', 'is', null)
      .execute();
    for (const r of rows) {
      const peerId = r.direct_key?.split(':').find((id) => id !== accountId);
      if (peerId) out.set(r.id, { peerId });
    }
  }
  return out;
}

const markOwnOne = prepared((db, p: { accountId: string; conversationId: string; seq: number }) =>
  db.updateTable('members').set({ delivered_seq: p.seq, read_seq: p.seq }).where('account_id', '=', p.accountId).where('conversation_id', '=', p.conversationId),
);

/** Raises one member's delivered and read marks to `seq` in each conversation (its own new message there). */
export async function markOwnMessages(tx: Tx, accountId: string, seqs: ReadonlyMap<string, number>): Promise<void> {
  const entries = [...seqs];
  if (entries.length === 1) {
    // One message (every send): a statement prepared once.
    const [[conversationId, seq]] = entries as [[string, number]];
    await markOwnOne(tx, { accountId, conversationId, seq });
    return;
  }
  for (let i = 0; i < entries.length; i += ROWS_PER_STATEMENT) {
    const part = entries.slice(i, i + ROWS_PER_STATEMENT);
    const cases = sql.join(
      part.map(([id, seq]) => sql`when ${id} then cast(${seq} as bigint)`),
      sql` `,
    );
    // Never lowered: a seq just taken is the conversation's newest, above any mark.
    await tx
      .updateTable('members')
      .set({ delivered_seq: sql<number>`case conversation_id ${cases} else delivered_seq end`, read_seq: sql<number>`case conversation_id ${cases} else read_seq end` })
      .where('account_id', '=', accountId)
      .where(
        'conversation_id',
        'in',
        part.map(([id]) => id),
      )
      .execute();
  }
}
