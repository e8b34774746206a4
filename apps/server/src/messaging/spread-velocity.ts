/**
 * How fast a near-duplicate cluster is spreading, and the friction that follows (issue 12).
 *
 * Velocity is counted per cluster and minute in `spread_minutes`, in the transaction that shares
 * the media: shares, **new chats reached** (the cluster's first share into that chat) and **new
 * people sharing** (a person's first share of it). Both are distinct counts by construction, kept
 * durable and cheap: one upsert per share, and a read of at most 61 rows (the last hour) before it.
 * "Last minute" is the current minute's count plus the previous minute's, weighted by how much of
 * it is still inside the sliding 60 s (the sliding-window counter rate limiters use).
 *
 * The instance's tiers (config `spread*`) map velocity to friction, each tier including those
 * below it:
 *   1 `spreading_fast` — messages carrying it are labelled so;
 *   2 confirm — a person sharing it must confirm (`confirm_spread`), else 428 `confirmation_required`;
 *   3 cooldown — each person may take it to one new chat per cooldown (429 `forward_limit`);
 *   4 hold — new shares wait for a moderator (pending, visible to their sender only) and the
 *     safety team is alerted once; the cluster stays held until a moderator clears it.
 * A moderator's decision overrides velocity: `hold` holds whatever its speed, `cleared` keeps
 * only the label.
 */
import type { Config } from '../config.ts';
import type { ChatLimits } from './forward-limits.ts';
import type { Tx } from '../platform/db/index.ts';

export const TIER_NONE = 0;
export const TIER_FAST = 1;
export const TIER_CONFIRM = 2;
export const TIER_COOLDOWN = 3;
export const TIER_HOLD = 4;

export interface TierThreshold {
  /** New chats in the last minute that reach the tier; 0 = never by this measure. */
  perMinute: number;
  /** New chats in the last hour that reach the tier; 0 = never by this measure. */
  perHour: number;
}

export interface SpreadAlert {
  clusterId: number;
  publicId: string;
  velocity: Velocity;
  at: number;
}

export interface SpreadPolicy {
  /** Thresholds of tiers 1–4, in order. */
  tiers: readonly [TierThreshold, TierThreshold, TierThreshold, TierThreshold];
  cooldownMs: number;
  /** The forward limits (forward-limits.ts), per instance. */
  limits: ChatLimits;
  /** Called once, in the sharing transaction, when a cluster first reaches the hold tier. */
  onHold?: (tx: Tx, alert: SpreadAlert) => Promise<void>;
}

export function spreadPolicyFrom(config: Config, onHold?: SpreadPolicy['onHold']): SpreadPolicy {
  return {
    tiers: [
      { perMinute: config.spreadFastChatsPerMinute, perHour: config.spreadFastChatsPerHour },
      { perMinute: config.spreadConfirmChatsPerMinute, perHour: config.spreadConfirmChatsPerHour },
      { perMinute: config.spreadCooldownChatsPerMinute, perHour: config.spreadCooldownChatsPerHour },
      { perMinute: config.spreadHoldChatsPerMinute, perHour: config.spreadHoldChatsPerHour },
    ],
    cooldownMs: config.spreadCooldownSeconds * 1000,
    limits: { chats: config.spreadForwardChatsPerMinute, manyTimesChats: config.spreadManyTimesChatsPerMinute },
    ...(onHold ? { onHold } : {}),
  };
}

export interface Velocity {
  /** New chats reached in the last 60 s (sliding estimate) and in the last 60 minutes. */
  chatsPerMinute: number;
  chatsPerHour: number;
  /** New people sharing, the same way. */
  sharersPerMinute: number;
  sharersPerHour: number;
  sharesPerHour: number;
}

export const MINUTE_MS = 60_000;
/** Per-minute buckets are kept a week (velocity reads an hour, the console six). */
export const SPREAD_MINUTES_KEPT_MS = 7 * 24 * 3_600_000;

