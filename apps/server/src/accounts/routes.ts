import {
  Account,
  ApiKeyList,
  ChangePasswordBody,
  ChangePasswordReply,
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
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import { type Limits, createMemoryLimits } from '../platform/limits/index.ts';
import type { Accounts } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function accountRoutes(deps: { accounts: Accounts; authenticate: Authenticate; limits: { login: number; loginPerAddress: number; signup: number; windowMs: number }; counters?: Limits }): FastifyPluginAsyncTypebox {
  const { accounts, authenticate, limits } = deps;
  const counters = deps.counters ?? createMemoryLimits();
  const perAddress = counters.limiter({ name: 'login-address', max: limits.loginPerAddress, windowMs: limits.windowMs });
  // A stolen session must not be able to guess the password behind it quickly either.
  const passwordTries = counters.limiter({ name: 'password-tries', max: 5, windowMs: 15 * 60_000 });
  return async (app) => {
    app.post('/v1/accounts', {
      schema: { 'x-mmd-scope': 'public', tags: ['accounts'], summary: 'Create an account and its first device session', body: CreateAccountBody, response: { 201: CreateAccountReply } },
      config: { rateLimit: { max: limits.signup, timeWindow: limits.windowMs } },
    }, async (request, reply) => {
      const b = request.body;
      const created = await accounts.createAccount({ handle: b.handle, password: b.password, kind: b.kind, deviceName: b.device_name });
      return reply.status(201).send(created);
    });

    app.post('/v1/sessions', {
      schema: { 'x-mmd-scope': 'public', tags: ['accounts'], summary: 'Log in: a new device session', body: CreateSessionBody, response: { 201: CreateSessionReply } },
      config: {
        rateLimit: {
          max: limits.login,
          timeWindow: limits.windowMs,
          // Per address and handle (runs after body parsing: preHandler): one attacker cannot lock out a person from everywhere, and
          // guessing one account's password stays slow.
          keyGenerator: (request) => `${request.ip}|${String((request.body as { handle?: unknown } | undefined)?.handle ?? '').toLowerCase()}`,
        },
      },
      // And per address alone: spraying one password over many handles costs an Argon2 hash per try.
      preHandler: async (request) => {
        const waitMs = await perAddress.hit(request.ip);
        if (waitMs > 0) throw new AppError('rate_limited', `too many sign-in attempts from this address; retry in ${Math.ceil(waitMs / 1000)} s`, { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } });
      },
    }, async (request, reply) => {
      const b = request.body;
      return reply.status(201).send(await accounts.login({ handle: b.handle, password: b.password, deviceName: b.device_name }));
    });

    app.get('/v1/me', { schema: { 'x-mmd-scope': 'account', tags: ['accounts'], summary: 'The calling account', response: { 200: Account } } }, async (request) => {
      const principal = await authenticate(request);
      return accounts.getAccount(principal.accountId);
    });

    app.post('/v1/account/password', {
      schema: {
        'x-mmd-scope': 'device',
        tags: ['accounts'],
        summary: 'Change your password (the current one is required); your other devices are signed out',
        body: ChangePasswordBody,
        response: { 200: ChangePasswordReply },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      const waitMs = await passwordTries.hit(principal.accountId);
      if (waitMs > 0) throw new AppError('rate_limited', `too many password changes; retry in ${Math.ceil(waitMs / 1000)} s`, { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } });
      const { signedOut } = await accounts.changePassword(principal, { current: request.body.current_password, next: request.body.new_password });
      return { signed_out_devices: signedOut };
    });

    app.get('/v1/devices', { schema: { 'x-mmd-scope': 'device', tags: ['accounts'], summary: 'Your signed-in devices', response: { 200: DeviceList } } }, async (request) => {
      const principal = await authenticate(request);
      if (principal.apiKeyId) return { devices: [] };
      return { devices: await accounts.listDevices(principal) };
    });

    app.delete('/v1/devices/:id', { schema: { 'x-mmd-scope': 'device', tags: ['accounts'], summary: 'Sign a device out (its token stops working at once)', params: IdParams } }, async (request, reply) => {
      const principal = await authenticate(request);
      await accounts.revokeDevice(principal, request.params.id);
      return reply.status(204).send();
    });

    app.post('/v1/api-keys', { schema: { 'x-mmd-scope': 'device', tags: ['accounts'], summary: 'Create a scoped API key (bot and business accounts)', body: CreateApiKeyBody, response: { 201: CreateApiKeyReply } } }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send(await accounts.createApiKey(principal, request.body));
    });

    app.get('/v1/api-keys', { schema: { 'x-mmd-scope': 'device', tags: ['accounts'], summary: 'Your API keys (never the secret)', response: { 200: ApiKeyList } } }, async (request) => {
      const principal = await authenticate(request);
      return { api_keys: await accounts.listApiKeys(principal) };
    });

    app.delete('/v1/api-keys/:id', { schema: { 'x-mmd-scope': 'device', tags: ['accounts'], summary: 'Revoke an API key', params: IdParams } }, async (request, reply) => {
      const principal = await authenticate(request);
      await accounts.revokeApiKey(principal, request.params.id);
      return reply.status(204).send();
    });
  };
}
