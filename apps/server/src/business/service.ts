/**
 * Businesses and their teams. A business is an account of kind 'business'; people work for it
 * with a role (owner, admin, agent, analyst). Every /v1/business/* route resolves its caller to a
 * BusinessActor with `actor(request, principal, permission)`: the business account itself (its
 * session or API keys, whose scopes the route already checked) acts as the owner; a person acts
 * for a business they are on the team of by naming it in the `x-mmd-business` header.
 *
 * A business a person is not on the team of answers 404, exactly as one that does not exist: the
 * header is not an oracle for which businesses exist or who works where.
 */
import {
  BUSINESS_HEADER,
  type BusinessMember,
  type BusinessProfile,
  type BusinessRole,
  type BusinessSettings,
  DEFAULT_BUSINESS_SETTINGS,
  MAX_TEAM_MEMBERS,
  type UpdateBusinessBody,
} from '@mmd/contracts';
import type { FastifyRequest } from 'fastify';
import { IANAZone } from 'luxon';
import { accountBasics, accountByHandle, handlesOf, type Principal } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { BusinessProfilesTable } from './schema.ts';

/** What a business route may need of its caller. */
export type BusinessPermission =
  | 'read'
  | 'send'
  | 'contacts:write'
  | 'contacts:export'
  | 'templates:write'
  | 'campaigns:write'
  | 'settings:write'
  | 'team:manage';

/** Who is calling a business route, for which business, in which role. */
export interface BusinessActor {
  businessId: string;
  businessHandle: string;
  /** The person on the team making the call, or the business account itself. */
  accountId: string;
  role: BusinessRole;
  principal: Principal;
}

const BY_ROLE: Record<BusinessRole, ReadonlySet<BusinessPermission>> = {
  owner: new Set(['read', 'send', 'contacts:write', 'contacts:export', 'templates:write', 'campaigns:write', 'settings:write', 'team:manage']),
  admin: new Set(['read', 'send', 'contacts:write', 'contacts:export', 'templates:write', 'campaigns:write', 'settings:write', 'team:manage']),
  agent: new Set(['read', 'send', 'contacts:write']),
  analyst: new Set(['read']),
};

/** Whether `role` may do `permission` (agents export contacts only where the business allows it). */
export function roleAllows(role: BusinessRole, permission: BusinessPermission, settings: Pick<BusinessSettings, 'agents_may_export'>): boolean {
  if (permission === 'contacts:export' && role === 'agent') return settings.agents_may_export;
  return BY_ROLE[role].has(permission);
}

const WHAT: Record<BusinessPermission, string> = {
  read: 'read the business',
  send: "send messages as the business",
  'contacts:write': 'change contacts',
  'contacts:export': 'export contacts',
  'templates:write': 'change templates',
  'campaigns:write': 'run campaigns',
  'settings:write': "change the business's settings",
  'team:manage': 'manage the team',
};

export interface BusinessDeps {
  db: Database;
  clock: () => number;
}

function parseSettings(json: string | undefined): BusinessSettings {
  if (!json) return { ...DEFAULT_BUSINESS_SETTINGS };
  return { ...DEFAULT_BUSINESS_SETTINGS, ...(JSON.parse(json) as Partial<BusinessSettings>) };
}

/** Checks what a schema cannot: a real IANA zone, a well-formed locale. */
function validateSettings(settings: BusinessSettings) {
  const errors: { path: string; message: string }[] = [];
  if (!IANAZone.isValidZone(settings.default_time_zone)) errors.push({ path: '/settings/default_time_zone', message: `unknown IANA time zone "${settings.default_time_zone}"` });
  try {
    Intl.getCanonicalLocales(settings.default_locale);
  } catch {
    errors.push({ path: '/settings/default_locale', message: `not a BCP 47 locale: "${settings.default_locale}"` });
  }
  if (settings.quiet_hours && settings.quiet_hours.start === settings.quiet_hours.end)
    errors.push({ path: '/settings/quiet_hours', message: 'quiet hours that start when they end would hold every message; send null for none' });
  if (errors.length > 0) throw new AppError('validation_failed', errors.map((e) => e.message).join('; '), { errors });
}

