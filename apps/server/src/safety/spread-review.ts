/**
 * The safety team's side of spread (issue 12): live clusters and their decisions (hold, clear,
 * take down the whole cluster), the alert when a cluster reaches the hold tier, and suspected
 * coordinated amplification with its actions (rate-limit, review of their shares, suspend).
 * Messaging owns the spread data; this reads and changes it through messaging's public functions,
 * and owns what only safety does: takedowns, the audit log, suspension.
 */
import type { AmplificationList, RestrictAccountBody, SpreadClusterDetail, SpreadClusterList, SpreadDecisionBody, SpreadDecisionReply } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AmplificationList as AmplificationListSchema, AmplificationQuery, RestrictAccountBody as RestrictAccountBodySchema, RestrictAccountReply, SpreadClusterDetail as SpreadClusterDetailSchema, SpreadClusterList as SpreadClusterListSchema, SpreadClustersQuery, SpreadDecisionBody as SpreadDecisionBodySchema, SpreadDecisionReply as SpreadDecisionReplySchema } from '@mmd/contracts';
import { Type } from 'typebox';
import { type Principal, accountBasics, accountStates, setSuspended } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import {
  type SpreadAlert,
  type SpreadPolicy,
  decideSpreadCluster,
  listSpreadClusters,
  restrictSharing,
  spreadClusterDetail,
  spreadClusterId,
  spreadClusterSummary,
  sharingRestrictions,
  suspectedNetworks,
  AMPLIFICATION_TASKS,
  type AmplificationParams,
  type AmplificationTasks,
  type ShareRecord,
} from '../messaging/index.ts';
import { createThreadPool } from '../platform/queue/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { requireModerator } from './access.ts';
import { appendAudit } from './audit.ts';
import type { Takedowns } from './takedown.ts';

/** Items of a cluster handed to a takedown: it finds every other near copy itself. */
const TAKEDOWN_SEEDS = 50;

/** The hold-tier alert (messaging calls it through the spread policy, in the sharing transaction). */
export async function recordSpreadAlert(tx: Tx, alert: SpreadAlert): Promise<void> {
  await appendAudit(tx, {
    at: alert.at,
    actorId: null,
    action: 'spread.alert',
    subjectType: 'cluster',
    subjectId: alert.publicId,
    detail: { chats_per_minute: alert.velocity.chatsPerMinute, chats_per_hour: alert.velocity.chatsPerHour, sharers_per_hour: alert.velocity.sharersPerHour },
  });
}

/** How long one detection of coordinated sharing serves the console. */
const NETWORKS_TTL_MS = 60_000;

