/**
 * Invite links to groups and channels: admins make, list and revoke them; anyone signed in who
 * holds one previews the conversation and joins through it, or asks to join when the link needs an
 * admin's approval. A link that does not open anything — unknown, revoked, expired, full, or made
 * by someone no longer an admin — answers one and the same `invite_not_found`, so a stranger
 * learns nothing by trying tokens (128 random bits each: nothing to find by trying anyway).
 */
import { randomBytes } from 'node:crypto';
import {
  type ConversationBan,
  type InviteLink,
  type InvitePreview,
  type JoinByInviteReply,
  type JoinRequest,
  MAX_OPEN_INVITE_LINKS,
  type Member,
} from '@mmd/contracts';
import { type Principal, handlesOf } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { assertMayManage, normaliseConversation, requireMember } from './access.ts';
import type { InviteLinksTable } from './schema.ts';
import { type Conversations, isBanned } from './service.ts';

/** Join requests waiting in one conversation, at most: a leaked approval link cannot flood the admins. */
export const MAX_PENDING_JOIN_REQUESTS = 10_000;

/** 18 random bytes: 144 bits, 24 base64url characters (Telegram's hashes carry about 128). */
const TOKEN_BYTES = 18;

export interface InviteLinksDeps {
  db: Database;
  clock: () => number;
  write: WriteWithEvents;
  conversations: Conversations;
}

/** The one answer for every token that opens nothing. */
function notOpen(): AppError {
  return new AppError('invite_not_found', 'this invite link does not exist, was revoked or has expired');
}

