/**
 * Template routes. Reading (list, get, preview) needs `business:read` and any role on the team;
 * writing (create, change, archive, approve) needs `templates:write` and an owner or admin.
 * `GET /r/{token}` is the public redirect of tracked links.
 */
import {
  ApproveTemplateBody,
  CreateMessageTemplateBody,
  MessageTemplate,
  MessageTemplateList,
  PreviewTemplateBody,
  TemplatePreview,
  UpdateMessageTemplateBody,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Business } from '../business/index.ts';
import { notFound } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import { MAX_TEMPLATES, type Templates } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['templates'];

/**
 * At most `max` recorded clicks of one link from one address per minute. Past it the link still
 * redirects (a person must still reach the page) but the click is not written: a script replaying
 * a link can neither inflate a campaign's clicks without bound nor fill the table. (Links are
 * signed: nobody can make new ones to replay.)
 */
function clickAllowance(max: number, windowMs = 60_000) {
  const counts = new Map<string, { start: number; n: number }>();
  return {
    take(key: string): boolean {
      const now = Date.now();
      if (counts.size > 100_000) counts.clear();
      const entry = counts.get(key);
      if (!entry || now - entry.start >= windowMs) {
        counts.set(key, { start: now, n: 1 });
        return true;
      }
      entry.n += 1;
      return entry.n <= max;
    },
  };
}

export function templateRoutes(deps: {
  templates: Templates;
  business: Business;
  authenticate: Authenticate;
  clicksPerMinute?: number;
  /** Previews per account and business per window: each may draw a picture. */
  previewLimit?: { max: number; windowMs: number };
}): FastifyPluginAsyncTypebox {
  const { templates, business, authenticate } = deps;
  const clicks = clickAllowance(deps.clicksPerMinute ?? 5);
  return async (app) => {
    app.get(
      '/v1/business/templates',
      {
        schema: {
          'x-mmd-scope': 'business:read',
          tags,
          summary: "The business's templates, by name (archived ones with ?archived=true)",
          querystring: Type.Object(
            {
              archived: Type.Optional(Type.Boolean()),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TEMPLATES, description: `templates per page (default and most: ${MAX_TEMPLATES}, the most a business may have active)` })),
              after: Type.Optional(Type.String({ maxLength: 400, description: 'the `next` of the previous page' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: MessageTemplateList },
        },
      },
      async (request) =>
        templates.list(await business.actor(request, await authenticate(request), 'read'), {
          includeArchived: request.query.archived === true,
          ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
          ...(request.query.after !== undefined ? { after: request.query.after } : {}),
        }),
    );
    app.post(
      '/v1/business/templates',
      { schema: { 'x-mmd-scope': 'templates:write', tags, summary: 'Create a template; its first version is a draft (owners and admins)', body: CreateMessageTemplateBody, response: { 201: MessageTemplate } } },
      async (request, reply) => reply.status(201).send(await templates.create(await business.actor(request, await authenticate(request), 'templates:write'), request.body)),
    );
    app.get(
      '/v1/business/templates/:id',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'A template with its newest and its approved version', params: IdParams, response: { 200: MessageTemplate } } },
      async (request) => templates.get(await business.actor(request, await authenticate(request), 'read'), request.params.id),
    );
    app.patch(
      '/v1/business/templates/:id',
      {
        schema: {
          'x-mmd-scope': 'templates:write',
          tags,
          summary: 'Rename, change the purpose, or change the content: content changes are a new draft version (approved versions never change)',
          params: IdParams,
          body: UpdateMessageTemplateBody,
          response: { 200: MessageTemplate },
        },
      },
      async (request) => templates.update(await business.actor(request, await authenticate(request), 'templates:write'), request.params.id, request.body),
    );
    app.delete(
      '/v1/business/templates/:id',
      { schema: { 'x-mmd-scope': 'templates:write', tags, summary: 'Archive a template (its versions stay for campaigns that name them)', params: IdParams } },
      async (request, reply) => {
        await templates.archive(await business.actor(request, await authenticate(request), 'templates:write'), request.params.id);
        return reply.status(204).send();
      },
    );
    app.post(
      '/v1/business/templates/:id/approve',
      {
        schema: { 'x-mmd-scope': 'templates:write', tags, summary: 'Approve a draft version (the newest by default): only approved versions are sent', params: IdParams, body: Type.Optional(ApproveTemplateBody), response: { 200: MessageTemplate } },
      },
      async (request) => templates.approve(await business.actor(request, await authenticate(request), 'templates:write'), request.params.id, request.body ?? {}),
    );
    app.post(
      '/v1/business/templates/:id/preview',
      {
        schema: {
          'x-mmd-scope': 'business:read',
          tags,
          summary: 'Render a version (drafts too) for a contact or given variables: the message, and the personalised media as a link',
          params: IdParams,
          body: PreviewTemplateBody,
          response: { 200: TemplatePreview },
        },
        config: {
          rateLimit: {
            max: deps.previewLimit?.max ?? 30,
            timeWindow: deps.previewLimit?.windowMs ?? 60_000,
            // Keyed by the account asking and the business it acts for; a request that does not
            // authenticate is keyed by address (the handler then refuses it).
            keyGenerator: async (request) => {
              try {
                const principal = await authenticate(request);
                return `template-preview|${principal.accountId}|${String(request.headers['x-mmd-business'] ?? '')}`;
              } catch {
                return `template-preview|${request.ip}`;
              }
            },
          },
        },
      },
      async (request) => templates.preview(await business.actor(request, await authenticate(request), 'read'), request.params.id, request.body),
    );

    app.get(
      '/r/:token',
      { schema: { 'x-mmd-scope': 'public', tags, summary: 'A tracked link in a template message: records the click and redirects to the button’s own URL', params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }) } },
      async (request, reply) => {
        // Keyed by the signature (the token's last 27 characters): small keys, one per link.
        const target = await templates.follow(request.params.token, { record: clicks.take(`${request.ip} ${request.params.token.slice(-27)}`) });
        if (!target) throw notFound('link');
        return reply.status(302).header('location', target).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
      },
    );
  };
}
