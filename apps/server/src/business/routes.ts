/**
 * Business routes: the business the caller acts for, its settings and its team, the public
 * profile people see, and the operator's verified mark. Settings and the team need a session
 * (`device`: a business's API keys cannot widen their own reach); reading needs `business:read`.
 */
import {
  BusinessMember,
  BusinessMemberList,
  BusinessProfile,
  BusinessSelf,
  MyBusinesses,
  PutMemberBody,
  SetVerifiedBody,
  UpdateBusinessBody,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import type { Business } from './service.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const HandleParams = Type.Object({ handle: Type.String({ minLength: 1, maxLength: 64 }) });
const MemberParams = Type.Object({ account: Type.String({ minLength: 1, maxLength: 64, description: 'a handle to add or change; an account id or handle to remove' }) });

export function businessRoutes(deps: { business: Business; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { business, authenticate } = deps;
  return async (app) => {
    app.get('/v1/business', { schema: { 'x-mmd-scope': 'business:read', tags: ['business'], summary: 'The business you act for (x-mmd-business header, or the business account itself), its settings and your role', response: { 200: BusinessSelf } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      return { business: await business.profile(actor.businessId), settings: await business.settings(actor.businessId), role: actor.role };
    });

    app.patch('/v1/business', { schema: { 'x-mmd-scope': 'device', tags: ['business'], summary: "Change the business's display name, about line, photo or settings (owners and admins)", body: UpdateBusinessBody, response: { 200: BusinessSelf } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'settings:write');
      await business.update(actor, request.body);
      return { business: await business.profile(actor.businessId), settings: await business.settings(actor.businessId), role: actor.role };
    });

    app.get('/v1/business/members', { schema: { 'x-mmd-scope': 'business:read', tags: ['business'], summary: "The business's team", response: { 200: BusinessMemberList } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      return { members: await business.members(actor.businessId) };
    });

    app.put('/v1/business/members/:account', { schema: { 'x-mmd-scope': 'device', tags: ['business'], summary: "Add a person (by handle) to the team or change their role (owners and admins; only owners make owners and admins)", params: MemberParams, body: PutMemberBody, response: { 200: BusinessMember } } }, async (request) => {
      const actor = await business.actor(request, await authenticate(request), 'team:manage');
      return business.putMember(actor, request.params.account, request.body.role);
    });

    app.delete('/v1/business/members/:account', { schema: { 'x-mmd-scope': 'device', tags: ['business'], summary: 'Remove someone from the team, or leave it yourself', params: MemberParams } }, async (request, reply) => {
      const actor = await business.actor(request, await authenticate(request), 'read');
      const members = await business.members(actor.businessId);
      const target = members.find((m) => m.account_id === request.params.account || m.handle.toLowerCase() === request.params.account.toLowerCase());
      await business.removeMember(actor, target?.account_id ?? request.params.account);
      return reply.status(204).send();
    });

    app.get('/v1/me/businesses', { schema: { 'x-mmd-scope': 'device', tags: ['business'], summary: 'The businesses you work for, with your role', response: { 200: MyBusinesses } } }, async (request) => {
      const principal = await authenticate(request);
      return { businesses: await business.businessesOf(principal.accountId) };
    });

    app.get('/v1/businesses/:handle', { schema: { 'x-mmd-scope': 'account', tags: ['business'], summary: "A business's public profile: display name, photo, about line and the operator's verified mark", params: HandleParams, response: { 200: BusinessProfile } } }, async (request) => {
      await authenticate(request);
      return business.profileByHandle(request.params.handle);
    });

    app.put('/v1/admin/businesses/:id/verified', { schema: { 'x-mmd-scope': 'device', tags: ['business'], summary: "Set or clear a business's verified mark (instance admins)", params: IdParams, body: SetVerifiedBody, response: { 200: BusinessProfile } } }, async (request) => {
      const principal = await authenticate(request);
      if (principal.role !== 'admin') throw new AppError('forbidden', "only the instance's admins verify businesses");
      await business.setVerified({ businessId: request.params.id, verified: request.body.verified, by: principal.accountId });
      return business.profile(request.params.id);
    });
  };
}
