/**
 * Campaign routes: /v1/business/campaigns. Reading needs any role ('read', scope business:read);
 * creating and running campaigns needs 'campaigns:write' (owners, admins; scope campaigns:write);
 * a test send goes to team members and needs 'send'.
 */
import { Readable } from 'node:stream';
import {
  Campaign,
  CampaignDetail,
  CampaignList,
  CampaignRecipientList,
  CreateCampaignBody,
  CreateNotificationBody,
  Notification,
  RecipientStatus,
  ResendCampaignBody,
  TestCampaignBody,
  TestCampaignReply,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { stringify } from 'csv-stringify/sync';
import { escapeCell } from '../contacts/csv-cells.ts';
import { Type } from 'typebox';
import type { Business } from '../business/index.ts';
import type { Authenticate } from '../http/auth.ts';
import type { Notifications } from './notifications.ts';
import type { Campaigns } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ListQuery = Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) });
const RecipientsQuery = Type.Object({
  status: Type.Optional(RecipientStatus),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});
const ACTIONS = ['start', 'pause', 'resume', 'cancel'] as const;
const CSV_COLUMNS = ['run_id', 'contact_id', 'variant', 'status', 'reason', 'message_id', 'send_after', 'updated_at'] as const;

export function campaignRoutes(deps: { campaigns: Campaigns; notifications: Notifications; business: Business; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { campaigns, notifications, business, authenticate } = deps;
  return async (app) => {
    app.get('/v1/business/campaigns', { schema: { 'x-mmd-scope': 'business:read', tags: ['campaigns'], summary: "The business's campaigns, newest first", querystring: ListQuery, response: { 200: CampaignList } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      return campaigns.list(actor, request.query);
    });

    app.post(
      '/v1/business/campaigns',
      {
        schema: {
          'x-mmd-scope': 'campaigns:write',
          tags: ['campaigns'],
          summary: 'Create a campaign (a draft): audience, template versions (A/B), schedule, throttle. Checked now: a past schedule, a throttle of 0, a cron that never fires, an empty audience, an unapproved template or unknown variables are refused',
          body: CreateCampaignBody,
          response: { 201: Campaign },
        },
      },
      async (request, reply) => {
        const actor = await business.actor(request, await authenticate(request), 'campaigns:write');
        return reply.status(201).send(await campaigns.create(actor, request.body));
      },
    );

    app.get('/v1/business/campaigns/:id', { schema: { 'x-mmd-scope': 'business:read', tags: ['campaigns'], summary: 'A campaign with its runs and funnel counts, overall and per variant', params: IdParams, response: { 200: CampaignDetail } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      return campaigns.get(actor, request.params.id);
    });

    for (const action of ACTIONS) {
      app.post(`/v1/business/campaigns/:id/${action}`, { schema: { 'x-mmd-scope': 'campaigns:write', tags: ['campaigns'], summary: `${action[0]!.toUpperCase()}${action.slice(1)} a campaign`, params: IdParams, response: { 200: CampaignDetail } } }, async (request) => {
        const actor = await business.actor(request, await authenticate(request), 'campaigns:write');
        return campaigns[action](actor, request.params.id);
      });
    }

    app.post('/v1/business/campaigns/:id/resend', { schema: { 'x-mmd-scope': 'campaigns:write', tags: ['campaigns'], summary: "A follow-up run to the last run's failed or unread recipients", params: IdParams, body: ResendCampaignBody, response: { 200: CampaignDetail } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'campaigns:write');
      return campaigns.resend(actor, request.params.id, request.body);
    });

    app.post('/v1/business/campaigns/:id/test', { schema: { 'x-mmd-scope': 'campaigns:write', tags: ['campaigns'], summary: 'Send each variant, marked as a test, to team members (default: yourself)', params: IdParams, body: TestCampaignBody, response: { 200: TestCampaignReply } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'send');
      return campaigns.test(actor, request.params.id, request.body ?? {});
    });

    app.get('/v1/business/campaigns/:id/recipients', { schema: { 'x-mmd-scope': 'business:read', tags: ['campaigns'], summary: 'Recipients and their status, paged; filter by status', params: IdParams, querystring: RecipientsQuery, response: { 200: CampaignRecipientList } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      return campaigns.recipients(actor, request.params.id, request.query);
    });

    app.post(
      '/v1/notifications',
      {
        schema: {
          'x-mmd-scope': 'notifications:write',
          tags: ['campaigns'],
          summary: 'A transactional message (order update, reminder) from a template to one contact. The same idempotency key returns the same notification and never sends twice; status changes reach the business as notification.sent|delivered|read|failed events (and its webhooks)',
          body: CreateNotificationBody,
          response: { 200: Notification, 201: Notification },
        },
      },
      async (request, reply) => {
        const actor = await business.actor(request, await authenticate(request), 'campaigns:write');
        const { notification, replayed } = await notifications.create(actor, request.body);
        return reply.status(replayed ? 200 : 201).send(notification);
      },
    );

    app.get('/v1/notifications/:id', { schema: { 'x-mmd-scope': 'business:read', tags: ['campaigns'], summary: "A notification and its status", params: IdParams, response: { 200: Notification } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      return notifications.get(actor, request.params.id);
    });

    app.get('/v1/business/campaigns/:id/export', { schema: { 'x-mmd-scope': 'business:read', tags: ['campaigns'], summary: 'Every recipient and their status as CSV (streamed page by page)', params: IdParams } }, async (request, reply) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      const pages = campaigns.exportRows(actor, request.params.id);
      // The first page is read before answering, so a campaign that is not there is a 404, not a broken download.
      const first = await pages.next();
      async function* csv() {
        yield stringify([[...CSV_COLUMNS]]);
        let page = first;
        while (!page.done) {
          yield stringify(page.value.map((r) => CSV_COLUMNS.map((k) => escapeCell(r[k] === null ? '' : String(r[k])))));
          page = await pages.next();
        }
      }
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${request.params.id}.csv"`)
        .send(Readable.from(csv()));
    });
  };
}
