/**
 * Segment routes: a business's saved audience rules, and live counts for the console's rule
 * builder (of an unsaved rule, or of a saved segment). Reading and counting need `read`
 * (`business:read`); changing segments needs `campaigns:write` (owners and admins).
 */
import { CountSegmentBody, CreateSegmentBody, Segment, SegmentCount, SegmentList, type SegmentRule, UpdateSegmentBody } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Business, BusinessPermission } from '../business/index.ts';
import type { Authenticate } from '../http/auth.ts';
import type { Segments } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['segments'];

export function segmentRoutes(deps: { segments: Segments; business: Pick<Business, 'actor'>; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { segments, business, authenticate } = deps;
  return async (app) => {
    const actor = async (request: Parameters<Authenticate>[0], permission: BusinessPermission) => business.actor(request, await authenticate(request), permission);

    app.get('/v1/business/segments', { schema: { 'x-mmd-scope': 'business:read', tags, summary: "The business's segments, by name", response: { 200: SegmentList } } }, async (request) => ({
      segments: await segments.list(await actor(request, 'read')),
    }));

    app.post(
      '/v1/business/segments',
      { schema: { 'x-mmd-scope': 'campaigns:write', tags, summary: 'Save a segment: a name and a rule (checked against the attribute definitions; invalid_segment lists each problem)', body: CreateSegmentBody, response: { 201: Segment } } },
      async (request, reply) => {
        const body = request.body as { name: string; description?: string | null; rule: SegmentRule };
        return reply.status(201).send(await segments.create(await actor(request, 'campaigns:write'), body));
      },
    );

    app.post(
      '/v1/business/segments/count',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'How many contacts an unsaved rule matches now (for a rule builder)', body: CountSegmentBody, response: { 200: SegmentCount } } },
      async (request) => segments.count(await actor(request, 'read'), (request.body as { rule: unknown }).rule),
    );

    app.get('/v1/business/segments/:id', { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'One segment', params: IdParams, response: { 200: Segment } } }, async (request) =>
      segments.get(await actor(request, 'read'), request.params.id),
    );

    app.get('/v1/business/segments/:id/count', { schema: { 'x-mmd-scope': 'business:read', tags, summary: "How many contacts a saved segment matches now", params: IdParams, response: { 200: SegmentCount } } }, async (request) =>
      segments.countSaved(await actor(request, 'read'), request.params.id),
    );

    app.patch(
      '/v1/business/segments/:id',
      { schema: { 'x-mmd-scope': 'campaigns:write', tags, summary: "Rename a segment or change its rule", params: IdParams, body: UpdateSegmentBody, response: { 200: Segment } } },
      async (request) => segments.update(await actor(request, 'campaigns:write'), request.params.id, request.body as { name?: string; description?: string | null; rule?: unknown }),
    );

    app.delete('/v1/business/segments/:id', { schema: { 'x-mmd-scope': 'campaigns:write', tags, summary: 'Delete a segment', params: IdParams } }, async (request, reply) => {
      await segments.remove(await actor(request, 'campaigns:write'), request.params.id);
      return reply.status(204).send();
    });
  };
}
