import {
  Account,
  ApiKeyList,
  CreateAccountBody,
  CreateAccountReply,
  CreateApiKeyBody,
  CreateApiKeyReply,
  CreateSessionBody,
  CreateSessionReply,
  DeviceList,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Authenticate } from '../http/auth.ts';
import type { Accounts } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function accountRoutes(deps: { accounts: Accounts; authenticate: Authenticate; limits: { login: number; signup: number; windowMs: number } }): FastifyPluginAsyncTypebox {
  const { accounts, authenticate, limits } = deps;
  return async (app) => {
    app.post('/v1/accounts', {
      schema: { tags: ['accounts'], summary: 'Create an account and its first device session', body: CreateAccountBody, response: { 201: CreateAccountReply } },
      config: { rateLimit: { max: limits.signup, timeWindow: limits.windowMs } },
    }, async (request, reply) => {
      const b = request.body;
      const created = await accounts.createAccount({ handle: b.handle, password: b.password, kind: b.kind, deviceName: b.device_name });
      return reply.status(201).send(created);
    });

    app.post('/v1/sessions', {
      schema: { tags: ['accounts'], summary: 'Log in: a new device session', body: CreateSessionBody, response: { 201: CreateSessionReply } },
      config: {
        rateLimit: {
          max: limits.login,
          timeWindow: limits.windowMs,
          // Per address and handle (runs after body parsing: preHandler): one attacker cannot lock out a person from everywhere, and
          // guessing one account's password stays slow.
          keyGenerator: (request) => `${request.ip}|${String((request.body as { handle?: unknown } | undefined)?.handle ?? '').toLowerCase()}`,
        },
      },
    }, async (request, reply) => {
      const b = request.body;
      return reply.status(201).send(await accounts.login({ handle: b.handle, password: b.password, deviceName: b.device_name }));
    });

    app.get('/v1/me', { schema: { tags: ['accounts'], summary: 'The calling account', response: { 200: Account } } }, async (request) => {
      const principal = await authenticate(request);
      return accounts.getAccount(principal.accountId);
    });

    app.get('/v1/devices', { schema: { tags: ['accounts'], summary: 'Your signed-in devices', response: { 200: DeviceList } } }, async (request) => {
      const principal = await authenticate(request);
      if (principal.apiKeyId) return { devices: [] };
      return { devices: await accounts.listDevices(principal) };
    });

    app.delete('/v1/devices/:id', { schema: { tags: ['accounts'], summary: 'Sign a device out (its token stops working at once)', params: IdParams } }, async (request, reply) => {
      const principal = await authenticate(request);
      await accounts.revokeDevice(principal, request.params.id);
      return reply.status(204).send();
    });

    app.post('/v1/api-keys', { schema: { tags: ['accounts'], summary: 'Create a scoped API key (bot and business accounts)', body: CreateApiKeyBody, response: { 201: CreateApiKeyReply } } }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send(await accounts.createApiKey(principal, request.body));
    });

    app.get('/v1/api-keys', { schema: { tags: ['accounts'], summary: 'Your API keys (never the secret)', response: { 200: ApiKeyList } } }, async (request) => {
      const principal = await authenticate(request);
      return { api_keys: await accounts.listApiKeys(principal) };
    });

    app.delete('/v1/api-keys/:id', { schema: { tags: ['accounts'], summary: 'Revoke an API key', params: IdParams } }, async (request, reply) => {
      const principal = await authenticate(request);
      await accounts.revokeApiKey(principal, request.params.id);
      return reply.status(204).send();
    });
  };
}
