import { Block, BlockBody, BlockList, Handle, Privacy, UpdatePrivacyBody } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Authenticate } from '../http/auth.ts';
import type { PrivacyService } from './privacy.ts';

/**
 * Blocks and privacy decide who may put you in a conversation, so an API key needs the
 * conversations:write scope for them, reading included.
 */
export function privacyRoutes(deps: {
  privacy: PrivacyService;
  authenticate: Authenticate;
}): FastifyPluginAsyncTypebox {
  const { privacy, authenticate } = deps;
  return async (app) => {
    app.get(
      '/v1/account/privacy',
      {
        schema: {
          'x-mmd-scope': 'conversations:write',
          tags: ['accounts'],
          summary: 'Who may add you to groups and channels',
          response: { 200: Privacy },
        },
      },
      async (request) => {
        const principal = await authenticate(request);
        return privacy.get(principal);
      },
    );

    app.patch(
      '/v1/account/privacy',
      {
        schema: {
          'x-mmd-scope': 'conversations:write',
          tags: ['accounts'],
          summary:
            'Choose who may add you: everyone, contacts (people you wrote to in a direct chat) or nobody (they invite you instead)',
          body: UpdatePrivacyBody,
          response: { 200: Privacy },
        },
      },
      async (request) => {
        const principal = await authenticate(request);
        return privacy.set(principal, request.body);
      },
    );

    app.get(
      '/v1/blocks',
      { schema: { 'x-mmd-scope': 'conversations:write', tags: ['accounts'], summary: 'Accounts you blocked', response: { 200: BlockList } } },
      async (request) => {
        const principal = await authenticate(request);
        return { blocks: await privacy.list(principal) };
      },
    );

    app.post(
      '/v1/blocks',
      {
        schema: {
          'x-mmd-scope': 'conversations:write',
          tags: ['accounts'],
          summary: 'Block an account: no direct messages from it, no adds to groups or channels by it',
          body: BlockBody,
          response: { 201: Block },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request);
        return reply.status(201).send(await privacy.block(principal, request.body.handle));
      },
    );

    app.delete(
      '/v1/blocks/:handle',
      {
        schema: {
          'x-mmd-scope': 'conversations:write',
          tags: ['accounts'],
          summary: 'Unblock an account',
          params: Type.Object({ handle: Handle }),
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request);
        await privacy.unblock(principal, request.params.handle);
        return reply.status(204).send();
      },
    );
  };
}
