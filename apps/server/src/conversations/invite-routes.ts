import {
  ConversationBanList,
  CreateInviteLinkBody,
  InviteLink,
  InviteLinkList,
  InvitePreview,
  JoinByInviteReply,
  JoinRequestList,
  Member,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { type Authenticate, callerKey } from '../http/auth.ts';
import type { InviteLinks } from './invite-links.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
// Tokens are 24 base64url characters; anything else is refused before a lookup.
const Token = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Page = Type.Object({ after: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false });

/** Per caller (their token), not per address: people behind one NAT do not share an allowance. */
const perCaller = callerKey;

/**
 * Previewing and joining by token are what a stranger holding (or guessing) a link can call: both
 * are limited per caller. `limits.max` a minute each.
 */
export function inviteLinkRoutes(deps: { inviteLinks: InviteLinks; authenticate: Authenticate; limits: { max: number; windowMs: number } }): FastifyPluginAsyncTypebox {
  const { inviteLinks, authenticate, limits } = deps;
  const rateLimit = { max: limits.max, timeWindow: limits.windowMs, keyGenerator: perCaller };
  return async (app) => {
    app.post('/v1/conversations/:id/invite-links', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Make an invite link to a group or channel (admins): optional expiry, member limit, approval', params: Type.Object({ id: Id }), body: CreateInviteLinkBody, response: { 201: InviteLink } },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send(await inviteLinks.create(principal, request.params.id, request.body));
    });

    app.get('/v1/conversations/:id/invite-links', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: "A group's or channel's invite links (admins): open ones first", params: Type.Object({ id: Id }), response: { 200: InviteLinkList } },
    }, async (request) => {
      const principal = await authenticate(request);
      return { links: await inviteLinks.list(principal, request.params.id) };
    });

    app.delete('/v1/conversations/:id/invite-links/:linkId', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Revoke an invite link (admins): nobody joins through it from now on', params: Type.Object({ id: Id, linkId: Id }) },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      await inviteLinks.revoke(principal, request.params.id, request.params.linkId);
      return reply.status(204).send();
    });

    app.get('/v1/invites/:token', {
      schema: { 'x-mmd-scope': 'messages:read', tags: ['conversations'], summary: 'Preview what an invite link opens (signed-in callers; the same 404 invite_not_found for unknown, revoked, expired and full links)', params: Type.Object({ token: Token }), response: { 200: InvitePreview } },
      config: { rateLimit },
    }, async (request) => {
      const principal = await authenticate(request);
      return inviteLinks.preview(principal, request.params.token);
    });

    app.post('/v1/invites/:token/join', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Join through an invite link, or ask to join when it needs approval (202)', params: Type.Object({ token: Token }), response: { 200: JoinByInviteReply, 202: JoinByInviteReply } },
      config: { rateLimit },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const result = await inviteLinks.join(principal, request.params.token);
      return reply.status(result.status === 'requested' ? 202 : 200).send(result);
    });

    app.get('/v1/conversations/:id/join-requests', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Join requests waiting for approval (admins)', params: Type.Object({ id: Id }), querystring: Page, response: { 200: JoinRequestList } },
    }, async (request) => {
      const principal = await authenticate(request);
      return inviteLinks.requests(principal, request.params.id, { after: request.query.after, limit: request.query.limit ?? 100 });
    });

    app.post('/v1/conversations/:id/join-requests/:accountId/approve', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Approve a join request (admins): they join', params: Type.Object({ id: Id, accountId: Id }), response: { 200: Member } },
    }, async (request) => {
      const principal = await authenticate(request);
      return (await inviteLinks.answer(principal, request.params.id, request.params.accountId, true))!;
    });

    app.post('/v1/conversations/:id/join-requests/:accountId/decline', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Decline a join request (admins)', params: Type.Object({ id: Id, accountId: Id }) },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      await inviteLinks.answer(principal, request.params.id, request.params.accountId, false);
      return reply.status(204).send();
    });

    app.get('/v1/conversations/:id/bans', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'People an admin removed, who cannot rejoin by link until unbanned (admins)', params: Type.Object({ id: Id }), querystring: Page, response: { 200: ConversationBanList } },
    }, async (request) => {
      const principal = await authenticate(request);
      return inviteLinks.bans(principal, request.params.id, { after: request.query.after, limit: request.query.limit ?? 100 });
    });

    app.delete('/v1/conversations/:id/bans/:accountId', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Unban someone (admins): links let them in again; it adds nobody', params: Type.Object({ id: Id, accountId: Id }) },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      await inviteLinks.unban(principal, request.params.id, request.params.accountId);
      return reply.status(204).send();
    });
  };
}
