/**
 * Pinned messages (a bar at the top of a chat, for every member: admins pin in groups and
 * channels, either person in a direct chat) and starred messages (one person's own list). Both
 * show only what the caller may read now: their stays, not deleted, not deleted for them, not
 * cleared.
 */
import { MAX_PINNED_MESSAGES, type Message, type PinnedMessage } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { inRanges, isAdmin, readableConversations, readableRanges, requireMember } from '../conversations/index.ts';
import { AppError } from '../errors.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { hiddenAmong } from './hides.ts';
import type { MessagesTable } from './schema.ts';
import { audienceOf, loadMessageViews } from './views.ts';

export interface PinsDeps {
  db: Database;
  clock: () => number;
  write: WriteWithEvents;
  /** The message row if the caller may read it, else 404 (messaging's `readable`). */
  readable: (principal: Principal, messageId: string) => Promise<MessagesTable>;
}

/** Starred messages listed at most (newest first). */
export const MAX_STARRED_LISTED = 500;

export function createPins(deps: PinsDeps) {
  const { db, clock, write, readable } = deps;

  async function views(principal: Principal, rows: MessagesTable[]): Promise<Map<string, Message>> {
    return new Map((await loadMessageViews(db.db, rows, { viewerId: principal.accountId, now: clock() })).map((m) => [m.id, m]));
  }

  /** Pins or unpins, for every member; who may: admins in groups and channels, either person in a direct chat. */
  async function setPinned(principal: Principal, messageId: string, pinned: boolean) {
    const row = await readable(principal, messageId);
    await write(async (tx, emit) => {
      const membership = await requireMember(tx, row.conversation_id, principal.accountId);
      if (membership.conversation.kind !== 'direct' && !isAdmin(membership.member)) throw new AppError('forbidden', 'only admins pin messages here');
      if (pinned) {
        if (row.status !== 'sent') throw new AppError('conflict', 'this message is not delivered yet');
        if (row.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
        const existing = await tx.selectFrom('pinned_messages').select('message_id').where('conversation_id', '=', row.conversation_id).execute();
        if (existing.some((p) => p.message_id === messageId)) return;
        if (existing.length >= MAX_PINNED_MESSAGES) throw new AppError('limit_reached', `a chat holds at most ${MAX_PINNED_MESSAGES} pinned messages; unpin one first`);
        await tx.insertInto('pinned_messages').values({ conversation_id: row.conversation_id, message_id: messageId, pinned_by: principal.accountId, pinned_at: clock() }).execute();
      } else {
        const removed = await tx.deleteFrom('pinned_messages').where('conversation_id', '=', row.conversation_id).where('message_id', '=', messageId).executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) return;
      }
      // To whoever may read the message (in a group hiding history: those there when it was sent).
      // In a channel its admins act as the channel: subscribers never learn which admin pinned.
      const by = membership.conversation.kind === 'channel' ? row.conversation_id : principal.accountId;
      await emit({ type: 'message.pinned', conversationId: row.conversation_id, membersJoinedBy: audienceOf(row), data: { conversation_id: row.conversation_id, message_id: messageId, pinned, by }, at: clock() });
    });
  }

  async function setStarred(principal: Principal, messageId: string, starred: boolean) {
    const row = await readable(principal, messageId);
    await write(async (tx, emit) => {
      if (starred) {
        const inserted = await tx
          .insertInto('starred_messages')
          .values({ account_id: principal.accountId, message_id: messageId, conversation_id: row.conversation_id, starred_at: clock() })
          .onConflict((oc) => oc.columns(['account_id', 'message_id']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return;
      } else {
        const removed = await tx.deleteFrom('starred_messages').where('account_id', '=', principal.accountId).where('message_id', '=', messageId).executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) return;
      }
      // To the person alone: nobody else learns what they starred.
      await emit({ type: 'message.starred', conversationId: null, targetAccountId: principal.accountId, data: { conversation_id: row.conversation_id, message_id: messageId, starred }, at: clock() });
    });
  }

  return {
    pin: (principal: Principal, messageId: string) => setPinned(principal, messageId, true),
    unpin: (principal: Principal, messageId: string) => setPinned(principal, messageId, false),
    star: (principal: Principal, messageId: string) => setStarred(principal, messageId, true),
    unstar: (principal: Principal, messageId: string) => setStarred(principal, messageId, false),

    /** A chat's pinned messages the caller may read, newest pin first. */
    async pins(principal: Principal, conversationId: string): Promise<PinnedMessage[]> {
      const membership = await requireMember(db.db, conversationId, principal.accountId);
      const ranges = await readableRanges(db.db, membership);
      const pins = await db.db.selectFrom('pinned_messages').selectAll().where('conversation_id', '=', conversationId).orderBy('pinned_at', 'desc').execute();
      if (pins.length === 0) return [];
      const rows = await db.db.selectFrom('messages').selectAll().where('id', 'in', pins.map((p) => p.message_id)).where('deleted_at', 'is', null).where('status', '=', 'sent').execute();
      const hidden = await hiddenAmong(db.db, principal.accountId, rows.map((r) => r.id));
      const shown = rows.filter((r) => inRanges(ranges, Number(r.seq)) && !hidden.has(r.id));
      const byId = await views(principal, shown);
      return pins.flatMap((p) => {
        const message = byId.get(p.message_id);
        // A channel's pins are the channel's (see setPinned).
        return message ? [{ message, pinned_by: membership.conversation.kind === 'channel' ? conversationId : p.pinned_by, pinned_at: Number(p.pinned_at) }] : [];
      });
    },

    /** The caller's starred messages they may still read, newest star first. */
    async starred(principal: Principal): Promise<{ message: Message; starred_at: number }[]> {
      const stars = await db.db.selectFrom('starred_messages').selectAll().where('account_id', '=', principal.accountId).orderBy('starred_at', 'desc').limit(MAX_STARRED_LISTED).execute();
      if (stars.length === 0) return [];
      const ranges = new Map((await readableConversations(db.db, principal.accountId)).map((c) => [c.conversationId, c.ranges]));
      const rows = await db.db.selectFrom('messages').selectAll().where('id', 'in', stars.map((s) => s.message_id)).where('deleted_at', 'is', null).where('status', '=', 'sent').execute();
      const hidden = await hiddenAmong(db.db, principal.accountId, rows.map((r) => r.id));
      // Only chats they are still in, inside their stays, not deleted for them.
      const shown = rows.filter((r) => ranges.has(r.conversation_id) && inRanges(ranges.get(r.conversation_id) ?? null, Number(r.seq)) && !hidden.has(r.id));
      const byId = await views(principal, shown);
      return stars.flatMap((s) => {
        const message = byId.get(s.message_id);
        return message ? [{ message, starred_at: Number(s.starred_at) }] : [];
      });
    },
  };
}

export type Pins = ReturnType<typeof createPins>;