export function createSpreadReview(deps: { db: Database; write: WriteWithEvents; takedowns: Takedowns; clock: () => number; policy: SpreadPolicy; onSuspended?: (accountId: string) => void }) {
  const { db, write, clock, policy } = deps;
  const networkCache = new Map<number, { at: number; found: ReturnType<typeof suspectedNetworks> }>();
  // Detection runs on a thread of its own, started on first use (most instances never open the tab).
  const pool = createThreadPool<AmplificationTasks>({ file: AMPLIFICATION_TASKS, size: 1 });
  const detect = (shares: ShareRecord[], createdAt: [string, number][], params: AmplificationParams) => pool.run('detect', [shares, createdAt, params]);

  async function mediaOfCluster(publicId: string, limit: number): Promise<string[]> {
    const id = await spreadClusterId(db.db, publicId);
    const rows = await db.db.selectFrom('safety_media_hashes').select('media_id').where('cluster_id', '=', id).orderBy('id').limit(limit).execute();
    return rows.map((r) => r.media_id);
  }

  return {
    async list(q: { hours?: number; limit?: number }): Promise<SpreadClusterList> {
      return listSpreadClusters(db.db, { now: clock(), hours: q.hours ?? 24, limit: q.limit ?? 50, policy });
    },

    async detail(publicId: string): Promise<SpreadClusterDetail> {
      const detail = await spreadClusterDetail(db.db, { publicId, now: clock(), policy });
      return { ...detail, media_ids: await mediaOfCluster(publicId, 20) };
    },

    /** Whether a media item belongs to the cluster (its previews are shown on the cluster's page). */
    async hasMedia(publicId: string, mediaId: string): Promise<boolean> {
      const id = await spreadClusterId(db.db, publicId);
      const row = await db.db.selectFrom('safety_media_hashes').select('id').where('cluster_id', '=', id).where('media_id', '=', mediaId).executeTakeFirst();
      return row !== undefined;
    },

    async decide(principal: Principal, publicId: string, body: SpreadDecisionBody): Promise<SpreadDecisionReply> {
      await spreadClusterId(db.db, publicId); // not found first
      let takedownId: string | null = null;
      if (body.action === 'takedown') {
        const seeds = await mediaOfCluster(publicId, TAKEDOWN_SEEDS);
        if (seeds.length === 0) throw new AppError('conflict', 'this cluster has no stored media left to take down');
        const result = await deps.takedowns.run(principal.accountId, { mediaIds: seeds, reason: body.note ?? `spreading cluster ${publicId} taken down` });
        takedownId = result.id;
      }
      const state = body.action === 'hold' ? 'hold' : body.action === 'clear' ? 'cleared' : 'removed';
      const now = clock();
      const outcome = await write(async (tx, emit) => {
        const r = await decideSpreadCluster(tx, emit, { publicId, state, actorId: principal.accountId, now, policy });
        await appendAudit(tx, {
          at: now,
          actorId: principal.accountId,
          action: 'spread.decided',
          subjectType: 'cluster',
          subjectId: publicId,
          detail: { decision: body.action, released: r.released, rejected: r.rejected, ...(takedownId ? { takedown_id: takedownId } : {}), ...(body.note ? { note: body.note } : {}) },
        });
        return r;
      });
      return { cluster: await spreadClusterSummary(db.db, { publicId, now: clock(), policy }), released: outcome.released, rejected: outcome.rejected, takedown_id: takedownId };
    },

    async networks(q: { hours?: number }): Promise<AmplificationList> {
      const hours = q.hours ?? 24;
      const now = clock();
      // Detection reads up to 200,000 shares and takes seconds on a busy day (bench:amplification):
      // one run per window length a minute serves every moderator's polling.
      let entry = networkCache.get(hours);
      if (!entry || now - entry.at > NETWORKS_TTL_MS) {
        entry = { at: now, found: suspectedNetworks(db.db, { now, hours, detect }) };
        networkCache.set(hours, entry);
        entry.found.catch(() => networkCache.delete(hours));
      }
      const found = await entry.found;
      // Restrictions and suspensions change with moderators' actions: read fresh.
      const members = found.networks.flatMap((n) => n.accounts.map((a) => a.accountId));
      found.restrictions = await sharingRestrictions(db.db, members);
      found.states = new Map([...found.states, ...(await accountStates(db.db, members))]);
      return {
        window_hours: hours,
        networks: found.networks.map((n) => ({
          id: `net_${[...n.accounts.map((a) => a.accountId)].sort()[0]!.slice(-12)}_${n.accounts.length}`,
          score: n.score,
          accounts: n.accounts.map((a) => ({
            account_id: a.accountId,
            handle: found.handles.get(a.accountId) ?? 'deleted',
            account_age_days: Math.round(((now - (found.states.get(a.accountId)?.createdAt ?? now)) / 86_400_000) * 10) / 10,
            shares: a.shares,
            chats: a.chats,
            timing_cv: a.timingCv,
            restriction: found.restrictions.get(a.accountId) ?? null,
            suspended: found.states.get(a.accountId)?.suspended ?? false,
          })),
          evidence: {
            co_shared_clusters: n.clusters.map((c) => found.publicIds.get(c) ?? String(c)),
            co_shares: n.coShares,
            chats: n.chats,
            young_accounts: n.young,
            machine_like_accounts: n.machineLike,
            first_at: n.firstAt,
            last_at: n.lastAt,
          },
        })),
      };
    },

    async restrict(principal: Principal, accountId: string, body: RestrictAccountBody) {
      if (accountId === principal.accountId) throw new AppError('conflict', 'you cannot restrict your own account');
      const now = clock();
      const result = await write(async (tx, emit) => {
        const target = await accountBasics(tx, accountId);
        if (!target) throw notFound('account');
        // Staff are restricted by admins only, and admins not from here (nobody locks the admins out).
        if (target.role === 'admin') throw new AppError('forbidden', "an admin's account is not restricted from the console");
        if (target.role === 'moderator' && principal.role !== 'admin') throw new AppError('forbidden', "only an admin restricts a moderator's account");
        // Only `suspend` suspends and only `none` lifts a suspension; the other modes change what its shares go through.
        if (body.mode === 'suspend') await setSuspended(tx, accountId, now);
        if (body.mode === 'none') await setSuspended(tx, accountId, null);
        const r =
          body.mode === 'suspend'
            ? await restrictSharing(tx, emit, { accountId, mode: 'review', reason: body.reason, actorId: principal.accountId, now, policy, rejectHeld: true })
            : await restrictSharing(tx, emit, { accountId, mode: body.mode, reason: body.reason, actorId: principal.accountId, now, policy });
        await appendAudit(tx, { at: now, actorId: principal.accountId, action: 'spread.restricted', subjectType: 'account', subjectId: accountId, detail: { mode: body.mode, reason: body.reason, released: r.released, rejected: r.rejected } });
        return r;
      });
      if (body.mode === 'suspend') deps.onSuspended?.(accountId);
      return { account_id: accountId, mode: body.mode, ...result };
    },

    close: () => pool.close(),
  };
}

