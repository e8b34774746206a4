/**
 * Spread for the safety console (safety/spread-routes.ts calls these; only moderators reach
 * them): live clusters with their velocity and friction, one cluster's spread over time, the
 * chats and people it went through, and the moderator's decisions — hold, clear (releasing what
 * was held) — and restrictions on accounts' shares. Takedown is safety's own (it removes media).
 */
import type { SpreadClusterDetail, SpreadClusterSummary } from '@mmd/contracts';
import { accountStates, accountsByIds } from '../accounts/index.ts';
import { type AmplificationParams, DEFAULT_AMPLIFICATION, type ShareRecord, type SuspectNetwork, detectNetworks } from './amplification.ts';
import { linkKey, linkLabel } from './links.ts';
import { kindsOf } from '../conversations/index.ts';
import { notFound } from '../errors.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { Emit } from '../sync/index.ts';
import { deliverPending, failPending } from './pending.ts';
import type { SpreadClustersTable } from './schema.ts';
import { MINUTE_MS, TIER_FAST, TIER_HOLD, type SpreadPolicy, type Velocity, tierOf, velocityFromBuckets } from './spread-velocity.ts';

type Reader = Database['db'] | Tx;

async function velocities(db: Reader, clusterIds: number[], now: number): Promise<Map<number, Velocity>> {
  const out = new Map<number, Velocity>();
  const current = Math.floor(now / MINUTE_MS);
  for (let i = 0; i < clusterIds.length; i += 200) {
    const part = clusterIds.slice(i, i + 200);
    const rows = await db.selectFrom('spread_minutes').select(['cluster_id', 'minute', 'shares', 'chats', 'sharers']).where('cluster_id', 'in', part).where('minute', '>', current - 60).execute();
    for (const id of part) out.set(id, velocityFromBuckets(rows.filter((r) => Number(r.cluster_id) === id), now));
  }
  return out;
}

