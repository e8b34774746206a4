import { ChannelViewsBody, ChannelViewsReply, UnreadMentionList, UnreadMentionsQuery, EditMessageBody, GalleryQuery, GalleryReply, HistoryQuery, HistoryReply, PinnedList, StarredList, Message, ReactBody, ReactionDetails, ReadBody, Receipts, SearchQuery, SearchReply, SendMessageBody } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { type Authenticate, callerKey } from '../http/auth.ts';
import type { Pins } from './pins.ts';
import type { MessageSearch } from './search.ts';
import type { Messaging } from './service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });

export function messagingRoutes(deps: { messaging: Messaging; search: MessageSearch; pins: Pins; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { messaging, search, pins, authenticate } = deps;
  return async (app) => {
    app.get('/v1/search', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['messages'],
        summary: 'Search messages: every chat you are in, or one (conversation_id); by words, sender (from) and type. Newest first; history\'s rules decide what you find.',
        querystring: SearchQuery,
        response: { 200: SearchReply },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      const q = request.query;
      return search.search(principal, { q: q.q, conversationId: q.conversation_id, type: q.type, from: q.from, cursor: q.cursor, limit: q.limit });
    });

    app.get('/v1/conversations/:id/media', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['messages'],
        summary: "A chat's gallery: its photos, videos, documents or links (type), one item per message, newest first; history's rules decide what you see, and taken-down media is left out.",
        params: Type.Object({ id: Id }),
        querystring: GalleryQuery,
        response: { 200: GalleryReply },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      const q = request.query;
      return search.gallery(principal, request.params.id, { type: q.type, before: q.before, limit: q.limit });
    });

    app.post('/v1/conversations/:id/messages', {
      schema: {
        'x-mmd-scope': 'messages:write',
        tags: ['messages'],
        summary: 'Send a message; a retry with the same idempotency_key returns the same message',
        params: Type.Object({ id: Id }),
        body: SendMessageBody,
        response: { 200: Message, 201: Message },
      },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const b = request.body;
      const { message, replayed } = await messaging.send(principal, request.params.id, {
        text: b.text,
        replyTo: b.reply_to,
        forwardOf: b.forward_of,
        idempotencyKey: b.idempotency_key,
        confirmSpread: b.confirm_spread,
        linkPreview: b.link_preview,
        aiDisclosure: b.ai_disclosure,
        media: b.media,
        interactive: { buttons: b.buttons, quick_replies: b.quick_replies, list: b.list, cards: b.cards, poll: b.poll, form: b.form },
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(replayed ? 200 : 201).send(message);
    });

    app.get('/v1/conversations/:id/messages', {
      schema: { 'x-mmd-scope': 'messages:read', tags: ['messages'], summary: 'History: newest page, or pages after/before a seq', params: Type.Object({ id: Id }), querystring: HistoryQuery, response: { 200: HistoryReply } },
    }, async (request) => {
      const principal = await authenticate(request);
      const q = request.query;
      return messaging.history(principal, request.params.id, { after: q.after, before: q.before, limit: q.limit ?? 50, type: q.type });
    });

    app.get('/v1/conversations/:id/mentions', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['messages'],
        summary: 'Your unread @mentions in a group, oldest first (past your read mark, in messages you can still read); empty in direct chats and channels',
        params: Type.Object({ id: Id }),
        querystring: UnreadMentionsQuery,
        response: { 200: UnreadMentionList },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return messaging.unreadMentions(principal, request.params.id, { after: request.query.after, limit: request.query.limit ?? 50 });
    });

    app.post('/v1/conversations/:id/views', {
      schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: "Count your view of these channel posts (each subscriber once per post; reading up to a post counts too); their view counts", params: Type.Object({ id: Id }), body: ChannelViewsBody, response: { 200: ChannelViewsReply } },
      config: { rateLimit: { max: 120, timeWindow: 60_000, keyGenerator: callerKey } },
    }, async (request) => {
      const principal = await authenticate(request);
      return messaging.viewPosts(principal, request.params.id, request.body.seqs);
    });

    app.post('/v1/conversations/:id/read', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Mark messages read up to a seq', params: Type.Object({ id: Id }), body: ReadBody } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.markRead(principal, request.params.id, request.body.up_to_seq);
    });

    app.get('/v1/messages/:id', { schema: { 'x-mmd-scope': 'messages:read', tags: ['messages'], params: Type.Object({ id: Id }), response: { 200: Message } } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.get(principal, request.params.id);
    });

    app.patch('/v1/messages/:id', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Edit your message', params: Type.Object({ id: Id }), body: EditMessageBody, response: { 200: Message } } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.edit(principal, request.params.id, request.body.text);
    });

    app.post('/v1/messages/:id/delete-for-me', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Delete for me: the message disappears for you alone, on all your devices (the others keep it)', params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const principal = await authenticate(request);
      await messaging.deleteForMe(principal, request.params.id);
      return reply.status(204).send();
    });

    app.delete('/v1/messages/:id', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Delete for everyone (the sender, or an admin in groups and channels)', params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const principal = await authenticate(request);
      await messaging.remove(principal, request.params.id);
      return reply.status(204).send();
    });

    app.put('/v1/messages/:id/reactions', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'React with an emoji', params: Type.Object({ id: Id }), body: ReactBody, response: { 200: Message } } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.react(principal, request.params.id, request.body.emoji, true);
    });

    app.delete('/v1/messages/:id/reactions/:emoji', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Take your reaction back', params: Type.Object({ id: Id, emoji: Type.String({ minLength: 1, maxLength: 16 }) }), response: { 200: Message } } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.react(principal, request.params.id, request.params.emoji, false);
    });

    app.delete('/v1/messages/:id/link-preview', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: "Remove your message's link preview (for everyone)", params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const principal = await authenticate(request);
      await messaging.removeLinkPreview(principal, request.params.id);
      return reply.status(204).send();
    });

    app.get('/v1/messages/:id/reactions', { schema: { 'x-mmd-scope': 'messages:read', tags: ['messages'], summary: 'Who reacted, per emoji (the latest 100 each); in channels only admins may ask', params: Type.Object({ id: Id }), response: { 200: ReactionDetails } } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.reactionDetails(principal, request.params.id);
    });

    app.get('/v1/messages/:id/receipts', { schema: { 'x-mmd-scope': 'messages:read', tags: ['messages'], summary: 'Sent, delivered and read: per recipient in direct chats and small groups, counts everywhere', params: Type.Object({ id: Id }), response: { 200: Receipts } } }, async (request) => {
      const principal = await authenticate(request);
      return messaging.receipts(principal, request.params.id);
    });

    const byId = { params: Type.Object({ id: Id }) };
    app.put('/v1/messages/:id/pin', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Pin a message at the top of its chat, for everyone (admins in groups and channels; either person in a direct chat; at most 3 a chat)', ...byId } }, async (request, reply) => {
      await pins.pin(await authenticate(request), request.params.id);
      return reply.status(204).send();
    });
    app.delete('/v1/messages/:id/pin', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Unpin a message (who may pin it)', ...byId } }, async (request, reply) => {
      await pins.unpin(await authenticate(request), request.params.id);
      return reply.status(204).send();
    });
    app.get('/v1/conversations/:id/pins', { schema: { 'x-mmd-scope': 'messages:read', tags: ['messages'], summary: "A chat's pinned messages you can read, newest pin first", ...byId, response: { 200: PinnedList } } }, async (request) => {
      return { pins: await pins.pins(await authenticate(request), request.params.id) };
    });
    app.put('/v1/messages/:id/star', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Star a message (your own list; nobody else sees it)', ...byId } }, async (request, reply) => {
      await pins.star(await authenticate(request), request.params.id);
      return reply.status(204).send();
    });
    app.delete('/v1/messages/:id/star', { schema: { 'x-mmd-scope': 'messages:write', tags: ['messages'], summary: 'Unstar a message', ...byId } }, async (request, reply) => {
      await pins.unstar(await authenticate(request), request.params.id);
      return reply.status(204).send();
    });
    app.get('/v1/starred', { schema: { 'x-mmd-scope': 'messages:read', tags: ['messages'], summary: 'Your starred messages you can still read, newest star first (up to 500)', response: { 200: StarredList } } }, async (request) => {
      return { messages: await pins.starred(await authenticate(request)) };
    });
  };
}