/** The tier this velocity reaches (0–4). */
export function tierOf(v: Pick<Velocity, 'chatsPerMinute' | 'chatsPerHour'>, policy: SpreadPolicy): number {
  let tier = TIER_NONE;
  policy.tiers.forEach((t, i) => {
    if ((t.perMinute > 0 && v.chatsPerMinute >= t.perMinute) || (t.perHour > 0 && v.chatsPerHour >= t.perHour)) tier = i + 1;
  });
  return tier;
}

/** Velocity from per-minute buckets (newest or oldest first), at `now`. */
export function velocityFromBuckets(rows: readonly { minute: number; shares: number; chats: number; sharers: number }[], now: number): Velocity {
  const current = Math.floor(now / MINUTE_MS);
  const inPrevious = 1 - (now - current * MINUTE_MS) / MINUTE_MS;
  const v: Velocity = { chatsPerMinute: 0, chatsPerHour: 0, sharersPerMinute: 0, sharersPerHour: 0, sharesPerHour: 0 };
  for (const r of rows) {
    const age = current - Number(r.minute);
    if (age < 0 || age >= 60) continue;
    v.chatsPerHour += Number(r.chats);
    v.sharersPerHour += Number(r.sharers);
    v.sharesPerHour += Number(r.shares);
    const weight = age === 0 ? 1 : age === 1 ? inPrevious : 0;
    v.chatsPerMinute += Number(r.chats) * weight;
    v.sharersPerMinute += Number(r.sharers) * weight;
  }
  v.chatsPerMinute = Math.round(v.chatsPerMinute * 100) / 100;
  v.sharersPerMinute = Math.round(v.sharersPerMinute * 100) / 100;
  return v;
}

/** A cluster's velocity at `now`, from its last hour of buckets. */
export async function velocityOf(tx: Tx, clusterId: number, now: number): Promise<Velocity> {
  const current = Math.floor(now / MINUTE_MS);
  const rows = await tx
    .selectFrom('spread_minutes')
    .select(['minute', 'shares', 'chats', 'sharers'])
    .where('cluster_id', '=', clusterId)
    .where('minute', '>', current - 60)
    .execute();
  return velocityFromBuckets(rows, now);
}

/**
 * Counts one share of `clusterId` into `conversationId` by `senderId` at `now`: before its
 * `spread_shares` row is written, so "first into this chat" and "first by this person" are read
 * from the shares so far. Returns what was new (the caller adds it to the cluster's totals).
 */
export async function countShare(tx: Tx, o: { clusterId: number; conversationId: string; senderId: string; hops: number; now: number }): Promise<{ newChat: boolean; newSharer: boolean }> {
  const inChat = await tx.selectFrom('spread_shares').select('id').where('cluster_id', '=', o.clusterId).where('conversation_id', '=', o.conversationId).limit(1).executeTakeFirst();
  const bySender = await tx.selectFrom('spread_shares').select('id').where('sender_id', '=', o.senderId).where('cluster_id', '=', o.clusterId).limit(1).executeTakeFirst();
  const newChat = !inChat;
  const newSharer = !bySender;
  const chats = newChat ? 1 : 0;
  const sharers = newSharer ? 1 : 0;
  await tx
    .insertInto('spread_minutes')
    .values({ cluster_id: o.clusterId, minute: Math.floor(o.now / MINUTE_MS), shares: 1, chats, sharers, max_hops: o.hops })
    .onConflict((oc) =>
      oc.columns(['cluster_id', 'minute']).doUpdateSet((eb) => ({
        shares: eb('spread_minutes.shares', '+', 1),
        chats: eb('spread_minutes.chats', '+', chats),
        sharers: eb('spread_minutes.sharers', '+', sharers),
        max_hops: eb.case().when('spread_minutes.max_hops', '<', o.hops).then(o.hops).else(eb.ref('spread_minutes.max_hops')).end(),
      })),
    )
    .execute();
  // Buckets older than the console shows and velocity reads go, this cluster's only (primary-key range).
  await tx.deleteFrom('spread_minutes').where('cluster_id', '=', o.clusterId).where('minute', '<', Math.floor((o.now - SPREAD_MINUTES_KEPT_MS) / MINUTE_MS)).execute();
  return { newChat, newSharer };
}