async function heldCounts(db: Reader, clusterIds: number[]): Promise<Map<number, number>> {
  if (clusterIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('spread_holds')
    .select(['cluster_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('cluster_id', 'in', clusterIds)
    .groupBy('cluster_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.cluster_id), Number(r.n)]));
}

function summary(row: SpreadClustersTable, velocity: Velocity, held: number, policy: SpreadPolicy): SpreadClusterSummary {
  const state = (row.state ?? 'open') as SpreadClusterSummary['state'];
  const reached = tierOf(velocity, policy);
  const tier = state === 'hold' || state === 'removed' ? TIER_HOLD : state === 'cleared' ? Math.min(reached, TIER_FAST) : reached;
  return {
    id: row.public_id,
    state,
    tier,
    peak_tier: Number(row.peak_tier ?? 0),
    velocity: {
      chats_per_minute: velocity.chatsPerMinute,
      chats_per_hour: velocity.chatsPerHour,
      sharers_per_minute: velocity.sharersPerMinute,
      sharers_per_hour: velocity.sharersPerHour,
      shares_per_hour: velocity.sharesPerHour,
    },
    shares: Number(row.shares),
    reach: Number(row.reach ?? 0),
    sharers: Number(row.sharers ?? 0),
    max_hops: Number(row.max_hops),
    held,
    first_at: Number(row.first_at),
    last_at: Number(row.last_at),
    alerted_at: row.alerted_at === null || row.alerted_at === undefined ? null : Number(row.alerted_at),
    reviewed_by: row.reviewed_by ?? null,
    reviewed_at: row.reviewed_at === null || row.reviewed_at === undefined ? null : Number(row.reviewed_at),
  };
}

/**
 * Clusters shared within `hours`, plus every cluster held for review whenever it was last shared:
 * those waiting for a decision first, then the fastest (new chats in the last hour), then the newest.
 */
export async function listSpreadClusters(db: Reader, o: { now: number; hours: number; limit: number; policy: SpreadPolicy }): Promise<{ clusters: SpreadClusterSummary[]; alerts: number }> {
  const recent = await db.selectFrom('spread_clusters').selectAll().where('last_at', '>', o.now - o.hours * 3_600_000).orderBy('last_at', 'desc').limit(1000).execute();
  const heldRows = await db.selectFrom('spread_clusters').selectAll().where('state', '=', 'hold').orderBy('last_at', 'desc').limit(200).execute();
  const rows = [...new Map([...heldRows, ...recent].map((r) => [Number(r.cluster_id), r])).values()];
  const ids = rows.map((r) => Number(r.cluster_id));
  const v = await velocities(db, ids, o.now);
  const held = await heldCounts(db, ids);
  const list = rows.map((r) => summary(r, v.get(Number(r.cluster_id))!, held.get(Number(r.cluster_id)) ?? 0, o.policy));
  const waiting = (c: SpreadClusterSummary) => (c.state === 'hold' ? 1 : 0);
  list.sort((a, b) => waiting(b) - waiting(a) || b.velocity.chats_per_hour - a.velocity.chats_per_hour || b.last_at - a.last_at);
  return { clusters: list.slice(0, o.limit), alerts: list.filter((c) => c.state === 'hold').length };
}

async function clusterRow(db: Reader, publicId: string): Promise<SpreadClustersTable> {
  const row = await db.selectFrom('spread_clusters').selectAll().where('public_id', '=', publicId).executeTakeFirst();
  if (!row) throw notFound('cluster');
  return row;
}

/** The internal cluster id behind a public one (safety finds the cluster's media by it); not found otherwise. */
export async function spreadClusterId(db: Reader, publicId: string): Promise<number> {
  return Number((await clusterRow(db, publicId)).cluster_id);
}

/** One cluster for the console: its spread per minute (last 6 hours), by hops, and where and by whom it went. */
export async function spreadClusterDetail(db: Reader, o: { publicId: string; now: number; policy: SpreadPolicy }): Promise<Omit<SpreadClusterDetail, 'media_ids'>> {
  const row = await clusterRow(db, o.publicId);
  const id = Number(row.cluster_id);
  const current = Math.floor(o.now / MINUTE_MS);
  const minutes = await db.selectFrom('spread_minutes').selectAll().where('cluster_id', '=', id).where('minute', '>', current - 360).orderBy('minute').execute();
  const velocity = velocityFromBuckets(minutes, o.now);
  const held = (await heldCounts(db, [id])).get(id) ?? 0;
  const hops = await db
    .selectFrom('spread_shares')
    .select(['hops', (eb) => eb.fn.countAll<number>().as('n')])
    .where('cluster_id', '=', id)
    .groupBy('hops')
    .orderBy('hops')
    .execute();
  const chats = await db
    .selectFrom('spread_shares')
    .select(['conversation_id', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('at').as('first'), (eb) => eb.fn.max('hops').as('hops')])
    .where('cluster_id', '=', id)
    .groupBy('conversation_id')
    .orderBy('n', 'desc')
    .orderBy('first')
    .limit(50)
    .execute();
  const kinds = await kindsOf(db, chats.map((c) => c.conversation_id));
  const people = await db
    .selectFrom('spread_shares')
    .select(['sender_id', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('at').as('first')])
    .where('cluster_id', '=', id)
    .groupBy('sender_id')
    .orderBy('n', 'desc')
    .orderBy('first')
    .limit(50)
    .execute();
  const accounts = await accountsByIds(db, people.map((p) => p.sender_id));
  return {
    cluster: summary(row, velocity, held, o.policy),
    timeline: minutes.map((m) => ({ minute: Number(m.minute) * MINUTE_MS, shares: Number(m.shares), chats: Number(m.chats), sharers: Number(m.sharers), max_hops: Number(m.max_hops) })),
    hops: hops.map((h) => ({ hops: Number(h.hops), shares: Number(h.n) })),
    conversations: chats.map((c) => ({ id: c.conversation_id, kind: kinds.get(c.conversation_id) ?? 'deleted', shares: Number(c.n), first_at: Number(c.first), max_hops: Number(c.hops) })),
    sharers: people.map((p) => ({ account_id: p.sender_id, handle: accounts.get(p.sender_id)?.handle ?? 'deleted', shares: Number(p.n), first_at: Number(p.first) })),
  };
}

/**
 * Lifts these holds: each message goes out if nothing else holds it (another of its pictures still
 * on hold keeps it waiting, and `deliverPending` re-checks that its sender may still post there);
 * or, `reject`, fails it, its sender told why. Returns how many went out or failed.
 */
async function settleHolds(
  tx: Tx,
  emit: Emit,
  holds: { message_id: string; cluster_id: number; reason: 'cluster' | 'account' }[],
  o: { reject: boolean; reason: string; now: number; policy: SpreadPolicy },
): Promise<number> {
  let n = 0;
  for (const h of holds) {
    await tx.deleteFrom('spread_holds').where('message_id', '=', h.message_id).where('cluster_id', '=', h.cluster_id).execute();
    if (o.reject) {
      if (await failPending(tx, emit, { messageId: h.message_id, reason: o.reason, now: o.now })) n++;
      continue;
    }
    const still = await tx.selectFrom('spread_holds').select('cluster_id').where('message_id', '=', h.message_id).executeTakeFirst();
    if (still) continue;
    if (await deliverPending(tx, emit, { messageId: h.message_id, now: o.now, spread: o.policy, released: h.reason })) n++;
  }
  return n;
}

/** Holds settled per decision; the rest wait for the next decision or lift (bounded transactions). */
export const HOLDS_PER_DECISION = 500;

/**
 * A moderator's decision on a cluster: `hold` (new shares wait), `clear` (what waits is released,
 * and only the label stays), `removed` (after safety's takedown: what waits is rejected, and new
 * shares are refused). Returns how many held messages were released or rejected (at most
 * HOLDS_PER_DECISION; deciding again settles the next ones).
 */
export async function decideSpreadCluster(
  tx: Tx,
  emit: Emit,
  o: { publicId: string; state: 'hold' | 'cleared' | 'removed'; actorId: string; now: number; policy: SpreadPolicy },
): Promise<{ released: number; rejected: number }> {
  const row = await clusterRow(tx, o.publicId);
  await tx.updateTable('spread_clusters').set({ state: o.state, reviewed_by: o.actorId, reviewed_at: o.now }).where('cluster_id', '=', row.cluster_id).execute();
  if (o.state === 'hold') return { released: 0, rejected: 0 };
  const holds = await tx
    .selectFrom('spread_holds')
    .select(['message_id', 'cluster_id', 'reason'])
    .where('cluster_id', '=', row.cluster_id)
    .where('reason', '=', 'cluster')
    .orderBy('at')
    .limit(HOLDS_PER_DECISION)
    .execute();
  const list = holds.map((h) => ({ ...h, cluster_id: Number(h.cluster_id) }));
  if (o.state === 'cleared') return { released: await settleHolds(tx, emit, list, { reject: false, reason: '', now: o.now, policy: o.policy }), rejected: 0 };
  const reason = 'not sent: a moderator removed this picture or video';
  return { released: 0, rejected: await settleHolds(tx, emit, list, { reject: true, reason, now: o.now, policy: o.policy }) };
}

/** A cluster's summary now (after a decision). */
export async function spreadClusterSummary(db: Reader, o: { publicId: string; now: number; policy: SpreadPolicy }): Promise<SpreadClusterSummary> {
  const row = await clusterRow(db, o.publicId);
  const id = Number(row.cluster_id);
  const v = await velocities(db, [id], o.now);
  return summary(row, v.get(id)!, (await heldCounts(db, [id])).get(id) ?? 0, o.policy);
}

/**
 * Restricts an account's shares (or lifts it, `none`): `rate_limit` lets it take each picture to
 * one new chat per cooldown, `review` holds each share for a moderator. Lifting a review releases
 * what it held; `rejectHeld` (on suspension) fails it instead.
 */
export async function restrictSharing(
  tx: Tx,
  emit: Emit,
  o: { accountId: string; mode: 'rate_limit' | 'review' | 'none'; reason: string; actorId: string; now: number; policy: SpreadPolicy; rejectHeld?: boolean },
): Promise<{ released: number; rejected: number }> {
  if (o.mode === 'none') await tx.deleteFrom('spread_restrictions').where('account_id', '=', o.accountId).execute();
  else {
    const mode = o.mode;
    await tx
      .insertInto('spread_restrictions')
      .values({ account_id: o.accountId, mode, reason: o.reason, by: o.actorId, at: o.now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ mode, reason: o.reason, by: o.actorId, at: o.now }))
      .execute();
  }
  if (!o.rejectHeld && o.mode !== 'none') return { released: 0, rejected: 0 };
  const rows = await tx
    .selectFrom('spread_holds')
    .select(['message_id', 'cluster_id', 'reason'])
    .where('sender_id', '=', o.accountId)
    .$if(!o.rejectHeld, (q) => q.where('reason', '=', 'account'))
    .orderBy('at')
    .limit(HOLDS_PER_DECISION)
    .execute();
  const holds = rows.map((h) => ({ ...h, cluster_id: Number(h.cluster_id) }));
  if (o.rejectHeld) return { released: 0, rejected: await settleHolds(tx, emit, holds, { reject: true, reason: 'not sent: your account was suspended', now: o.now, policy: o.policy }) };
  return { released: await settleHolds(tx, emit, holds, { reject: false, reason: '', now: o.now, policy: o.policy }), rejected: 0 };
}

/** Each account's restriction, if any. */
export async function sharingRestrictions(db: Reader, accountIds: readonly string[]): Promise<Map<string, 'rate_limit' | 'review'>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db.selectFrom('spread_restrictions').select(['account_id', 'mode']).where('account_id', 'in', [...accountIds]).execute();
  return new Map(rows.map((r) => [r.account_id, r.mode]));
}

/** Shares read for one detection at most: a window busier than this is cut to its newest shares. */
export const AMPLIFICATION_MAX_SHARES = 200_000;

/**
 * Suspected coordinated amplification in the last `hours` (amplification.ts), each network's
 * accounts with their handles, age and current restriction or suspension.
 */
export async function suspectedNetworks(
  db: Reader,
  o: {
    now: number;
    hours: number;
    params?: AmplificationParams;
    /** Where the detection runs (a worker thread, see amplification-tasks.ts); inline without one. */
    detect?: (shares: ShareRecord[], createdAt: [string, number][], params: AmplificationParams) => Promise<SuspectNetwork[]>;
  },
): Promise<{ networks: SuspectNetwork[]; handles: Map<string, string>; states: Map<string, { createdAt: number; suspended: boolean }>; restrictions: Map<string, 'rate_limit' | 'review'>; publicIds: Map<number, string> }> {
  const rows = await db
    .selectFrom('spread_shares')
    .select(['sender_id', 'cluster_id', 'conversation_id', 'at'])
    .where('at', '>', o.now - o.hours * 3_600_000)
    .orderBy('at', 'desc')
    .limit(AMPLIFICATION_MAX_SHARES)
    .execute();
  const shares = rows.map((r) => ({ sender: r.sender_id, cluster: Number(r.cluster_id), conversation: r.conversation_id, at: Number(r.at) }));
  // Links count like pictures, under negative keys (links.ts).
  const linkRows = await db
    .selectFrom('link_shares')
    .select(['sender_id', 'link', 'conversation_id', 'at'])
    .where('at', '>', o.now - o.hours * 3_600_000)
    .orderBy('at', 'desc')
    .limit(AMPLIFICATION_MAX_SHARES)
    .execute();
  const linkLabels = new Map<number, string>();
  for (const r of linkRows) {
    const key = linkKey(r.link);
    linkLabels.set(key, `link ${linkLabel(r.link)}`);
    shares.push({ sender: r.sender_id, cluster: key, conversation: r.conversation_id, at: Number(r.at) });
  }
  const senders = [...new Set(shares.map((s) => s.sender))];
  const states = await accountStates(db, senders);
  const createdAt = new Map([...states].map(([id, s]) => [id, s.createdAt]));
  const params = o.params ?? DEFAULT_AMPLIFICATION;
  const networks = o.detect ? await o.detect(shares, [...createdAt], params) : detectNetworks(shares, createdAt, params);
  const members = [...new Set(networks.flatMap((n) => n.accounts.map((a) => a.accountId)))];
  const accounts = await accountsByIds(db, members);
  const clusterIds = [...new Set(networks.flatMap((n) => n.clusters))].filter((c) => c > 0);
  const publicIds = new Map<number, string>([...linkLabels].filter(([k]) => networks.some((n) => n.clusters.includes(k))));
  for (let i = 0; i < clusterIds.length; i += 500) {
    const part = await db.selectFrom('spread_clusters').select(['cluster_id', 'public_id']).where('cluster_id', 'in', clusterIds.slice(i, i + 500)).execute();
    for (const p of part) publicIds.set(Number(p.cluster_id), p.public_id);
  }
  return {
    networks,
    handles: new Map(members.map((id) => [id, accounts.get(id)?.handle ?? 'deleted'])),
    states,
    restrictions: await sharingRestrictions(db, members),
    publicIds,
  };
}
