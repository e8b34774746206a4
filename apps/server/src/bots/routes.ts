/**
 * Bot and webhook routes. Managing bots needs a person's device session (`device`: bot tokens get
 * `person_only`, API keys `insufficient_scope`); a bot's commands and its own webhooks may also be
 * managed with its token (`manage`: never an API key, which could otherwise widen its own reach).
 */
import {
  Bot,
  BotCommands,
  BotList,
  BotWithToken,
  CreateBotBody,
  CreateWebhookBody,
  CreatedWebhook,
  DeliveryList,
  DeliveryStatus,
  UpdateBotBody,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookList,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Authenticate } from '../http/auth.ts';
import type { Bots } from './service.ts';
import type { Webhooks } from './webhooks.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const HandleParams = Type.Object({ handle: Type.String({ minLength: 1, maxLength: 64 }) });
const DeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), delivery_id: Type.String({ minLength: 1, maxLength: 64 }) });
const DeliveryQuery = Type.Object({
  before: Type.Optional(Type.String({ maxLength: 32, pattern: '^[0-9]+$' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  status: Type.Optional(DeliveryStatus),
});

export function botRoutes(deps: { bots: Bots; webhooks: Webhooks; authenticate: Authenticate; createLimit: { max: number; windowMs: number } }): FastifyPluginAsyncTypebox {
  const { bots, webhooks, authenticate } = deps;
  return async (app) => {
    app.post('/v1/bots', {
      schema: { 'x-mmd-scope': 'device', tags: ['bots'], summary: 'Create a bot you own; its token is shown once', body: CreateBotBody, response: { 201: BotWithToken } },
      config: { rateLimit: { max: deps.createLimit.max, timeWindow: deps.createLimit.windowMs } },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send(await bots.create(principal, request.body));
    });

    app.get('/v1/bots', { schema: { 'x-mmd-scope': 'device', tags: ['bots'], summary: 'The bots you own', response: { 200: BotList } } }, async (request) => {
      const principal = await authenticate(request);
      bots.requirePerson(principal);
      return { bots: await bots.list(principal) };
    });

    app.get('/v1/bots/me', { schema: { 'x-mmd-scope': 'manage', tags: ['bots'], summary: 'The calling bot (bot tokens only; people get bot_only)', response: { 200: Bot } } }, async (request) => {
      const principal = await authenticate(request);
      bots.requireBot(principal);
      return bots.get(principal, principal.accountId);
    });

    app.get('/v1/bots/:id', { schema: { 'x-mmd-scope': 'manage', tags: ['bots'], summary: 'A bot you own (or, with its token, the bot itself)', params: IdParams, response: { 200: Bot } } }, async (request) => {
      const principal = await authenticate(request);
      return bots.get(principal, request.params.id);
    });

    app.patch('/v1/bots/:id', { schema: { 'x-mmd-scope': 'device', tags: ['bots'], summary: "Change a bot's name", params: IdParams, body: UpdateBotBody, response: { 200: Bot } } }, async (request) => {
      const principal = await authenticate(request);
      return bots.update(principal, request.params.id, request.body);
    });

    app.delete('/v1/bots/:id', { schema: { 'x-mmd-scope': 'device', tags: ['bots'], summary: 'Delete a bot: its token dies, its connections close, its webhooks stop', params: IdParams } }, async (request, reply) => {
      const principal = await authenticate(request);
      await bots.remove(principal, request.params.id);
      return reply.status(204).send();
    });

    app.post('/v1/bots/:id/token', { schema: { 'x-mmd-scope': 'device', tags: ['bots'], summary: "Rotate a bot's token: the old one stops at once and its connections close; the new one is shown once", params: IdParams, response: { 200: BotWithToken } } }, async (request) => {
      const principal = await authenticate(request);
      return bots.rotateToken(principal, request.params.id);
    });

    app.put('/v1/bots/:id/commands', { schema: { 'x-mmd-scope': 'manage', tags: ['bots'], summary: "Set a bot's commands (its owner, or the bot itself)", params: IdParams, body: BotCommands, response: { 200: BotCommands } } }, async (request) => {
      const principal = await authenticate(request);
      return { commands: await bots.setCommands(principal, request.params.id, request.body.commands) };
    });

    app.get('/v1/bots/:id/commands', { schema: { 'x-mmd-scope': 'manage', tags: ['bots'], summary: "A bot's commands (its owner, or the bot itself)", params: IdParams, response: { 200: BotCommands } } }, async (request) => {
      const principal = await authenticate(request);
      return { commands: await bots.commands(principal, request.params.id) };
    });

    app.get('/v1/accounts/:handle/commands', { schema: { 'x-mmd-scope': 'account', tags: ['bots'], summary: "A bot's commands by handle, for the composer's \"/\" menu (empty for accounts that are not bots)", params: HandleParams, response: { 200: BotCommands } } }, async (request) => {
      await authenticate(request);
      return { commands: await bots.commandsByHandle(request.params.handle) };
    });

    // Webhooks of the caller's own account (a bot with its token, a business with a session)…
    app.post('/v1/webhooks', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: "Register a webhook for your account's events (bot and business accounts); the whsec_ secret is shown once", body: CreateWebhookBody, response: { 201: CreatedWebhook } } }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send(await webhooks.create(principal, principal.accountId, request.body));
    });

    app.get('/v1/webhooks', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: "Your account's webhooks (never the secret)", response: { 200: WebhookList } } }, async (request) => {
      const principal = await authenticate(request);
      return { webhooks: await webhooks.list(principal, principal.accountId) };
    });

    // …and of a bot, by its owner.
    app.post('/v1/bots/:id/webhooks', { schema: { 'x-mmd-scope': 'device', tags: ['webhooks'], summary: "Register a webhook for your bot's events; the whsec_ secret is shown once", params: IdParams, body: CreateWebhookBody, response: { 201: CreatedWebhook } } }, async (request, reply) => {
      const principal = await authenticate(request);
      await bots.get(principal, request.params.id);
      return reply.status(201).send(await webhooks.create(principal, request.params.id, request.body));
    });

    app.get('/v1/bots/:id/webhooks', { schema: { 'x-mmd-scope': 'device', tags: ['webhooks'], summary: "Your bot's webhooks", params: IdParams, response: { 200: WebhookList } } }, async (request) => {
      const principal = await authenticate(request);
      await bots.get(principal, request.params.id);
      return { webhooks: await webhooks.list(principal, request.params.id) };
    });

    app.get('/v1/webhooks/:id', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: 'A webhook', params: IdParams, response: { 200: Webhook } } }, async (request) => {
      const principal = await authenticate(request);
      return webhooks.get(principal, request.params.id);
    });

    app.patch('/v1/webhooks/:id', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: 'Enable or disable a webhook, or change its event types', params: IdParams, body: UpdateWebhookBody, response: { 200: Webhook } } }, async (request) => {
      const principal = await authenticate(request);
      return webhooks.update(principal, request.params.id, request.body);
    });

    app.delete('/v1/webhooks/:id', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: 'Delete a webhook', params: IdParams } }, async (request, reply) => {
      const principal = await authenticate(request);
      await webhooks.remove(principal, request.params.id);
      return reply.status(204).send();
    });

    app.get('/v1/webhooks/:id/deliveries', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: "A webhook's delivery log, newest first: status, attempts, last answer and latency", params: IdParams, querystring: DeliveryQuery, response: { 200: DeliveryList } } }, async (request) => {
      const principal = await authenticate(request);
      return webhooks.deliveries(principal, request.params.id, request.query);
    });

    app.post('/v1/webhooks/:id/deliveries/:delivery_id/replay', { schema: { 'x-mmd-scope': 'manage', tags: ['webhooks'], summary: 'Send a delivery again (same webhook-id), with a fresh retry window', params: DeliveryParams, response: { 200: WebhookDelivery } } }, async (request) => {
      const principal = await authenticate(request);
      return webhooks.replay(principal, request.params.id, request.params.delivery_id);
    });
  };
}