export type SpreadReview = ReturnType<typeof createSpreadReview>;

const Id = Type.String({ minLength: 1, maxLength: 64 });
const tags = ['safety'];

export function spreadRoutes(deps: { review: SpreadReview; authenticate: Authenticate; previews: { blurred(mediaId: string): Promise<Buffer> } }): FastifyPluginAsyncTypebox {
  const { review, authenticate } = deps;
  const moderator = (request: Parameters<typeof requireModerator>[1]) => requireModerator(authenticate, request);
  return async (app) => {
    app.get('/v1/safety/clusters', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Spreading clusters: held ones first, then the fastest (moderators)', querystring: SpreadClustersQuery, response: { 200: SpreadClusterListSchema } },
    }, async (request) => {
      await moderator(request);
      return review.list(request.query);
    });
    app.get('/v1/safety/clusters/:id', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "One cluster's spread: per minute, by hops, its chats and sharers (moderators)", params: Type.Object({ id: Id }), response: { 200: SpreadClusterDetailSchema } },
    }, async (request) => {
      await moderator(request);
      return review.detail(request.params.id);
    });
    app.get('/v1/safety/clusters/:id/media/:mediaId/preview', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'A strongly blurred preview of an item of the cluster (JPEG; moderators)', params: Type.Object({ id: Id, mediaId: Id }) },
    }, async (request, reply) => {
      await moderator(request);
      if (!(await review.hasMedia(request.params.id, request.params.mediaId))) throw new AppError('not_found', 'that media item is not part of this cluster');
      const bytes = await deps.previews.blurred(request.params.mediaId);
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(bytes);
    });
    app.post('/v1/safety/clusters/:id/decision', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Hold, clear (release what waits) or take down a whole cluster (moderators)', params: Type.Object({ id: Id }), body: SpreadDecisionBodySchema, response: { 200: SpreadDecisionReplySchema } },
    }, async (request) => {
      const principal = await moderator(request);
      return review.decide(principal, request.params.id, request.body);
    });
    app.get('/v1/safety/networks', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Suspected coordinated amplification networks with their evidence (moderators)', querystring: AmplificationQuery, response: { 200: AmplificationListSchema } },
    }, async (request) => {
      await moderator(request);
      return review.networks(request.query);
    });
    app.post('/v1/safety/accounts/:id/restriction', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Rate-limit an account's shares, hold them for review, suspend it, or lift that (moderators)", params: Type.Object({ id: Id }), body: RestrictAccountBodySchema, response: { 200: RestrictAccountReply } },
    }, async (request) => {
      const principal = await moderator(request);
      return review.restrict(principal, request.params.id, request.body);
    });
  };
}
