import { AddMemberBody, Draft, DraftList, PutDraftBody, ChatSettings, UpdateChatSettingsBody, Conversation, ConversationList, CreateConversationBody, InvitationList, InvitedReply, Member, MemberList, SetRoleBody, UpdateConversationBody } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { type Authenticate, callerKey } from '../http/auth.ts';
import type { ChatSettingsService } from './chat-settings.ts';
import type { Drafts } from './drafts.ts';
import type { Conversations } from './service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });

export function conversationRoutes(deps: { conversations: Conversations; chatSettings: ChatSettingsService; drafts: Drafts; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { conversations, chatSettings, drafts, authenticate } = deps;
  return async (app) => {
    app.post('/v1/conversations', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Open a direct chat, create a group or a channel', body: CreateConversationBody, response: { 200: Conversation, 201: Conversation } },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const { conversation, created } = await conversations.create(principal, request.body);
      // Opening a direct chat that exists returns it: one chat per pair.
      return reply.status(created ? 201 : 200).send(conversation);
    });

    app.get('/v1/conversations', { schema: { 'x-mmd-scope': 'messages:read', tags: ['conversations'], summary: 'Your conversations, most recent first', response: { 200: ConversationList } } }, async (request) => {
      const principal = await authenticate(request);
      return { conversations: await conversations.list(principal) };
    });

    app.get('/v1/conversations/:id', { schema: { 'x-mmd-scope': 'messages:read', tags: ['conversations'], params: Type.Object({ id: Id }), response: { 200: Conversation } } }, async (request) => {
      const principal = await authenticate(request);
      return conversations.get(principal, request.params.id);
    });

    app.patch('/v1/conversations/:id', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: "Rename a group or channel, or set whether a group's new members read earlier history (admins)", params: Type.Object({ id: Id }), body: UpdateConversationBody, response: { 200: Conversation } },
    }, async (request) => {
      const principal = await authenticate(request);
      return conversations.update(principal, request.params.id, request.body);
    });

    app.get('/v1/channels/:handle', { schema: { 'x-mmd-scope': 'messages:read', tags: ['conversations'], summary: 'Find a channel by its public handle', params: Type.Object({ handle: Type.String({ minLength: 1, maxLength: 64 }) }), response: { 200: Conversation } } }, async (request) => {
      await authenticate(request);
      return conversations.findChannel(request.params.handle);
    });

    app.post('/v1/conversations/:id/join', { schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Join a channel', params: Type.Object({ id: Id }), response: { 200: Conversation } } }, async (request) => {
      const principal = await authenticate(request);
      return conversations.join(principal, request.params.id);
    });

    app.get('/v1/conversations/:id/members', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['conversations'],
        params: Type.Object({ id: Id }),
        querystring: Type.Object({ after: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false }),
        response: { 200: MemberList },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return conversations.listMembers(principal, request.params.id, { after: request.query.after, limit: request.query.limit ?? 100 });
    });

    app.post('/v1/conversations/:id/members', {
      schema: {
        'x-mmd-scope': 'conversations:write',
        tags: ['conversations'],
        summary: 'Add a member (admins); 202 when their privacy setting asks for an invitation instead',
        params: Type.Object({ id: Id }),
        body: AddMemberBody,
        response: { 201: Member, 202: InvitedReply },
      },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const result = await conversations.addMember(principal, request.params.id, request.body.handle);
      return 'invited' in result ? reply.status(202).send(result) : reply.status(201).send(result);
    });

    app.get('/v1/invitations', { schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Invitations to groups and channels waiting for your answer', response: { 200: InvitationList } } }, async (request) => {
      const principal = await authenticate(request);
      return { invitations: await conversations.invitations(principal) };
    });

    app.post('/v1/invitations/:id/accept', { schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Accept an invitation: you join the conversation', params: Type.Object({ id: Id }), response: { 200: Conversation } } }, async (request) => {
      const principal = await authenticate(request);
      return (await conversations.answerInvitation(principal, request.params.id, true))!;
    });

    app.post('/v1/invitations/:id/decline', { schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Decline an invitation', params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const principal = await authenticate(request);
      await conversations.answerInvitation(principal, request.params.id, false);
      return reply.status(204).send();
    });

    app.delete('/v1/conversations/:id/members/:accountId', { schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Remove a member (admins), or leave (yourself)', params: Type.Object({ id: Id, accountId: Id }) } }, async (request, reply) => {
      const principal = await authenticate(request);
      await conversations.removeMember(principal, request.params.id, request.params.accountId);
      return reply.status(204).send();
    });

    app.patch('/v1/conversations/:id/members/:accountId', { schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Promote to admin or demote to member', params: Type.Object({ id: Id, accountId: Id }), body: SetRoleBody } }, async (request, reply) => {
      const principal = await authenticate(request);
      await conversations.setRole(principal, request.params.id, request.params.accountId, request.body.role);
      return reply.status(204).send();
    });

    app.get('/v1/drafts', { schema: { 'x-mmd-scope': 'messages:read', tags: ['conversations'], summary: 'Your drafts in the chats you are in, newest first', response: { 200: DraftList } } }, async (request) => {
      return { drafts: await drafts.list(await authenticate(request)) };
    });

    app.put('/v1/conversations/:id/draft', {
      schema: { 'x-mmd-scope': 'messages:write', tags: ['conversations'], summary: 'Save what you are writing in this chat (empty text: delete it); your other devices follow', params: Type.Object({ id: Id }), body: PutDraftBody, response: { 200: Draft } },
      // Clients save debounced (about one a second while typing); this bounds a runaway one.
      config: { rateLimit: { max: 120, timeWindow: 60_000, keyGenerator: callerKey } },
    }, async (request) => {
      return drafts.put(await authenticate(request), request.params.id, request.body.text);
    });

    app.get('/v1/conversations/:id/settings', {
      schema: { 'x-mmd-scope': 'messages:read', tags: ['conversations'], summary: 'How you keep this chat: muted, pinned, archived, marked unread, cleared (yours alone)', params: Type.Object({ id: Id }), response: { 200: ChatSettings } },
    }, async (request) => {
      const principal = await authenticate(request);
      return chatSettings.get(principal, request.params.id);
    });

    app.delete('/v1/conversations/:id', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Delete a group for everyone (its owner; every member is removed)', params: Type.Object({ id: Id }) },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      await conversations.deleteGroup(principal, request.params.id);
      return reply.status(204).send();
    });

    app.post('/v1/conversations/:id/clear', {
      schema: { 'x-mmd-scope': 'conversations:write', tags: ['conversations'], summary: 'Clear chat: every message so far disappears for you alone, on all your devices (the others keep them)', params: Type.Object({ id: Id }), response: { 200: ChatSettings } },
    }, async (request) => {
      const principal = await authenticate(request);
      return chatSettings.clear(principal, request.params.id);
    });

    app.patch('/v1/conversations/:id/settings', {
      schema: {
        'x-mmd-scope': 'conversations:write',
        tags: ['conversations'],
        summary: 'Mute (8h, 1w, always, off), pin (at most 5: pin_limit), archive or mark unread a chat, for you alone; your other devices follow',
        params: Type.Object({ id: Id }),
        body: UpdateChatSettingsBody,
        response: { 200: ChatSettings },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return chatSettings.update(principal, request.params.id, request.body);
    });
  };
}
