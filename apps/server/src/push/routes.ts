import { CreatePushSubscriptionBody, PushSubscriptionList, PushSubscriptionView, PushVapidKey } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import { createWindowLimiter } from '../http/window-limit.ts';
import type { Push } from './service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });

export function pushRoutes(deps: { push: Push; authenticate: Authenticate; clock: () => number; subscribeLimit: { max: number; windowMs: number } }): FastifyPluginAsyncTypebox {
  const { push, authenticate } = deps;
  // Each registration makes the server POST to a URL the caller chose: counted per account.
  const limiter = createWindowLimiter({ ...deps.subscribeLimit, clock: deps.clock });
  return async (app) => {
    app.get('/v1/push/vapid-key', { schema: { 'x-mmd-scope': 'device', tags: ['push'], summary: "The server's VAPID public key: the applicationServerKey a browser subscribes with", response: { 200: PushVapidKey } } }, async (request) => {
      await authenticate(request);
      return push.vapidKey();
    });

    app.post('/v1/push/subscriptions', {
      schema: {
        'x-mmd-scope': 'device',
        tags: ['push'],
        summary: 'Register this device\'s Web Push subscription (PushSubscription.toJSON(), plus `previews`); registering the same endpoint again updates it',
        body: CreatePushSubscriptionBody,
        response: { 200: PushSubscriptionView, 201: PushSubscriptionView },
      },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const waitMs = limiter.hit(principal.accountId);
      if (waitMs > 0) throw new AppError('rate_limited', `too many push registrations; retry in ${Math.ceil(waitMs / 1000)} s`, { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } });
      const { subscription, created } = await push.subscribe(principal, request.body);
      return reply.status(created ? 201 : 200).send(subscription);
    });

    app.get('/v1/push/subscriptions', { schema: { 'x-mmd-scope': 'device', tags: ['push'], summary: "This device's push subscriptions", response: { 200: PushSubscriptionList } } }, async (request) => {
      const principal = await authenticate(request);
      return { subscriptions: await push.list(principal) };
    });

    app.delete('/v1/push/subscriptions/:id', { schema: { 'x-mmd-scope': 'device', tags: ['push'], summary: 'Delete one of your push subscriptions (no more pushes to it)', params: Type.Object({ id: Id }) } }, async (request, reply) => {
      const principal = await authenticate(request);
      await push.unsubscribe(principal, request.params.id);
      return reply.status(204).send();
    });
  };
}