function toLink(r: InviteLinksTable): InviteLink {
  return {
    id: r.id,
    conversation_id: r.conversation_id,
    token: r.token,
    path: `/join/${r.token}`,
    created_by: r.created_by,
    created_at: Number(r.created_at),
    expires_at: r.expires_at === null ? null : Number(r.expires_at),
    member_limit: r.member_limit === null ? null : Number(r.member_limit),
    joined_count: Number(r.joined_count),
    requires_approval: Number(r.requires_approval) === 1,
    revoked_at: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

export function createInviteLinks(deps: InviteLinksDeps) {
  const { db, clock, write, conversations } = deps;

  /** Is this link open now? Its maker must still be an owner or admin: a link dies with their rights. */
  async function isOpen(tx: Database['db'] | Tx, link: InviteLinksTable, now: number): Promise<boolean> {
    if (link.revoked_at !== null) return false;
    if (link.expires_at !== null && Number(link.expires_at) <= now) return false;
    if (link.member_limit !== null && Number(link.joined_count) >= Number(link.member_limit)) return false;
    const maker = await tx
      .selectFrom('members')
      .select('role')
      .where('conversation_id', '=', link.conversation_id)
      .where('account_id', '=', link.created_by)
      .where('left_cursor', 'is', null)
      .executeTakeFirst();
    return maker?.role === 'owner' || maker?.role === 'admin';
  }

  /** The open link with this token, with its conversation, or the one refusal. */
  async function openLink(tx: Database['db'] | Tx, token: string) {
    const link = await tx.selectFrom('invite_links').selectAll().where('token', '=', token).executeTakeFirst();
    if (!link || !(await isOpen(tx, link, clock()))) throw notOpen();
    const conversation = await tx.selectFrom('conversations').selectAll().where('id', '=', link.conversation_id).executeTakeFirst();
    if (!conversation) throw notOpen();
    return { link, conversation: normaliseConversation(conversation) };
  }

  async function activeMember(tx: Database['db'] | Tx, conversationId: string, accountId: string) {
    return tx.selectFrom('members').select('role').where('conversation_id', '=', conversationId).where('account_id', '=', accountId).where('left_cursor', 'is', null).executeTakeFirst();
  }

  return {
    async create(principal: Principal, conversationId: string, input: { expires_in_seconds?: number; member_limit?: number; requires_approval?: boolean }): Promise<InviteLink> {
      // Telegram refuses the pair too: with approval, admins decide who comes in, one by one.
      if (input.requires_approval && input.member_limit !== undefined) {
        throw new AppError('validation_failed', 'a link that needs approval takes no member limit', { errors: [{ path: '/member_limit', message: 'not with requires_approval' }] });
      }
      return write(async (tx) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const now = clock();
        const open = await tx
          .selectFrom('invite_links')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('conversation_id', '=', conversationId)
          .where('revoked_at', 'is', null)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
          .executeTakeFirstOrThrow();
        if (Number(open.n) >= MAX_OPEN_INVITE_LINKS) throw new AppError('limit_reached', `a conversation has at most ${MAX_OPEN_INVITE_LINKS} open invite links; revoke one first`);
        const row: InviteLinksTable = {
          id: newId('lnk', now),
          conversation_id: conversationId,
          token: randomBytes(TOKEN_BYTES).toString('base64url'),
          created_by: principal.accountId,
          created_at: now,
          expires_at: input.expires_in_seconds === undefined ? null : now + input.expires_in_seconds * 1000,
          member_limit: input.member_limit ?? null,
          joined_count: 0,
          requires_approval: input.requires_approval ? 1 : 0,
          revoked_at: null,
        };
        await tx.insertInto('invite_links').values(row).execute();
        return toLink(row);
      });
    },

    async list(principal: Principal, conversationId: string): Promise<InviteLink[]> {
      const membership = await requireMember(db.db, conversationId, principal.accountId);
      assertMayManage(membership);
      // Open links are few (MAX_OPEN_INVITE_LINKS); the newest closed ones follow for reference.
      const rows = await db.db.selectFrom('invite_links').selectAll().where('conversation_id', '=', conversationId).orderBy('created_at', 'desc').limit(500).execute();
      const now = clock();
      const closed = (r: InviteLinksTable) => r.revoked_at !== null || (r.expires_at !== null && Number(r.expires_at) <= now);
      return [...rows.filter((r) => !closed(r)), ...rows.filter(closed)].map(toLink);
    },

    /** Revoking stops new joins at once: the next preview or join reads the revoked row. */
    async revoke(principal: Principal, conversationId: string, linkId: string): Promise<void> {
      await write(async (tx) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const link = await tx.selectFrom('invite_links').select(['id', 'revoked_at']).where('id', '=', linkId).where('conversation_id', '=', conversationId).executeTakeFirst();
        if (!link) throw notFound('invite link');
        if (link.revoked_at === null) await tx.updateTable('invite_links').set({ revoked_at: clock() }).where('id', '=', linkId).execute();
      });
    },

    async preview(principal: Principal, token: string): Promise<InvitePreview> {
      const { link, conversation } = await openLink(db.db, token);
      const member = await activeMember(db.db, conversation.id, principal.accountId);
      const requested = member
        ? false
        : (await db.db.selectFrom('join_requests').select('account_id').where('conversation_id', '=', conversation.id).where('account_id', '=', principal.accountId).executeTakeFirst()) !== undefined;
      return {
        kind: conversation.kind === 'channel' ? 'channel' : 'group',
        title: conversation.title,
        handle: conversation.handle,
        photo: null,
        member_count: Number(conversation.member_count),
        requires_approval: Number(link.requires_approval) === 1,
        // A group's id is for its members; a channel is public anyway.
        conversation_id: member || conversation.kind === 'channel' ? conversation.id : null,
        requested,
      };
    },

    async join(principal: Principal, token: string): Promise<JoinByInviteReply> {
      return write(async (tx, emit) => {
        const { link, conversation } = await openLink(tx, token);
        if (await activeMember(tx, conversation.id, principal.accountId)) return { status: 'joined', conversation_id: conversation.id };
        // Telegram's rule: someone an admin removed stays out, whatever link they hold.
        if (await isBanned(tx, conversation.id, principal.accountId)) throw new AppError('banned', 'an admin removed you from this conversation');
        if (principal.kind === 'bot') throw new AppError('forbidden', 'bots are added by an admin, not through invite links');
        if (Number(link.requires_approval) === 1) {
          const pending = await tx.selectFrom('join_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('conversation_id', '=', conversation.id).executeTakeFirstOrThrow();
          const mine = await tx.selectFrom('join_requests').select('account_id').where('conversation_id', '=', conversation.id).where('account_id', '=', principal.accountId).executeTakeFirst();
          if (!mine) {
            if (Number(pending.n) >= MAX_PENDING_JOIN_REQUESTS) throw new AppError('limit_reached', 'this conversation has too many join requests waiting; try again later');
            await tx.insertInto('join_requests').values({ conversation_id: conversation.id, account_id: principal.accountId, link_id: link.id, created_at: clock() }).execute();
          }
          return { status: 'requested', conversation_id: null };
        }
        // Counted only if still under the cap, in this transaction: two last joins cannot both pass.
        const counted = await tx
          .updateTable('invite_links')
          .set((eb) => ({ joined_count: eb('joined_count', '+', 1) }))
          .where('id', '=', link.id)
          .where((eb) => eb.or([eb('member_limit', 'is', null), eb('joined_count', '<', eb.ref('member_limit'))]))
          .executeTakeFirst();
        if (Number(counted.numUpdatedRows) === 0) throw notOpen();
        // A channel's subscriber hears of their own join only, and never which admin made the link.
        const by = conversation.kind === 'channel' ? principal.accountId : link.created_by;
        await conversations.joinInTx(tx, emit, conversation, { id: principal.accountId, handle: principal.handle }, by);
        return { status: 'joined', conversation_id: conversation.id };
      });
    },

    async requests(principal: Principal, conversationId: string, options: { after?: string; limit: number }): Promise<{ requests: JoinRequest[]; next: string | null }> {
      const membership = await requireMember(db.db, conversationId, principal.accountId);
      assertMayManage(membership);
      let q = db.db
        .selectFrom('join_requests')
        .select(['account_id', 'link_id', 'created_at'])
        .where('conversation_id', '=', conversationId)
        .orderBy('account_id')
        .limit(options.limit + 1);
      if (options.after) q = q.where('account_id', '>', options.after);
      const rows = await q.execute();
      const handles = await handlesOf(db.db, rows.map((r) => r.account_id));
      const page = rows.slice(0, options.limit).map((r) => ({ account_id: r.account_id, handle: handles.get(r.account_id) ?? 'deleted', link_id: r.link_id, requested_at: Number(r.created_at) }));
      return { requests: page, next: rows.length > options.limit ? (rows[options.limit - 1]?.account_id ?? null) : null };
    },

    /** Approving adds them (an approval lifts a ban too: the admin decided); declining forgets the request. */
    async answer(principal: Principal, conversationId: string, accountId: string, approve: boolean): Promise<Member | null> {
      return write(async (tx, emit) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const request = await tx.selectFrom('join_requests').selectAll().where('conversation_id', '=', conversationId).where('account_id', '=', accountId).executeTakeFirst();
        if (!request) throw notFound('join request');
        await tx.deleteFrom('join_requests').where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
        if (!approve) return null;
        if (await activeMember(tx, conversationId, accountId)) throw new AppError('already_member', 'they are already a member');
        const handle = (await handlesOf(tx, [accountId])).get(accountId);
        if (!handle) throw notFound('account');
        const account = { id: accountId, handle };
        await tx.deleteFrom('conversation_bans').where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
        await tx.updateTable('invite_links').set((eb) => ({ joined_count: eb('joined_count', '+', 1) })).where('id', '=', request.link_id).execute();
        return conversations.joinInTx(tx, emit, membership.conversation, account, membership.conversation.kind === 'channel' ? accountId : principal.accountId);
      });
    },

    async bans(principal: Principal, conversationId: string, options: { after?: string; limit: number }): Promise<{ bans: ConversationBan[]; next: string | null }> {
      const membership = await requireMember(db.db, conversationId, principal.accountId);
      assertMayManage(membership);
      let q = db.db
        .selectFrom('conversation_bans')
        .select(['account_id', 'banned_by', 'banned_at'])
        .where('conversation_id', '=', conversationId)
        .orderBy('account_id')
        .limit(options.limit + 1);
      if (options.after) q = q.where('account_id', '>', options.after);
      const rows = await q.execute();
      const page = rows.slice(0, options.limit);
      const handles = await handlesOf(db.db, page.map((r) => r.account_id));
      return {
        bans: page.map((r) => ({ account_id: r.account_id, handle: handles.get(r.account_id) ?? 'deleted', banned_by: r.banned_by, banned_at: Number(r.banned_at) })),
        next: rows.length > options.limit ? (page.at(-1)?.account_id ?? null) : null,
      };
    },

    /** Lets a removed person back in through links (and a public channel's join); it adds nobody. */
    async unban(principal: Principal, conversationId: string, accountId: string): Promise<void> {
      await write(async (tx) => {
        const membership = await requireMember(tx, conversationId, principal.accountId);
        assertMayManage(membership);
        const removed = await tx.deleteFrom('conversation_bans').where('conversation_id', '=', conversationId).where('account_id', '=', accountId).executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) throw notFound('ban');
      });
    },
  };
}

export type InviteLinks = ReturnType<typeof createInviteLinks>;
