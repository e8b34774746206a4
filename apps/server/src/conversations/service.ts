/**
 * Direct chats, groups and channels: creating them, membership and roles. Every change appends an
 * event in the same transaction, so members' devices learn of it through the sync stream.
 */
import type { ChatSettings, Conversation, ConversationKind, Invitation, InvitedReply, Member, MemberRole } from '@mmd/contracts';
import { addPolicies, blockersOf, hasBlocked, privacySettingsOf } from '../accounts/index.ts';
import { claimHandle } from '../accounts/index.ts';
import type { Principal } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { type Database, type Tx, isUniqueViolation } from '../platform/db/index.ts';
import type { Emit, WriteWithEvents } from '../sync/index.ts';
import type { ConversationsTable, MembersTable } from './schema.ts';
import { type SeqRange, assertMayManage, assertValidTitle, historyVisible, inRanges, isAdmin, normaliseConversation, normaliseMember, rangesOf, readableRanges, requireMember } from './access.ts';
import { hiddenAmong, loadMessageViews, newestShown, unreadMentionCounts } from '../messaging/index.ts';
import type { MessagesTable } from '../messaging/index.ts';
import { seqIn } from './access.ts';
import { settingsOf } from './chat-settings.ts';

/** Adds how the caller keeps the chat; what they cleared is neither shown nor counted unread. */
function withSettings(v: Conversation, settings: ChatSettings) {
  v.settings = settings;
  v.unread_count = Math.max(0, v.last_seq - Math.max(v.read_seq, settings.cleared_seq));
}

/** Deleting a group writes one event per member: beyond this, the owner removes members first. */
export const MAX_DELETABLE_GROUP_MEMBERS = 1000;

/** Telegram's supergroup limit; channels have none. */
export const MAX_GROUP_MEMBERS = 200_000;

export interface ConversationsDeps {
  db: Database;
  clock: () => number;
  /** Transactions whose events reach live clients after commit. */
  write: WriteWithEvents;
}

