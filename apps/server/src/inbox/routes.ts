/**
 * Team inbox routes. Reading takes `business:read` and any role; acting (assign, status, hand-off,
 * notes, replies, canned replies) takes `inbox:write` and the `send` permission (owner, admin,
 * agent — never an analyst). Every route resolves its caller with business.actor(): a person not
 * on the team, like a business that does not exist, gets 404.
 */
import {
  AddInboxNoteBody,
  BusinessProfile,
  CannedReply,
  CannedReplyList,
  CreateCannedReplyBody,
  InboxConversation,
  InboxConversationDetail,
  InboxDetailQuery,
  InboxList,
  InboxListQuery,
  InboxNote,
  InboxReplyBody,
  MediaItem,
  Message,
  UpdateInboxConversationBody,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Business } from '../business/index.ts';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import type { Inbox } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['inbox'];

const ProfilesQuery = Type.Object(
  { ids: Type.String({ minLength: 1, maxLength: 100 * 65, description: 'account ids, comma-separated (at most 100)' }) },
  { additionalProperties: false },
);

export function inboxRoutes(deps: { inbox: Inbox; business: Pick<Business, 'actor' | 'profiles'>; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { inbox, business, authenticate } = deps;
  return async (app) => {
    app.get(
      '/v1/business/inbox',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: "The business's customer conversations, newest activity first (filters: assignee mine|unassigned, status, q = start of the customer's handle)", querystring: InboxListQuery, response: { 200: InboxList } } },
      async (request) => inbox.list(await business.actor(request, await authenticate(request), 'read'), request.query),
    );
    app.get(
      '/v1/business/inbox/:id',
      {
        schema: {
          'x-mmd-scope': 'business:read',
          tags,
          summary: 'A customer conversation: assignment, status, hand-off, its newest messages (or those before `before`) and its internal notes',
          params: IdParams,
          querystring: InboxDetailQuery,
          response: { 200: InboxConversationDetail },
        },
      },
      async (request) => inbox.get(await business.actor(request, await authenticate(request), 'read'), request.params.id, request.query),
    );
    app.patch(
      '/v1/business/inbox/:id',
      {
        schema: {
          'x-mmd-scope': 'inbox:write',
          tags,
          summary: 'Assign (or unassign: null), set the status, take over from automation or hand back (owners, admins, agents)',
          params: IdParams,
          body: UpdateInboxConversationBody,
          response: { 200: InboxConversation },
        },
      },
      async (request) => inbox.update(await business.actor(request, await authenticate(request), 'send'), request.params.id, request.body),
    );
    app.post(
      '/v1/business/inbox/:id/notes',
      { schema: { 'x-mmd-scope': 'inbox:write', tags, summary: 'Add an internal note: the team sees it, the customer never does', params: IdParams, body: AddInboxNoteBody, response: { 201: InboxNote } } },
      async (request, reply) => reply.status(201).send(await inbox.addNote(await business.actor(request, await authenticate(request), 'send'), request.params.id, request.body.text)),
    );
    app.post(
      '/v1/business/inbox/:id/messages',
      {
        schema: {
          'x-mmd-scope': 'inbox:write',
          tags,
          summary: 'Reply as the business; the customer sees "Business · your handle" (owners, admins, agents)',
          params: IdParams,
          body: InboxReplyBody,
          response: { 201: Message },
        },
      },
      async (request, reply) => reply.status(201).send(await inbox.reply(await business.actor(request, await authenticate(request), 'send'), request.params.id, request.body)),
    );

    // Where people see a business (their chat list and chat headers): its name and the operator's
    // verified mark, for many chats in one call. Accounts that are not businesses are left out.
    app.get(
      '/v1/businesses',
      {
        schema: {
          'x-mmd-scope': 'account',
          tags: ['business'],
          summary: "Public profiles (display name, photo, verified mark) of those of the given accounts that are businesses",
          querystring: ProfilesQuery,
          response: { 200: Type.Object({ businesses: Type.Array(BusinessProfile) }) },
        },
      },
      async (request) => {
        await authenticate(request);
        const ids = [...new Set(request.query.ids.split(',').map((s) => s.trim()).filter(Boolean))];
        if (ids.length > 100 || ids.some((id) => id.length > 64)) {
          throw new AppError('validation_failed', 'at most 100 account ids of up to 64 characters', { errors: [{ path: '/ids', message: 'too many or too long' }] });
        }
        const found = await business.profiles(ids);
        return { businesses: ids.flatMap((id) => found.get(id) ?? []) };
      },
    );

    app.get(
      '/v1/business/inbox/:id/messages/:message/media/:media',
      {
        schema: {
          'x-mmd-scope': 'business:read',
          tags,
          summary: "A media item one of the chat's messages carries, with URLs signed for the business (the team is not in the chat)",
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), message: Type.String({ minLength: 1, maxLength: 64 }), media: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 200: MediaItem },
        },
      },
      async (request) => inbox.media(await business.actor(request, await authenticate(request), 'read'), request.params.id, request.params.message, request.params.media),
    );

    app.get(
      '/v1/business/canned-replies',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: "Saved replies for the composer (automation's templates)", response: { 200: CannedReplyList } } },
      async (request) => ({ canned_replies: await inbox.cannedReplies(await business.actor(request, await authenticate(request), 'read')) }),
    );
    app.post(
      '/v1/business/canned-replies',
      { schema: { 'x-mmd-scope': 'inbox:write', tags, summary: 'Save a reply (may use {{handle}}, {{business}}, {{date}}, {{time}})', body: CreateCannedReplyBody, response: { 201: CannedReply } } },
      async (request, reply) => reply.status(201).send(await inbox.createCannedReply(await business.actor(request, await authenticate(request), 'send'), request.body)),
    );
    app.delete(
      '/v1/business/canned-replies/:id',
      { schema: { 'x-mmd-scope': 'inbox:write', tags, summary: 'Delete a saved reply (refused while an automation rule sends it)', params: IdParams } },
      async (request, reply) => {
        await inbox.deleteCannedReply(await business.actor(request, await authenticate(request), 'send'), request.params.id);
        return reply.status(204).send();
      },
    );
  };
}
