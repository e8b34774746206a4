/**
 * Direct chats, groups and channels: creating them, membership and roles. Every change appends an
 * event in the same transaction, so members' devices learn of it through the sync stream.
 */
import type { Conversation, ConversationKind, Member, MemberRole } from '@mmd/contracts';
import type { Principal } from '../accounts/service.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type Database, type Tx, isUniqueViolation } from '../platform/db/index.ts';
import type { Emit, WriteWithEvents } from '../sync/write.ts';
import type { ConversationsTable, MembersTable } from '../platform/db/schema.ts';
import { assertMayManage, isAdmin, normaliseConversation, normaliseMember, requireMember } from './access.ts';
import { loadMessageViews } from '../messaging/views.ts';

/** Telegram's supergroup limit; channels have none. */
export const MAX_GROUP_MEMBERS = 200_000;

export interface ConversationsDeps {
  db: Database;
  clock: () => number;
  /** Transactions whose events reach live clients after commit. */
  write: WriteWithEvents;
}

export function createConversations(deps: ConversationsDeps) {
  const { db, clock, write } = deps;


  function baseView(c: ConversationsTable, member: MembersTable | null): Conversation {
    return {
      id: c.id,
      kind: c.kind,
      title: c.title,
      handle: c.handle,
      created_by: c.created_by,
      created_at: Number(c.created_at),
      member_count: Number(c.member_count),
      last_seq: Number(c.last_seq),
      my_role: member && member.left_cursor === null ? member.role : null,
      read_seq: member ? Number(member.read_seq) : 0,
      unread_count: member ? Math.max(0, Number(c.last_seq) - Number(member.read_seq)) : 0,
    };
  }

  /** The other person in each of these direct chats, in one query (not one per chat). */
  async function peersOf(executor: Database['db'] | Tx, conversationIds: string[], accountId: string) {
    const peers = new Map<string, NonNullable<Conversation['peer']>>();
    for (let i = 0; i < conversationIds.length; i += 500) {
      const rows = await executor
        .selectFrom('members')
        .innerJoin('accounts', 'accounts.id', 'members.account_id')
        .select(['members.conversation_id', 'accounts.id', 'accounts.handle', 'members.delivered_seq', 'members.read_seq'])
        .where('members.conversation_id', 'in', conversationIds.slice(i, i + 500))
        .where('members.account_id', '!=', accountId)
        .execute();
      for (const r of rows) {
        peers.set(r.conversation_id, { account_id: r.id, handle: r.handle, delivered_seq: Number(r.delivered_seq), read_seq: Number(r.read_seq) });
      }
    }
    return peers;
  }

  async function view(c: ConversationsTable, member: MembersTable | null, executor: Database['db'] | Tx = db.db): Promise<Conversation> {
    const conversation = baseView(c, member);
    if (c.kind === 'direct' && member) {
      const peer = (await peersOf(executor, [c.id], member.account_id)).get(c.id);
      if (peer) conversation.peer = peer;
    }
    return conversation;
  }

  async function resolveHandles(tx: Tx, handles: string[]) {
    if (handles.length === 0) return [];
    const keys = handles.map((h) => h.toLowerCase());
    const rows = await tx.selectFrom('accounts').select(['id', 'handle', 'handle_key']).where('handle_key', 'in', keys).execute();
    const found = new Set(rows.map((r) => r.handle_key));
    const missing = handles.filter((h) => !found.has(h.toLowerCase()));
    if (missing.length > 0) throw new AppError('not_found', `no account with handle ${missing.map((h) => `"${h}"`).join(', ')}`);
    return rows;
  }

  const api = {
    async create(principal: Principal, input: { kind: ConversationKind; members?: string[]; title?: string; handle?: string }) {
      const now = clock();
      if (input.kind === 'direct') {
        if (input.title || input.handle) throw new AppError('validation_failed', 'direct chats take no title or handle');
        if (input.members?.length !== 1) throw new AppError('validation_failed', 'a direct chat needs exactly one other member', { errors: [{ path: '/members', message: 'exactly one handle' }] });
      }
      if (input.kind === 'channel' && !input.handle) {
        throw new AppError('validation_failed', 'a channel needs a public handle', { errors: [{ path: '/handle', message: 'required for channels' }] });
      }
      if (input.kind === 'group' && input.handle) throw new AppError('validation_failed', 'groups have no public handle; use a channel');
      return write(async (tx, emit) => {
        const others = (await resolveHandles(tx, input.members ?? [])).filter((r) => r.id !== principal.accountId);
        let directKey: string | null = null;
        if (input.kind === 'direct') {
          const peer = others[0];
          if (!peer) throw new AppError('validation_failed', 'a direct chat needs another account than yours');
          directKey = [principal.accountId, peer.id].sort().join(':');
          const existing = await tx.selectFrom('conversations').selectAll().where('direct_key', '=', directKey).executeTakeFirst();
          if (existing) {
            const me = await tx.selectFrom('members').selectAll().where('conversation_id', '=', existing.id).where('account_id', '=', principal.accountId).executeTakeFirst();
            return { conversation: await view(normaliseConversation(existing), me ? normaliseMember(me) : null, tx), created: false };
          }
        }
        const row: ConversationsTable = {
          id: newId('cnv'),
          kind: input.kind,
          title: input.title ?? null,
          handle: input.handle ?? null,
          handle_key: input.handle?.toLowerCase() ?? null,
          direct_key: directKey,
          created_by: principal.accountId,
          created_at: now,
          last_seq: 0,
          member_count: others.length + 1,
        };
        try {
          await tx.insertInto('conversations').values(row).execute();
        } catch (err) {
          if (isUniqueViolation(err)) throw new AppError('handle_taken', `the handle "${input.handle}" is taken`);
          throw err;
        }
        const memberIds = [principal.accountId, ...others.map((o) => o.id)];
        const event = await emit({
          type: 'conversation.created',
          conversationId: row.id,
          data: { conversation: { id: row.id, kind: row.kind, title: row.title, handle: row.handle, created_by: row.created_by, created_at: now }, member_ids: memberIds },
          at: now,
        });
        const rows: MembersTable[] = memberIds.map((accountId) => ({
          conversation_id: row.id,
          account_id: accountId,
          role: accountId === principal.accountId && input.kind !== 'direct' ? 'owner' : 'member',
          joined_at: now,
          joined_cursor: event.id,
          left_cursor: null,
          delivered_seq: 0,
          read_seq: 0,
        }));
        for (let i = 0; i < rows.length; i += 500) await tx.insertInto('members').values(rows.slice(i, i + 500)).execute();
        return { conversation: await viewIn(tx, row, rows[0]!), created: true };
      });

      async function viewIn(tx: Tx, c: ConversationsTable, me: MembersTable) {
        // Inside the transaction the peer row is not visible to other connections yet (PostgreSQL),
        // so build the direct-chat peer from the transaction.
        const conversation = await view(c, null, tx);
        conversation.my_role = me.role;
        if (c.kind === 'direct') {
          const peer = await tx
            .selectFrom('members')
            .innerJoin('accounts', 'accounts.id', 'members.account_id')
            .select(['accounts.id', 'accounts.handle'])
            .where('members.conversation_id', '=', c.id)
            .where('members.account_id', '!=', me.account_id)
            .executeTakeFirstOrThrow();
          conversation.peer = { account_id: peer.id, handle: peer.handle, delivered_seq: 0, read_seq: 0 };
        }
        return conversation;
      }
    },

    async get(principal: Principal, conversationId: string): Promise<Conversation> {
      const { conversation, member } = await requireMember(db.db, conversationId, principal.accountId);
      const v = await view(conversation, member);
      v.last_message = (await lastMessages(db, [conversation.id])).get(conversation.id) ?? null;
      return v;
    },

    async list(principal: Principal): Promise<Conversation[]> {
      const rows = await db.db
        .selectFrom('members')
        .innerJoin('conversations', 'conversations.id', 'members.conversation_id')
        .selectAll('conversations')
        .select(['members.role as my_role', 'members.read_seq as my_read_seq', 'members.delivered_seq as my_delivered_seq', 'members.account_id as my_account_id', 'members.joined_at as my_joined_at', 'members.joined_cursor as my_joined_cursor'])
        .where('members.account_id', '=', principal.accountId)
        .where('members.left_cursor', 'is', null)
        .execute();
      const last = await lastMessages(db, rows.map((r) => r.id));
      const peers = await peersOf(db.db, rows.filter((r) => r.kind === 'direct').map((r) => r.id), principal.accountId);
      const views: Conversation[] = [];
      for (const r of rows) {
        const v = baseView(normaliseConversation(r), {
          conversation_id: r.id,
          account_id: r.my_account_id,
          role: r.my_role,
          joined_at: Number(r.my_joined_at),
          joined_cursor: Number(r.my_joined_cursor),
          left_cursor: null,
          delivered_seq: Number(r.my_delivered_seq),
          read_seq: Number(r.my_read_seq),
        });
        const peer = peers.get(r.id);
        if (peer) v.peer = peer;
        v.last_message = last.get(r.id) ?? null;
        views.push(v);
      }
      // Most recently active first, as every messenger lists them.
      const activity = (c: Conversation) => (c.last_message as { created_at?: number } | null)?.created_at ?? c.created_at;
      return views.sort((a, b) => activity(b) - activity(a));
    },

    async findChannel(handle: string) {
      const row = await db.db.selectFrom('conversations').selectAll().where('handle_key', '=', handle.toLowerCase()).executeTakeFirst();
      if (!row) throw notFound('channel');
      return view(normaliseConversation(row), null);
    },

    async listMembers(principal: Principal, conversationId: string, options: { after?: string; limit: number }) {
      await requireMember(db.db, conversationId, principal.accountId);
      let q = db.db
        .selectFrom('members')
        .innerJoin('accounts', 'accounts.id', 'members.account_id')
        .select(['accounts.id', 'accounts.handle', 'members.role', 'members.joined_at'])
        .where('members.conversation_id', '=', conversationId)
        .where('members.left_cursor', 'is', null)
        .orderBy('accounts.id')
        .limit(options.limit + 1);
      if (options.after) q = q.where('accounts.id', '>', options.after);
      const rows = await q.execute();
      const page = rows.slice(0, options.limit);
      const members: Member[] = page.map((r) => ({ account_id: r.id, handle: r.handle, role: r.role, joined_at: Number(r.joined_at) }));
      return { members, next: rows.length > options.limit ? (page.at(-1)?.id ?? null) : null };
    },

    async addMember(principal: Principal, conversationId: string, handle: string) {
      return write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const [target] = await resolveHandles(tx, [handle]);
        return join(tx, emit, membership.conversation, target!, principal.accountId);
      });
    },

    async join(principal: Principal, conversationId: string): Promise<Conversation> {
      await write(async (tx, emit) => {
        const row = await tx.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirst();
        if (!row) throw notFound('conversation');
        if (row.kind !== 'channel') throw new AppError('forbidden', 'only channels can be joined freely; ask a group admin to add you');
        const existing = await tx.selectFrom('members').selectAll().where('conversation_id', '=', conversationId).where('account_id', '=', principal.accountId).where('left_cursor', 'is', null).executeTakeFirst();
        if (existing) return;
        await join(tx, emit, normaliseConversation(row), { id: principal.accountId, handle: principal.handle }, principal.accountId);
      });
      return api.get(principal, conversationId);
    },

    async removeMember(principal: Principal, conversationId: string, accountId: string) {
      await write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        const leaving = accountId === principal.accountId;
        if (membership.conversation.kind === 'direct') throw new AppError('forbidden', 'you cannot leave or remove anyone from a direct chat');
        const target = await tx.selectFrom('members').selectAll().where('conversation_id', '=', conversationId).where('account_id', '=', accountId).where('left_cursor', 'is', null).executeTakeFirst();
        if (!target) throw notFound('member');
        if (!leaving) {
          assertMayManage(membership);
          if (target.role === 'owner') throw new AppError('forbidden', 'the owner cannot be removed');
          if (target.role === 'admin' && membership.member.role !== 'owner') throw new AppError('forbidden', 'only the owner removes admins');
        }
        const now = clock();
        const event = await emit({ type: 'member.removed', conversationId, data: { account_id: accountId, by: principal.accountId, left: leaving }, at: now });
        await tx.updateTable('members').set({ left_cursor: event.id }).where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
        await tx.updateTable('conversations').set((eb) => ({ member_count: eb('member_count', '-', 1) })).where('id', '=', conversationId).execute();
      });
    },

    async setRole(principal: Principal, conversationId: string, accountId: string, role: Exclude<MemberRole, 'owner'>) {
      await write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const target = await tx.selectFrom('members').selectAll().where('conversation_id', '=', conversationId).where('account_id', '=', accountId).where('left_cursor', 'is', null).executeTakeFirst();
        if (!target) throw notFound('member');
        if (target.role === 'owner') throw new AppError('forbidden', "the owner's role cannot change");
        if (target.role === 'admin' && role === 'member' && membership.member.role !== 'owner') throw new AppError('forbidden', 'only the owner demotes admins');
        if (target.role === role) return;
        await tx.updateTable('members').set({ role }).where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
        await emit({ type: 'member.role_changed', conversationId, data: { account_id: accountId, role, by: principal.accountId }, at: clock() });
      });
    },
  };
  return api;

  async function join(
    tx: Tx,
    emit: Emit,
    conversation: ConversationsTable,
    account: { id: string; handle: string },
    by: string,
  ): Promise<Member> {
    const existing = await tx.selectFrom('members').selectAll().where('conversation_id', '=', conversation.id).where('account_id', '=', account.id).executeTakeFirst();
    if (existing && existing.left_cursor === null) throw new AppError('already_member', `@${account.handle} is already a member`);
    if (conversation.kind === 'group' && conversation.member_count >= MAX_GROUP_MEMBERS) {
      throw new AppError('limit_reached', `a group holds at most ${MAX_GROUP_MEMBERS} members`);
    }
    const now = clock();
    const event = await emit({ type: 'member.joined', conversationId: conversation.id, data: { account_id: account.id, handle: account.handle, role: 'member', by }, at: now });
    // A member who left and comes back sees events from the new join on.
    const row: MembersTable = {
      conversation_id: conversation.id,
      account_id: account.id,
      role: 'member',
      joined_at: now,
      joined_cursor: event.id,
      left_cursor: null,
      delivered_seq: conversation.last_seq,
      read_seq: conversation.last_seq,
    };
    if (existing) {
      await tx.updateTable('members').set(row).where('conversation_id', '=', conversation.id).where('account_id', '=', account.id).execute();
    } else {
      await tx.insertInto('members').values(row).execute();
    }
    await tx.updateTable('conversations').set((eb) => ({ member_count: eb('member_count', '+', 1) })).where('id', '=', conversation.id).execute();
    return { account_id: account.id, handle: account.handle, role: 'member', joined_at: now };
  }
}

async function lastMessages(db: Database, conversationIds: string[]) {
  const result = new Map<string, unknown>();
  if (conversationIds.length === 0) return result;
  const rows = [];
  for (let i = 0; i < conversationIds.length; i += 500) {
    const chunk = conversationIds.slice(i, i + 500);
    rows.push(
      ...(await db.db
        .selectFrom('messages')
        .innerJoin('conversations', (j) => j.onRef('conversations.id', '=', 'messages.conversation_id').onRef('conversations.last_seq', '=', 'messages.seq'))
        .selectAll('messages')
        .where('messages.conversation_id', 'in', chunk)
        .execute()),
    );
  }
  for (const view of await loadMessageViews(db.db, rows)) result.set(view.conversation_id, view);
  return result;
}

export type Conversations = ReturnType<typeof createConversations>;
export { isAdmin };