/** How long an invitation stays open (WhatsApp's group invitations last 72 hours; a week is kinder). */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export function createConversations(deps: ConversationsDeps) {
  const { db, clock, write } = deps;

  /** Open while young enough and while its inviter is still an owner or admin of the conversation. */
  async function stillValid(tx: Tx, invitation: { conversation_id: string; invited_by: string; created_at: number }): Promise<boolean> {
    if (Number(invitation.created_at) <= clock() - INVITATION_TTL_MS) return false;
    const inviter = await tx
      .selectFrom('members')
      .select('role')
      .where('conversation_id', '=', invitation.conversation_id)
      .where('account_id', '=', invitation.invited_by)
      .where('left_cursor', 'is', null)
      .executeTakeFirst();
    return inviter?.role === 'owner' || inviter?.role === 'admin';
  }


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
      history_visible: historyVisible(c),
      my_role: member && member.left_cursor === null ? member.role : null,
      read_seq: member ? Number(member.read_seq) : 0,
      unread_count: member ? Math.max(0, Number(c.last_seq) - Number(member.read_seq)) : 0,
      unread_mentions: 0,
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
    // Read receipts off on either side: the peer's reads are not shown (read_seq 0), delivery still is.
    const settings = await privacySettingsOf(executor, [accountId, ...new Set([...peers.values()].map((p) => p.account_id))]);
    const mine = settings.get(accountId)!.read_receipts;
    for (const peer of peers.values()) if (!mine || !settings.get(peer.account_id)!.read_receipts) peer.read_seq = 0;
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
    const rows = await tx.selectFrom('accounts').select(['id', 'handle', 'handle_key', 'kind']).where('handle_key', 'in', keys).execute();
    const found = new Set(rows.map((r) => r.handle_key));
    const missing = handles.filter((h) => !found.has(h.toLowerCase()));
    if (missing.length > 0) throw new AppError('not_found', `no account with handle ${missing.map((h) => `"${h}"`).join(', ')}`);
    return rows;
  }

  const api = {
    async create(
      principal: Principal,
      input: {
        kind: ConversationKind;
        members?: string[];
        title?: string;
        handle?: string;
      },
    ) {
      const now = clock();
      if (input.kind === 'direct') {
        if (input.title || input.handle) throw new AppError('validation_failed', 'direct chats take no title or handle');
        if (input.members?.length !== 1) throw new AppError('validation_failed', 'a direct chat needs exactly one other member', { errors: [{ path: '/members', message: 'exactly one handle' }] });
      }
      if (input.kind === 'channel' && !input.handle) {
        throw new AppError('validation_failed', 'a channel needs a public handle', { errors: [{ path: '/handle', message: 'required for channels' }] });
      }
      if (input.kind === 'group' && input.handle) throw new AppError('validation_failed', 'groups have no public handle; use a channel');
      if (input.title !== undefined) assertValidTitle(input.title);
      const body = async (tx: Tx, emit: Emit) => {
        const named = (await resolveHandles(tx, input.members ?? [])).filter((r) => r.id !== principal.accountId);
        let others: { id: string; handle: string }[] = named;
        let invitees: { id: string; handle: string }[] = [];
        let directKey: string | null = null;
        if (input.kind === 'direct') {
          const peer = named[0];
          if (!peer) throw new AppError('validation_failed', 'a direct chat needs another account than yours');
          directKey = [principal.accountId, peer.id].sort().join(':');
          const existing = await tx.selectFrom('conversations').selectAll().where('direct_key', '=', directKey).executeTakeFirst();
          if (existing) {
            const me = await tx.selectFrom('members').selectAll().where('conversation_id', '=', existing.id).where('account_id', '=', principal.accountId).executeTakeFirst();
            return { conversation: await view(normaliseConversation(existing), me ? normaliseMember(me) : null, tx), created: false };
          }
          // Bots answer; they do not knock. A person opens the chat with a bot (by its handle), never
          // the reverse: otherwise anyone could make a bot and message strangers in bulk.
          if (principal.kind === 'bot' && peer.kind === 'person') throw new AppError('forbidden', 'a bot cannot start a chat with a person; people open a chat with the bot by its handle');
          // A new chat would appear in their list: someone who blocked you does not get one.
          if (await hasBlocked(tx, peer.id, principal.accountId)) throw new AppError('forbidden', 'this account does not accept messages from you');
        } else {
          if (principal.kind === 'bot' && named.some((n) => n.kind === 'person')) throw new AppError('forbidden', 'a bot cannot add people to conversations; people add the bot');
          const consent = await sortByConsent(tx, named, principal.accountId);
          others = consent.adding;
          invitees = consent.inviting;
        }
        const row: ConversationsTable = {
          id: newId('cnv', now),
          kind: input.kind,
          title: input.title ?? null,
          handle: input.handle ?? null,
          handle_key: input.handle?.toLowerCase() ?? null,
          direct_key: directKey,
          created_by: principal.accountId,
          created_at: now,
          last_seq: 0,
          member_count: others.length + 1,
          history_visible: null,
        };
        // People and channels share one namespace: a channel cannot take @bob, nor @b0b.
        if (row.handle) await claimHandle(tx, row.handle, { kind: 'channel', id: row.id }, now);
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
        if (row.kind === 'group') {
          const windows = memberIds.map((accountId) => ({ conversation_id: row.id, account_id: accountId, from_seq: 1, to_seq: null }));
          for (let i = 0; i < windows.length; i += 500) await tx.insertInto('member_windows').values(windows.slice(i, i + 500)).execute();
        }
        for (const invitee of invitees) await invite(tx, emit, row, invitee, principal);
        const conversation = await viewIn(tx, row, rows[0]!);
        // Handles invited instead of added — including anyone who blocked the creator, who gets
        // nothing at all, but whose block the creator must not be able to tell from a refusal.
        const invited = new Set(named.filter((n) => !others.includes(n)).map((n) => n.id));
        if (invited.size > 0) conversation.invited = named.filter((n) => invited.has(n.id)).map((n) => n.handle);
        return { conversation, created: true };
      };
      return write(body);

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
      const membership = await requireMember(db.db, conversationId, principal.accountId);
      const v = await view(membership.conversation, membership.member);
      const ranges = new Map([[conversationId, await readableRanges(db.db, membership)]]);
      v.last_message = (await lastMessages(db, ranges, principal.accountId)).get(conversationId) ?? null;
      withSettings(v, (await settingsOf(db.db, principal.accountId, [conversationId])).get(conversationId)!);
      if (v.kind === 'group') {
        v.unread_mentions = (await unreadMentionCounts(db.db, principal.accountId, new Map([[conversationId, { readSeq: v.read_seq, ranges: ranges.get(conversationId)! }]]))).get(conversationId) ?? 0;
      }
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
      const groups = rows.filter((r) => r.kind === 'group');
      const windows = new Map<string, { from_seq: number; to_seq: number | null }[]>();
      for (let i = 0; i < groups.length; i += 500) {
        const found = await db.db
          .selectFrom('member_windows')
          .select(['conversation_id', 'from_seq', 'to_seq'])
          .where('account_id', '=', principal.accountId)
          .where('conversation_id', 'in', groups.slice(i, i + 500).map((g) => g.id))
          .execute();
        for (const w of found) windows.set(w.conversation_id, [...(windows.get(w.conversation_id) ?? []), w]);
      }
      const settings = await settingsOf(db.db, principal.accountId, rows.map((r) => r.id));
      const ranges = new Map(rows.map((r) => [r.id, rangesOf(normaliseConversation(r), windows.get(r.id) ?? [], settings.get(r.id)?.cleared_seq ?? 0)]));
      const last = await lastMessages(db, ranges, principal.accountId);
      const peers = await peersOf(db.db, rows.filter((r) => r.kind === 'direct').map((r) => r.id), principal.accountId);
      const mentions = await unreadMentionCounts(db.db, principal.accountId, new Map(groups.map((g) => [g.id, { readSeq: Number(g.my_read_seq), ranges: ranges.get(g.id)! }])));
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
        v.unread_mentions = mentions.get(r.id) ?? 0;
        withSettings(v, settings.get(r.id)!);
        views.push(v);
      }
      // Pinned first (the latest pin on top), then most recently active, as every messenger lists them.
      const activity = (c: Conversation) => (c.last_message as { created_at?: number } | null)?.created_at ?? c.created_at;
      const pinned = (c: Conversation) => c.settings?.pinned_at ?? 0;
      return views.sort((a, b) => pinned(b) - pinned(a) || activity(b) - activity(a));
    },

    /** Admins rename a group or channel, or choose whether a group's newcomers read its history. */
    async update(principal: Principal, conversationId: string, input: { title?: string; history_visible?: boolean }): Promise<Conversation> {
      if (input.title !== undefined) assertValidTitle(input.title);
      return write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const { conversation } = membership;
        if (input.history_visible !== undefined && conversation.kind !== 'group') {
          throw new AppError('validation_failed', 'channels always show their history; only groups choose', { errors: [{ path: '/history_visible', message: 'groups only' }] });
        }
        const set: Partial<ConversationsTable> = {};
        if (input.title !== undefined) set.title = input.title;
        if (input.history_visible !== undefined) set.history_visible = input.history_visible ? 1 : 0;
        await tx.updateTable('conversations').set(set).where('id', '=', conversationId).execute();
        const updated = { ...conversation, ...set };
        await emit({ type: 'conversation.updated', conversationId, data: { id: conversationId, title: updated.title, history_visible: historyVisible(updated), by: principal.accountId }, at: clock() });
        return view(updated, membership.member, tx);
      });
    },

    async findChannel(handle: string) {
      const row = await db.db.selectFrom('conversations').selectAll().where('handle_key', '=', handle.toLowerCase()).executeTakeFirst();
      if (!row) throw notFound('channel');
      return view(normaliseConversation(row), null);
    },

    async listMembers(principal: Principal, conversationId: string, options: { after?: string; limit: number }) {
      const membership = await requireMember(db.db, conversationId, principal.accountId);
      // Who follows a channel is the subscribers' own business: only its admins see the list.
      if (membership.conversation.kind === 'channel' && !isAdmin(membership.member)) throw new AppError('forbidden', "only a channel's admins see its subscribers");
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
        // A bot adding people to groups would be cold messaging by another door.
        if (principal.kind === 'bot' && target!.kind === 'person') throw new AppError('forbidden', 'a bot cannot add people to conversations; people add the bot');
        const { adding, inviting } = await sortByConsent(tx, [target!], principal.accountId);
        if (adding.length === 1) return join(tx, emit, membership.conversation, target!, principal.accountId);
        for (const invitee of inviting) await invite(tx, emit, membership.conversation, invitee, principal);
        // The same answer whether they asked for invitations or blocked the caller.
        const reply: InvitedReply = { invited: true, handle: target!.handle };
        return reply;
      });
    },

    /** Your open invitations, newest first. */
    async invitations(principal: Principal): Promise<Invitation[]> {
      const rows = await db.db
        .selectFrom('invitations')
        .innerJoin('conversations', 'conversations.id', 'invitations.conversation_id')
        .innerJoin('accounts', 'accounts.id', 'invitations.invited_by')
        .select([
          'invitations.id',
          'invitations.created_at',
          'conversations.id as conversation_id',
          'conversations.kind',
          'conversations.title',
          'conversations.handle',
          'conversations.member_count',
          'accounts.id as inviter_id',
          'accounts.handle as inviter_handle',
        ])
        .where('invitations.account_id', '=', principal.accountId)
        .where('invitations.created_at', '>', clock() - INVITATION_TTL_MS)
        // Only while the inviter may still add people: an invitation dies with its inviter's rights.
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('members')
              .select('members.account_id')
              .whereRef('members.conversation_id', '=', 'invitations.conversation_id')
              .whereRef('members.account_id', '=', 'invitations.invited_by')
              .where('members.left_cursor', 'is', null)
              .where('members.role', 'in', ['owner', 'admin']),
          ),
        )
        .orderBy('invitations.created_at', 'desc')
        .limit(1000)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        conversation: { id: r.conversation_id, kind: r.kind === 'channel' ? 'channel' : 'group', title: r.title, handle: r.handle, member_count: Number(r.member_count) },
        invited_by: { account_id: r.inviter_id, handle: r.inviter_handle },
        created_at: Number(r.created_at),
      }));
    },

    /** Accepting joins the conversation (from now on, as any new member); declining forgets it. */
    async answerInvitation(principal: Principal, invitationId: string, accept: boolean): Promise<Conversation | null> {
      const conversationId = await write(async (tx, emit) => {
        const invitation = await tx.selectFrom('invitations').selectAll().where('id', '=', invitationId).where('account_id', '=', principal.accountId).executeTakeFirst();
        // Someone else's invitation and an unknown id look the same.
        if (!invitation) throw notFound('invitation');
        await tx.deleteFrom('invitations').where('id', '=', invitationId).execute();
        if (accept && !(await stillValid(tx, invitation))) {
          // Gone, not unknown: the invitee saw it, so say why it no longer opens anything.
          await emit({ type: 'invitation.closed', conversationId: null, targetAccountId: principal.accountId, data: { id: invitationId, accepted: false }, at: clock() });
          return { expired: true as const };
        }
        if (accept) {
          const row = await tx.selectFrom('conversations').selectAll().where('id', '=', invitation.conversation_id).executeTakeFirstOrThrow();
          const current = await tx.selectFrom('members').select('role').where('conversation_id', '=', row.id).where('account_id', '=', principal.accountId).where('left_cursor', 'is', null).executeTakeFirst();
          if (!current) await join(tx, emit, normaliseConversation(row), { id: principal.accountId, handle: principal.handle }, invitation.invited_by);
        }
        await emit({ type: 'invitation.closed', conversationId: null, targetAccountId: principal.accountId, data: { id: invitationId, accepted: accept }, at: clock() });
        return invitation.conversation_id;
      });
      if (typeof conversationId !== 'string') {
        throw new AppError('invitation_expired', 'this invitation has expired, or whoever sent it can no longer add people');
      }
      return accept ? api.get(principal, conversationId) : null;
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
        const event = await emit({
          type: 'member.removed',
          conversationId,
          // A channel's subscribers are not each other's business: only the one leaving hears of it.
          targetAccountId: membership.conversation.kind === 'channel' ? accountId : null,
          data: { account_id: accountId, by: principal.accountId, left: leaving },
          at: now,
        });
        await tx.updateTable('members').set({ left_cursor: event.id }).where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
        await tx
          .updateTable('member_windows')
          .set({ to_seq: membership.conversation.last_seq })
          .where('conversation_id', '=', conversationId)
          .where('account_id', '=', accountId)
          .where('to_seq', 'is', null)
          .execute();
        await tx.updateTable('conversations').set((eb) => ({ member_count: eb('member_count', '-', 1) })).where('id', '=', conversationId).execute();
        if (target.role === 'owner') await passOwnership(tx, emit, { conversationId, from: accountId, at: now });
      });
    },

    /**
     * The owner deletes a group for everyone: each member is removed (their own `member.removed`,
     * as when an admin removes them, so every device and bot already knows what to do), the owner
     * last; history stays readable by nobody. Large groups: remove members first (one event each).
     */
    async deleteGroup(principal: Principal, conversationId: string) {
      await write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        const { conversation } = membership;
        if (conversation.kind !== 'group') throw new AppError('forbidden', 'only groups are deleted; leave a channel or a direct chat instead');
        if (membership.member.role !== 'owner') throw new AppError('forbidden', 'only the owner deletes a group');
        if (conversation.member_count > MAX_DELETABLE_GROUP_MEMBERS) {
          throw new AppError('limit_reached', `a group of more than ${MAX_DELETABLE_GROUP_MEMBERS} members is deleted by removing members first`);
        }
        const members = await tx.selectFrom('members').select('account_id').where('conversation_id', '=', conversationId).where('left_cursor', 'is', null).orderBy('account_id').execute();
        const order = [...members.map((m) => m.account_id).filter((id) => id !== principal.accountId), principal.accountId];
        const now = clock();
        for (const accountId of order) {
          const event = await emit({ type: 'member.removed', conversationId, data: { account_id: accountId, by: principal.accountId, left: accountId === principal.accountId }, at: now });
          await tx.updateTable('members').set({ left_cursor: event.id }).where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
        }
        await tx.updateTable('member_windows').set({ to_seq: conversation.last_seq }).where('conversation_id', '=', conversationId).where('to_seq', 'is', null).execute();
        await tx.updateTable('conversations').set({ member_count: 0 }).where('id', '=', conversationId).execute();
        await tx.deleteFrom('invitations').where('conversation_id', '=', conversationId).execute();
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

  /**
   * Splits the people someone wants to add into those who let them (their "who may add me"
   * setting) and those who get an invitation instead. Anyone who blocked the adder is in neither:
   * they get nothing, and the adder sees the same answer as for an invitation.
   */
  async function sortByConsent(tx: Tx, people: { id: string; handle: string }[], by: string) {
    const ids = people.map((p) => p.id);
    const blockers = await blockersOf(tx, ids, by);
    const policies = await addPolicies(tx, ids);
    const contactsOnly = people.filter((p) => !blockers.has(p.id) && policies.get(p.id) === 'contacts');
    // A contact is someone they wrote to themselves in a direct chat: opening a chat with them is not enough.
    const contacts = contactsOnly.length > 0 ? (await directWriting(tx, by, contactsOnly.map((p) => p.id))).wroteToMe : new Set<string>();
    const adding: typeof people = [];
    const inviting: typeof people = [];
    for (const p of people) {
      if (blockers.has(p.id)) continue;
      const policy = policies.get(p.id) ?? 'everyone';
      if (policy === 'everyone' || (policy === 'contacts' && contacts.has(p.id))) adding.push(p);
      else inviting.push(p);
    }
    return { adding, inviting };
  }

  /** Records an invitation (once per person and conversation) and tells the invitee's devices. */
  async function invite(tx: Tx, emit: Emit, conversation: ConversationsTable, invitee: { id: string; handle: string }, by: Principal) {
    const already = await tx.selectFrom('members').select('role').where('conversation_id', '=', conversation.id).where('account_id', '=', invitee.id).where('left_cursor', 'is', null).executeTakeFirst();
    if (already) throw new AppError('already_member', `@${invitee.handle} is already a member`);
    const now = clock();
    // One open invitation per person and conversation: a dead one (expired, or its sender lost
    // the right to add) makes way for this one instead of silently swallowing it.
    const previous = await tx.selectFrom('invitations').selectAll().where('conversation_id', '=', conversation.id).where('account_id', '=', invitee.id).executeTakeFirst();
    if (previous && !(await stillValid(tx, previous))) await tx.deleteFrom('invitations').where('id', '=', previous.id).execute();
    const id = newId('inv');
    const inserted = await tx
      .insertInto('invitations')
      .values({ id, conversation_id: conversation.id, account_id: invitee.id, invited_by: by.accountId, created_at: now })
      .onConflict((oc) => oc.columns(['conversation_id', 'account_id']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return;
    const invitation: Invitation = {
      id,
      conversation: { id: conversation.id, kind: conversation.kind === 'channel' ? 'channel' : 'group', title: conversation.title, handle: conversation.handle, member_count: Number(conversation.member_count) },
      invited_by: { account_id: by.accountId, handle: by.handle },
      created_at: now,
    };
    await emit({ type: 'invitation.created', conversationId: null, targetAccountId: invitee.id, data: invitation, at: now });
  }

  /**
   * An owner who leaves hands the conversation to the longest-serving admin, or else the
   * longest-serving member, so a group or channel is never left without anyone able to manage it.
   */
  async function passOwnership(tx: Tx, emit: Emit, options: { conversationId: string; from: string; at: number }) {
    const heir = await tx
      .selectFrom('members')
      .select(['account_id'])
      .where('conversation_id', '=', options.conversationId)
      .where('left_cursor', 'is', null)
      .orderBy((eb) => eb.case().when('role', '=', 'admin').then(0).else(1).end())
      .orderBy('joined_at')
      .orderBy('account_id')
      .limit(1)
      .executeTakeFirst();
    if (!heir) return;
    await tx.updateTable('members').set({ role: 'owner' }).where('conversation_id', '=', options.conversationId).where('account_id', '=', heir.account_id).execute();
    await emit({ type: 'member.role_changed', conversationId: options.conversationId, data: { account_id: heir.account_id, role: 'owner', by: options.from }, at: options.at });
  }

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
    const event = await emit({
      type: 'member.joined',
      conversationId: conversation.id,
      // In a channel only the new subscriber hears of the join (the list is for admins, who read it).
      targetAccountId: conversation.kind === 'channel' ? account.id : null,
      data: { account_id: account.id, handle: account.handle, role: 'member', by },
      at: now,
    });
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
    if (conversation.kind === 'group') {
      // This stay starts after the newest message: what was sent before (or while they were out)
      // is theirs to read only if the group shows earlier history, and only before their first stay.
      await tx
        .insertInto('member_windows')
        .values({ conversation_id: conversation.id, account_id: account.id, from_seq: Number(conversation.last_seq) + 1, to_seq: null })
        .onConflict((oc) => oc.columns(['conversation_id', 'account_id', 'from_seq']).doUpdateSet({ to_seq: null }))
        .execute();
    }
    await tx.updateTable('conversations').set((eb) => ({ member_count: eb('member_count', '+', 1) })).where('id', '=', conversation.id).execute();
    return { account_id: account.id, handle: account.handle, role: 'member', joined_at: now };
  }
}

/**
 * The newest message each conversation shows this account: a sent one it may read (inside its
 * ranges; see access.ts) — or, for its sender only, a held one (pending or failed) written after
 * that, so a caption or thumbnail never reaches anyone else's list before it is released.
 */
async function lastMessages(db: Database, ranges: Map<string, SeqRange[] | null>, accountId: string) {
  const result = new Map<string, unknown>();
  const conversationIds = [...ranges.keys()];
  if (conversationIds.length === 0) return result;
  const newestSent = new Map<string, MessagesTable>();
  const outside: string[] = [];
  const held = new Map<string, MessagesTable>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const chunk = conversationIds.slice(i, i + 500);
    const newest = await db.db
      .selectFrom('messages')
      .selectAll('messages')
      .where('messages.conversation_id', 'in', chunk)
      .where('messages.seq', '=', (eb) =>
        eb
          .selectFrom('messages as newest')
          .select((e) => e.fn.max('newest.seq').as('seq'))
          .whereRef('newest.conversation_id', '=', 'messages.conversation_id')
          .where('newest.status', '=', 'sent'),
      )
      .execute();
    for (const row of newest) {
      if (inRanges(ranges.get(row.conversation_id) ?? null, Number(row.seq))) newestSent.set(row.conversation_id, row);
      else outside.push(row.conversation_id);
    }
    // The caller's own held messages: few (they settle within minutes, or fail).
    const own = await db.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', 'in', chunk)
      .where('sender_id', '=', accountId)
      .where('status', '!=', 'sent')
      .orderBy('created_at')
      .execute();
    for (const row of own) held.set(row.conversation_id, row);
  }
  // Rare: a newcomer to a group that hides its history, before anything new is said.
  for (const id of outside) {
    const readable = ranges.get(id) ?? [];
    if (readable.length === 0) continue;
    const row = await db.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', id)
      .where('status', '=', 'sent')
      .where((e) => seqIn(e, readable))
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row) newestSent.set(id, row);
  }
  // Deleted for me ("delete for me"): the list shows the newest message I kept instead.
  const hidden = await hiddenAmong(db.db, accountId, [...newestSent.values()].map((r) => r.id));
  for (const [id, row] of newestSent) {
    if (!hidden.has(row.id)) continue;
    const shown = await newestShown(db.db, { conversationId: id, accountId, ranges: ranges.get(id) ?? null });
    if (shown) newestSent.set(id, shown);
    else newestSent.delete(id);
  }
  const rows: MessagesTable[] = [];
  for (const id of conversationIds) {
    const sent = newestSent.get(id);
    const mine = held.get(id);
    // A held message written after seq A sits just after A + 1 (as history places it).
    if (mine && (!sent || Number(mine.held_after ?? 0) + 1 >= Number(sent.seq))) rows.push(mine);
    else if (sent) rows.push(sent);
  }
  for (const view of await loadMessageViews(db.db, rows)) result.set(view.conversation_id, view);
  return result;
}