export function createBusiness(deps: BusinessDeps) {
  const { db, clock } = deps;

  async function profileRow(businessId: string): Promise<BusinessProfilesTable | undefined> {
    return db.db.selectFrom('business_profiles').selectAll().where('business_id', '=', businessId).executeTakeFirst();
  }

  function toProfile(account: { id: string; handle: string }, row: BusinessProfilesTable | undefined): BusinessProfile {
    return {
      id: account.id,
      handle: account.handle,
      display_name: row?.display_name ?? account.handle,
      about: row?.about ?? null,
      avatar_media_id: row?.avatar_media_id ?? null,
      verified: Number(row?.verified ?? 0) === 1,
    };
  }

  async function businessAccount(businessId: string) {
    const account = await accountBasics(db.db, businessId);
    return account?.kind === 'business' ? account : undefined;
  }

  /** The business's settings (defaults where it chose none). */
  async function settings(businessId: string): Promise<BusinessSettings> {
    return parseSettings((await profileRow(businessId))?.settings);
  }

  /** A person's role on a business's team, or undefined. The business account itself is the owner. */
  async function roleOf(businessId: string, accountId: string): Promise<BusinessRole | undefined> {
    if (accountId === businessId) return (await businessAccount(businessId)) ? 'owner' : undefined;
    const row = await db.db.selectFrom('business_members').select('role').where('business_id', '=', businessId).where('account_id', '=', accountId).executeTakeFirst();
    return row?.role;
  }

  /**
   * The caller of a business route, checked for `permission`. The route's API scope is checked
   * before this (installScopeGuard); this adds who the caller is to the business.
   */
  async function actor(request: FastifyRequest, principal: Principal, permission: BusinessPermission): Promise<BusinessActor> {
    const header = request.headers[BUSINESS_HEADER];
    const named = typeof header === 'string' && header.length > 0 ? header : null;
    if (named !== null && named.length > 64) throw notFound('business');
    let businessId: string;
    if (principal.kind === 'business') {
      // A business acts only as itself.
      if (named !== null && named !== principal.accountId) throw notFound('business');
      businessId = principal.accountId;
    } else if (principal.kind === 'person') {
      if (named === null) throw new AppError('business_required', `name the business you act for in the ${BUSINESS_HEADER} header`);
      businessId = named;
    } else {
      throw new AppError('forbidden', 'bots do not act for businesses; use the business account or a team member');
    }
    const role = await roleOf(businessId, principal.accountId);
    if (!role) throw notFound('business');
    const business = await businessAccount(businessId);
    if (!business) throw notFound('business');
    if (!roleAllows(role, permission, await settings(businessId))) throw new AppError('forbidden', `a team member with the ${role} role may not ${WHAT[permission]}`);
    return { businessId, businessHandle: business.handle, accountId: principal.accountId, role, principal };
  }

  /** The business's public face, for anyone signed in (404 for an account that is not a business). */
  async function profile(businessId: string): Promise<BusinessProfile> {
    const account = await businessAccount(businessId);
    if (!account) throw notFound('business');
    return toProfile(account, await profileRow(businessId));
  }

  async function profileByHandle(handle: string): Promise<BusinessProfile> {
    const account = await accountByHandle(db.db, handle);
    if (account?.kind !== 'business') throw notFound('business');
    return toProfile(account, await profileRow(account.id));
  }

  /** Profiles of several accounts that are businesses (others are left out), for lists and chats. */
  async function profiles(accountIds: string[]): Promise<Map<string, BusinessProfile>> {
    const out = new Map<string, BusinessProfile>();
    if (accountIds.length === 0) return out;
    const accounts = await db.db.selectFrom('accounts').select(['id', 'handle']).where('id', 'in', accountIds).where('kind', '=', 'business').execute();
    if (accounts.length === 0) return out;
    const rows = await db.db.selectFrom('business_profiles').selectAll().where('business_id', 'in', accounts.map((a) => a.id)).execute();
    const byId = new Map(rows.map((r) => [r.business_id, r]));
    for (const a of accounts) out.set(a.id, toProfile(a, byId.get(a.id)));
    return out;
  }

  async function upsertProfile(businessId: string, patch: Partial<Omit<BusinessProfilesTable, 'business_id'>>) {
    const account = await businessAccount(businessId);
    if (!account) throw notFound('business');
    const now = clock();
    const existing = await profileRow(businessId);
    if (existing) {
      await db.db.updateTable('business_profiles').set({ ...patch, updated_at: now }).where('business_id', '=', businessId).execute();
    } else {
      await db.db
        .insertInto('business_profiles')
        .values({
          business_id: businessId,
          display_name: account.handle,
          about: null,
          avatar_media_id: null,
          verified: 0,
          verified_at: null,
          verified_by: null,
          settings: JSON.stringify(DEFAULT_BUSINESS_SETTINGS),
          ...patch,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('business_id').doUpdateSet({ ...patch, updated_at: now }))
        .execute();
    }
  }

  async function update(actorValue: BusinessActor, body: UpdateBusinessBody) {
    const patch: Partial<BusinessProfilesTable> = {};
    if (body.display_name !== undefined) patch.display_name = body.display_name.trim() || actorValue.businessHandle;
    if (body.about !== undefined) patch.about = body.about;
    if (body.avatar_media_id !== undefined) patch.avatar_media_id = body.avatar_media_id;
    if (body.settings !== undefined) {
      const next = { ...(await settings(actorValue.businessId)), ...body.settings };
      validateSettings(next);
      patch.settings = JSON.stringify(next);
    }
    await upsertProfile(actorValue.businessId, patch);
  }

  /** The operator's verified mark (instance admins only; checked by the route). */
  async function setVerified(options: { businessId: string; verified: boolean; by: string }) {
    await upsertProfile(options.businessId, { verified: options.verified ? 1 : 0, verified_at: options.verified ? clock() : null, verified_by: options.verified ? options.by : null });
  }

  /** The team: the business account itself (owner) first, then people by when they joined. */
  async function members(businessId: string): Promise<BusinessMember[]> {
    const rows = await db.db.selectFrom('business_members').selectAll().where('business_id', '=', businessId).orderBy('created_at').orderBy('account_id').execute();
    const handles = await handlesOf(db.db, [businessId, ...rows.map((r) => r.account_id)]);
    const account = await businessAccount(businessId);
    return [
      { account_id: businessId, handle: handles.get(businessId) ?? account?.handle ?? '', role: 'owner', added_at: 0, is_business: true },
      ...rows.map((r) => ({ account_id: r.account_id, handle: handles.get(r.account_id) ?? '', role: r.role, added_at: Number(r.created_at), is_business: false })),
    ];
  }

  /**
   * Account ids of everyone on the team (the business account included), to address live events to.
   * `reader`: the caller's transaction, when called inside one (an event tap).
   */
  async function teamIds(businessId: string, reader: Database['db'] | Tx = db.db): Promise<string[]> {
    const rows = await reader.selectFrom('business_members').select('account_id').where('business_id', '=', businessId).orderBy('account_id').execute();
    return [businessId, ...rows.map((r) => r.account_id)];
  }

  /**
   * Adds a person to the team or changes their role. Owners and admins manage the team; only an
   * owner makes or unmakes owners and admins.
   */
  async function putMember(actorValue: BusinessActor, handle: string, role: BusinessRole): Promise<BusinessMember> {
    const target = await accountByHandle(db.db, handle);
    if (!target) throw notFound('account');
    if (target.kind !== 'person') throw new AppError('validation_failed', 'only people join a business team (bots act through their own tokens)', { errors: [{ path: '/handle', message: 'not a person' }] });
    if (target.id === actorValue.accountId) throw new AppError('forbidden', 'you cannot change your own role');
    const current = await roleOf(actorValue.businessId, target.id);
    const elevated = (r: BusinessRole | undefined) => r === 'owner' || r === 'admin';
    if ((elevated(role) || elevated(current)) && actorValue.role !== 'owner') throw new AppError('forbidden', 'only an owner makes or changes owners and admins');
    const now = clock();
    if (current === undefined) {
      const count = await db.db.selectFrom('business_members').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', actorValue.businessId).executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_TEAM_MEMBERS) throw new AppError('limit_reached', `a team has at most ${MAX_TEAM_MEMBERS} people`);
      await db.db
        .insertInto('business_members')
        .values({ business_id: actorValue.businessId, account_id: target.id, role, added_by: actorValue.accountId, created_at: now })
        .onConflict((oc) => oc.columns(['business_id', 'account_id']).doUpdateSet({ role }))
        .execute();
    } else {
      await db.db.updateTable('business_members').set({ role }).where('business_id', '=', actorValue.businessId).where('account_id', '=', target.id).execute();
    }
    const row = await db.db.selectFrom('business_members').selectAll().where('business_id', '=', actorValue.businessId).where('account_id', '=', target.id).executeTakeFirstOrThrow();
    return { account_id: target.id, handle: target.handle, role: row.role, added_at: Number(row.created_at), is_business: false };
  }

  async function removeMember(actorValue: BusinessActor, accountId: string) {
    if (accountId === actorValue.businessId) throw new AppError('forbidden', 'the business account is always its own owner');
    const current = await roleOf(actorValue.businessId, accountId);
    if (current === undefined) throw notFound('team member');
    // Anyone may leave; removing someone else needs team:manage, and owners/admins an owner.
    if (accountId !== actorValue.accountId) {
      if (!roleAllows(actorValue.role, 'team:manage', DEFAULT_BUSINESS_SETTINGS)) throw new AppError('forbidden', `a team member with the ${actorValue.role} role may not manage the team`);
      if ((current === 'owner' || current === 'admin') && actorValue.role !== 'owner') throw new AppError('forbidden', 'only an owner removes owners and admins');
    }
    await db.db.deleteFrom('business_members').where('business_id', '=', actorValue.businessId).where('account_id', '=', accountId).execute();
  }

  /** The businesses a person works for, with their role. */
  async function businessesOf(accountId: string): Promise<{ business: BusinessProfile; role: BusinessRole }[]> {
    const rows = await db.db.selectFrom('business_members').select(['business_id', 'role']).where('account_id', '=', accountId).orderBy('created_at').orderBy('business_id').execute();
    const byId = await profiles(rows.map((r) => r.business_id));
    return rows.flatMap((r) => {
      const business = byId.get(r.business_id);
      return business ? [{ business, role: r.role }] : [];
    });
  }

  return { actor, roleOf, settings, profile, profileByHandle, profiles, update, setVerified, members, teamIds, putMember, removeMember, businessesOf };
}

export type Business = ReturnType<typeof createBusiness>;
