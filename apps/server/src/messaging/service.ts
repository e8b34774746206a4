/**
 * Messages: send (idempotent), history, edit, delete for everyone, reactions, forwards, read and
 * delivery receipts. A send writes one message row and one event row, whatever the audience.
 */
import type { Message, Receipts } from '@mmd/contracts';
import type { Principal } from '../accounts/service.ts';
import { assertMayPost, isAdmin, requireMember } from '../conversations/access.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { MessagesTable } from '../platform/db/schema.ts';
import type { Emit, WriteWithEvents } from '../sync/write.ts';
import { attachMedia } from '../media/attach.ts';
import { loadMessageViews, toMessage } from './views.ts';

/** Live receipt events go to direct chats and groups up to this size; larger ones ask for counts. */
export const LIVE_RECEIPTS_MAX_MEMBERS = 100;

export interface MessagingDeps {
  db: Database;
  clock: () => number;
  /** Transactions whose events reach live clients after commit. */
  write: WriteWithEvents;
}

export function createMessaging(deps: MessagingDeps) {
  const { db, clock, write } = deps;


  async function loadMessage(tx: Database['db'] | Tx, messageId: string): Promise<MessagesTable> {
    const row = await tx.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
    if (!row) throw notFound('message');
    return row;
  }

  async function single(tx: Database['db'] | Tx, row: MessagesTable): Promise<Message> {
    const [view] = await loadMessageViews(tx, [row]);
    return view!;
  }

  /** Raises the caller's watermarks and tells the conversation when receipts are live there. */
  async function advanceWatermarks(
    tx: Tx,
    emit: Emit,
    options: { conversationId: string; accountId: string; delivered: number; read: number; kind: string; memberCount: number },
  ) {
    const { conversationId, accountId } = options;
    const current = await tx
      .selectFrom('members')
      .select(['delivered_seq', 'read_seq'])
      .where('conversation_id', '=', conversationId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!current) return;
    const read = Math.max(Number(current.read_seq), options.read);
    const delivered = Math.max(Number(current.delivered_seq), options.delivered, read);
    if (read === Number(current.read_seq) && delivered === Number(current.delivered_seq)) return;
    await tx.updateTable('members').set({ read_seq: read, delivered_seq: delivered }).where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
    if (options.kind === 'direct' || (options.kind === 'group' && options.memberCount <= LIVE_RECEIPTS_MAX_MEMBERS)) {
      await emit({ type: 'receipt.updated', conversationId, data: { account_id: accountId, delivered_seq: delivered, read_seq: read }, at: clock() });
    }
  }

  const api = {
    /** The API view of one message, as its event carries it. */
    async view(executor: Database['db'] | Tx, messageId: string): Promise<Message> {
      return single(executor, await loadMessage(executor, messageId));
    },

    async send(principal: Principal, conversationId: string, input: { text?: string; replyTo?: string; forwardOf?: string; idempotencyKey?: string; media?: string[] }) {
      if (input.text === undefined && input.forwardOf === undefined && !input.media?.length) {
        throw new AppError('validation_failed', 'a message needs text, media or forward_of', { errors: [{ path: '/text', message: 'required unless media or forward_of is given' }] });
      }
      if ((input.text !== undefined || input.media?.length) && input.forwardOf !== undefined) {
        throw new AppError('validation_failed', 'a forward carries its original content; send text separately', { errors: [{ path: '/text', message: 'not allowed with forward_of' }] });
      }
      return write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayPost(membership);
        if (input.idempotencyKey) {
          const existing = await tx
            .selectFrom('messages')
            .selectAll()
            .where('conversation_id', '=', conversationId)
            .where('sender_id', '=', principal.accountId)
            .where('idempotency_key', '=', input.idempotencyKey)
            .executeTakeFirst();
          if (existing) return { message: await single(tx, existing), replayed: true };
        }
        if (input.replyTo) {
          const parent = await tx.selectFrom('messages').select(['conversation_id']).where('id', '=', input.replyTo).executeTakeFirst();
          if (!parent || parent.conversation_id !== conversationId) {
            throw new AppError('validation_failed', 'reply_to must be a message in this conversation', { errors: [{ path: '/reply_to', message: 'not in this conversation' }] });
          }
        }
        let text = input.text ?? null;
        let mediaIds = input.media ?? [];
        let forward: Pick<MessagesTable, 'forward_origin_id' | 'forward_origin_conversation_id' | 'forward_origin_sender_id' | 'forward_hops'> = {
          forward_origin_id: null,
          forward_origin_conversation_id: null,
          forward_origin_sender_id: null,
          forward_hops: 0,
        };
        if (input.forwardOf) {
          const source = await tx.selectFrom('messages').selectAll().where('id', '=', input.forwardOf).executeTakeFirst();
          if (!source) throw notFound('message to forward');
          // Only content the sender can read may be forwarded.
          await requireMember(tx, source.conversation_id, principal.accountId);
          if (source.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
          if (source.status !== 'sent') throw notFound('message to forward');
          text = source.text;
          // The forward carries the same media items: already processed and checked, never re-uploaded.
          mediaIds = (await tx.selectFrom('message_media').select('media_id').where('message_id', '=', source.id).orderBy('position').execute()).map((m) => m.media_id);
          forward = {
            forward_origin_id: source.forward_origin_id ?? source.id,
            forward_origin_conversation_id: source.forward_origin_conversation_id ?? source.conversation_id,
            forward_origin_sender_id: source.forward_origin_sender_id ?? source.sender_id,
            forward_hops: Number(source.forward_hops) + 1,
          };
        }
        const bumped = await tx
          .updateTable('conversations')
          .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
          .where('id', '=', conversationId)
          .returning('last_seq')
          .executeTakeFirstOrThrow();
        const now = clock();
        const row: MessagesTable = {
          id: newId('msg'),
          conversation_id: conversationId,
          seq: Number(bumped.last_seq),
          sender_id: principal.accountId,
          text,
          reply_to: input.replyTo ?? null,
          ...forward,
          idempotency_key: input.idempotencyKey ?? null,
          created_at: now,
          edited_at: null,
          deleted_at: null,
          status: 'sent',
        };
        await tx.insertInto('messages').values(row).execute();
        const attached = await attachMedia(tx, { messageId: row.id, mediaIds, senderId: principal.accountId, forwarded: input.forwardOf !== undefined });
        if (attached.pending) {
          // Held back until its media is ready; settlePendingMessages publishes it then.
          row.status = 'pending';
          await tx.updateTable('messages').set({ status: 'pending' }).where('id', '=', row.id).execute();
        }
        const message = toMessage(row, principal.handle, [], attached.summaries);
        if (!attached.pending) await emit({ type: 'message.created', conversationId, seq: row.seq, data: message, at: now });
        // Your own message is read by you.
        await tx
          .updateTable('members')
          .set({ read_seq: row.seq, delivered_seq: row.seq })
          .where('conversation_id', '=', conversationId)
          .where('account_id', '=', principal.accountId)
          .execute();
        return { message, replayed: false };
      });
    },

    async history(principal: Principal, conversationId: string, options: { after?: number; before?: number; limit: number }) {
      await requireMember(db.db, conversationId, principal.accountId);
      let q = db.db
        .selectFrom('messages')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        // Messages still waiting for media, or whose media failed, exist only for their sender.
        .where((eb) => eb.or([eb('status', '=', 'sent'), eb('sender_id', '=', principal.accountId)]))
        .limit(options.limit + 1);
      const ascending = options.after !== undefined;
      if (options.after !== undefined) q = q.where('seq', '>', options.after);
      if (options.before !== undefined) q = q.where('seq', '<', options.before);
      q = q.orderBy('seq', ascending ? 'asc' : 'desc');
      const rows = await q.execute();
      const hasMore = rows.length > options.limit;
      const page = rows.slice(0, options.limit);
      if (!ascending) page.reverse();
      return { messages: await loadMessageViews(db.db, page), has_more: hasMore };
    },

    async get(principal: Principal, messageId: string): Promise<Message> {
      const row = await loadMessage(db.db, messageId);
      await requireMember(db.db, row.conversation_id, principal.accountId);
      if (row.status !== 'sent' && row.sender_id !== principal.accountId) throw notFound('message');
      return single(db.db, row);
    },

    async edit(principal: Principal, messageId: string, text: string): Promise<Message> {
      return write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        await requireMember(tx, row.conversation_id, principal.accountId);
        if (row.sender_id !== principal.accountId) throw new AppError('forbidden', 'only the sender edits a message');
        if (row.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
        if (row.forward_origin_id) throw new AppError('forbidden', 'a forwarded message cannot be edited');
        const now = clock();
        await tx.updateTable('messages').set({ text, edited_at: now }).where('id', '=', messageId).execute();
        const message = await single(tx, { ...row, text, edited_at: now });
        await emit({ type: 'message.edited', conversationId: row.conversation_id, data: message, at: now });
        return message;
      });
    },

    async remove(principal: Principal, messageId: string): Promise<void> {
      await write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        const membership = await requireMember(tx, row.conversation_id, principal.accountId);
        const moderating = membership.conversation.kind !== 'direct' && isAdmin(membership.member);
        if (row.sender_id !== principal.accountId && !moderating) throw new AppError('forbidden', 'only the sender or an admin deletes a message');
        if (row.deleted_at !== null) return;
        const now = clock();
        // Delete for everyone: the content goes; the row stays so seqs and replies keep their place.
        await tx.updateTable('messages').set({ text: null, deleted_at: now }).where('id', '=', messageId).execute();
        await tx.deleteFrom('reactions').where('message_id', '=', messageId).execute();
        await emit({ type: 'message.deleted', conversationId: row.conversation_id, data: { id: row.id, conversation_id: row.conversation_id, seq: Number(row.seq), by: principal.accountId }, at: now });
      });
    },

    async react(principal: Principal, messageId: string, emoji: string, on: boolean): Promise<Message> {
      return write(async (tx, emit) => {
        const row = await loadMessage(tx, messageId);
        await requireMember(tx, row.conversation_id, principal.accountId);
        if (row.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
        const now = clock();
        let changed: boolean;
        if (on) {
          const result = await tx
            .insertInto('reactions')
            .values({ message_id: messageId, account_id: principal.accountId, emoji, created_at: now })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          changed = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
        } else {
          const result = await tx.deleteFrom('reactions').where('message_id', '=', messageId).where('account_id', '=', principal.accountId).where('emoji', '=', emoji).executeTakeFirst();
          changed = Number(result.numDeletedRows) > 0;
        }
        const message = await single(tx, row);
        if (changed) {
          await emit({
            type: 'reaction.changed',
            conversationId: row.conversation_id,
            data: { message_id: messageId, account_id: principal.accountId, emoji, action: on ? 'added' : 'removed', reactions: message.reactions },
            at: now,
          });
        }
        return message;
      });
    },

    async markRead(principal: Principal, conversationId: string, upToSeq: number) {
      return write(async (tx, emit) => {
        const { conversation } = await requireMember(tx, conversationId, principal.accountId);
        const seq = Math.min(upToSeq, conversation.last_seq);
        await advanceWatermarks(tx, emit, { conversationId, accountId: principal.accountId, delivered: seq, read: seq, kind: conversation.kind, memberCount: conversation.member_count });
        return { read_seq: seq };
      });
    },

    /**
     * A device says it holds every event up to `cursor`: the messages among them are delivered.
     * Only memberships with undelivered messages are touched.
     */
    async acknowledge(accountId: string, cursor: number) {
      await api.acknowledgeMany([{ accountId, cursor }]);
    },

    /**
     * Several devices' acknowledgements in one transaction (one fsync): a channel post to 10,000
     * online subscribers brings 10,000 acks, which one by one took seconds (bench:messaging).
     * Only memberships with undelivered messages are touched.
     */
    async acknowledgeMany(acks: { accountId: string; cursor: number }[]) {
      const work: { accountId: string; cursor: number; behind: { conversation_id: string; kind: string; member_count: number }[] }[] = [];
      for (const { accountId, cursor } of acks) {
        const behind = await db.db
          .selectFrom('members')
          .innerJoin('conversations', 'conversations.id', 'members.conversation_id')
          .select(['members.conversation_id', 'conversations.kind', 'conversations.member_count'])
          .where('members.account_id', '=', accountId)
          .where('members.left_cursor', 'is', null)
          .whereRef('members.delivered_seq', '<', 'conversations.last_seq')
          .execute();
        if (behind.length > 0) work.push({ accountId, cursor, behind });
      }
      if (work.length === 0) return;
      await write(async (tx, emit) => {
        for (const { accountId, cursor, behind } of work) {
          for (const m of behind) {
            const newest = await tx
              .selectFrom('events')
              .select('seq')
              .where('conversation_id', '=', m.conversation_id)
              .where('type', '=', 'message.created')
              .where('id', '<=', cursor)
              .orderBy('id', 'desc')
              .limit(1)
              .executeTakeFirst();
            if (!newest?.seq) continue;
            await advanceWatermarks(tx, emit, { conversationId: m.conversation_id, accountId, delivered: Number(newest.seq), read: 0, kind: m.kind, memberCount: Number(m.member_count) });
          }
        }
      });
    },

    async receipts(principal: Principal, messageId: string): Promise<Receipts> {
      const row = await loadMessage(db.db, messageId);
      const { conversation, member } = await requireMember(db.db, row.conversation_id, principal.accountId);
      if (row.sender_id !== principal.accountId && !isAdmin(member)) throw new AppError('forbidden', 'only the sender sees who received a message');
      const seq = Number(row.seq);
      const base = db.db
        .selectFrom('members')
        .where('conversation_id', '=', row.conversation_id)
        .where('left_cursor', 'is', null)
        .where('account_id', '!=', row.sender_id);
      const count = async (column?: 'delivered_seq' | 'read_seq') => {
        const q = column ? base.where(column, '>=', seq) : base;
        const r = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return Number(r.n);
      };
      const result: Receipts = { message_id: row.id, recipients: await count(), delivered: await count('delivered_seq'), read: await count('read_seq') };
      if (conversation.kind === 'direct' || conversation.member_count <= LIVE_RECEIPTS_MAX_MEMBERS) {
        const rows = await base.innerJoin('accounts', 'accounts.id', 'members.account_id').select(['accounts.id', 'accounts.handle', 'members.delivered_seq', 'members.read_seq']).execute();
        result.per_recipient = rows.map((r) => ({
          account_id: r.id,
          handle: r.handle,
          status: Number(r.read_seq) >= seq ? 'read' : Number(r.delivered_seq) >= seq ? 'delivered' : 'sent',
        }));
      }
      return result;
    },
  };
  return api;
}

export type Messaging = ReturnType<typeof createMessaging>;