export type Conversations = ReturnType<typeof createConversations>;
export { isAdmin };

/**
 * Who wrote to whom in the direct chats between `me` and each of `others`: `wroteToMe` holds those
 * of `others` who sent `me` a delivered message there, `iWroteTo` those `me` sent one to. This is
 * what "contacts" means in people's privacy settings (who may add me, see my photo, my last seen,
 * find me): someone the person wrote to themselves. Opening a direct chat with someone, or writing
 * to them, does not make one their contact.
 */
export async function directWriting(db: Database['db'] | Tx, me: string, others: readonly string[]): Promise<{ wroteToMe: Set<string>; iWroteTo: Set<string> }> {
  const wroteToMe = new Set<string>();
  const iWroteTo = new Set<string>();
  const byKey = new Map(others.filter((id) => id !== me).map((id) => [[id, me].sort().join(':'), id]));
  const keys = [...byKey.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db
      .selectFrom('conversations')
      .innerJoin('messages', 'messages.conversation_id', 'conversations.id')
      .select(['conversations.direct_key', 'messages.sender_id'])
      .distinct()
      .where('conversations.direct_key', 'in', keys.slice(i, i + 500))
      // A held message was never delivered: it does not make its sender a contact yet.
      .where('messages.status', '=', 'sent')
      .execute();
    for (const r of rows) {
      const other = byKey.get(r.direct_key!);
      if (!other) continue;
      if (r.sender_id === me) iWroteTo.add(other);
      else if (r.sender_id === other) wroteToMe.add(other);
    }
  }
  return { wroteToMe, iWroteTo };
}
