/**
 * Spread counted per near-duplicate cluster, not per forward chain (issue 12). Screening puts
 * every upload in a cluster (safety/clusters.ts; media keeps it as `cluster_id`): an exact
 * re-upload, a re-encode, a crop or a greyscale copy of a picture joins the cluster of what it
 * copies. Each time a message carrying media goes out, its clusters are "shared" into that chat:
 *
 * - **Hops** are inherited from what the sender received: one more than the most-travelled
 *   share of the cluster that reached them (by someone else, into a chat they are in, not
 *   deleted), and never fewer than the message's own forward chain. So re-uploading a picture
 *   you were sent does not reset its count (on WhatsApp it does), while your own picture sent to
 *   several chats is not "forwarded". Shares in chats the sender is not in count for nothing:
 *   sending a picture never tells you whether strangers shared it (no oracle), and nobody can
 *   raise the count of copies they did not send you. A message's label follows its hops:
 *   `forwarded` from 1, `forwarded_many_times` from 5 (WhatsApp's threshold).
 * - **Limits** are those of forwards (forward-limits.ts), counted per person and cluster whatever
 *   the route (forward, re-upload, crop): 5 chats a minute, 1 when what they share has already
 *   travelled 5 hops. A message sent at once is refused (429 `forward_limit`); one held for its
 *   media is failed with that reason when its media is ready (pending.ts), its sender told why.
 *
 * Every sender is counted, bots and businesses too (anyone may sign up as one), except a business's
 * automated messages (campaigns, notifications, automation): they send one picture to thousands
 * of consenting contacts by design, under the campaign's throttle and the consent gate.
 *
 * Each cluster gets a public id (`spc_…`, random) the first time it is shared: clients see
 * which messages carry the same picture, not how many uploads the server has had.
 */
import { randomBytes } from 'node:crypto';
import { conversationIdsOf } from '../conversations/index.ts';
import { loadMediaRows } from '../media/index.ts';
import type { Tx } from '../platform/db/index.ts';
import { AppError } from '../errors.ts';
import { FORWARD_WINDOW_MS, MANY_TIMES_HOPS, enforceChatLimit } from './forward-limits.ts';
import { TIER_CONFIRM, TIER_COOLDOWN, TIER_FAST, TIER_HOLD, TIER_NONE, countShare, tierOf, velocityOf, type SpreadPolicy } from './spread-velocity.ts';

/** The clusters of these media items (those screened into one), in first-seen order. */
async function clustersOfMedia(tx: Tx, mediaIds: readonly string[]): Promise<number[]> {
  if (mediaIds.length === 0) return [];
  const rows = await loadMediaRows(tx, [...mediaIds]);
  const byId = new Map(rows.map((r) => [r.id, r.cluster_id]));
  const out: number[] = [];
  for (const id of mediaIds) {
    const c = byId.get(id);
    if (c !== null && c !== undefined && !out.includes(Number(c))) out.push(Number(c));
  }
  return out;
}

export interface ShareOutcome {
  /** The public id of the cluster the message is labelled by. */
  cluster: string;
  hops: number;
  /** Its cluster was at the "spreading fast" tier or above (spread-velocity.ts). */
  fast: boolean;
  /** Held for review instead of shared: its cluster is under review, or its sender's shares are. */
  held: 'cluster' | 'account' | null;
}

/**
 * Shares a message's media into its chat: checks the sender's limits and the clusters' friction
 * (spread-velocity.ts), records the share and returns the message's spread (null when none of its
 * media has a cluster). Inside the transaction that sends or releases the message; throws
 * `forward_limit` or `confirmation_required` (nothing recorded). A held share is not recorded
 * either: it counts when a moderator releases it.
 */
export async function shareMedia(
  tx: Tx,
  o: {
    messageId: string;
    conversationId: string;
    senderId: string;
    automated: boolean;
    mediaIds: readonly string[];
    chainHops: number;
    now: number;
    policy: SpreadPolicy;
    /** The sender confirmed sharing something spreading fast. */
    confirmed: boolean;
    /** A moderator released this share from that kind of hold: it is not held for it again, nor asked to confirm. */
    released?: 'cluster' | 'account';
  },
): Promise<ShareOutcome | null> {
  if (o.automated || o.mediaIds.length === 0) return null;
  const clusters = await clustersOfMedia(tx, o.mediaIds);
  if (clusters.length === 0) return null;
  // How far the content had travelled when it reached the sender: its most-travelled share by
  // someone else into a chat the sender is in, its message not deleted. Looked up by the sender's
  // chats (a few hundred, in pages), not by the cluster's shares (a viral one has millions).
  let best = clusters[0]!;
  let travelled = -1;
  const chats = await conversationIdsOf(tx, o.senderId);
  for (let i = 0; i < chats.length; i += 500) {
    const page = chats.slice(i, i + 500);
    const top = await tx
      .selectFrom('spread_shares as s')
      .innerJoin('messages as g', 'g.id', 's.message_id')
      .select(['s.hops', 's.cluster_id'])
      .where('s.cluster_id', 'in', clusters)
      .where('s.conversation_id', 'in', page)
      .where('s.sender_id', '<>', o.senderId)
      .where('g.deleted_at', 'is', null)
      .orderBy('s.hops', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (top && Number(top.hops) > travelled) {
      travelled = Number(top.hops);
      best = Number(top.cluster_id);
    }
  }
  const hops = Math.max(o.chainHops, travelled + 1);
  // The sender's shares of these clusters in the window, whichever route they took.
  const recent = await tx
    .selectFrom('spread_shares')
    .select(['conversation_id', 'at'])
    .where('sender_id', '=', o.senderId)
    .where('cluster_id', 'in', clusters)
    .where('at', '>', o.now - Math.max(FORWARD_WINDOW_MS, o.policy.cooldownMs))
    .orderBy('at')
    .execute();
  const shares = recent.map((r) => ({ chat: r.conversation_id, at: Number(r.at) }));
  enforceChatLimit({ recent: shares.filter((r) => r.at > o.now - FORWARD_WINDOW_MS), conversationId: o.conversationId, manyTimes: hops - 1 >= MANY_TIMES_HOPS, now: o.now });

  // Friction: the highest tier among the message's clusters, a moderator's decision first.
  for (const c of clusters) {
    await tx
      .insertInto('spread_clusters')
      .values({ cluster_id: c, public_id: `spc_${randomBytes(12).toString('base64url')}`, shares: 0, max_hops: 0, first_at: o.now, last_at: o.now })
      .onConflict((oc) => oc.column('cluster_id').doNothing())
      .execute();
  }
  const rows = await tx.selectFrom('spread_clusters').select(['cluster_id', 'public_id', 'state', 'peak_tier', 'alerted_at']).where('cluster_id', 'in', clusters).execute();
  let tier = TIER_NONE;
  for (const row of rows) {
    const velocity = await velocityOf(tx, Number(row.cluster_id), o.now);
    const reached = tierOf(velocity, o.policy);
    let effective = reached;
    if (row.state === 'cleared') effective = Math.min(reached, TIER_FAST);
    else if (row.state === 'hold' || row.state === 'removed') effective = TIER_HOLD;
    else if (reached >= TIER_HOLD) {
      // First time at the hold tier: held from now until a moderator decides, and the team alerted once.
      await tx.updateTable('spread_clusters').set({ state: 'hold', alerted_at: o.now }).where('cluster_id', '=', row.cluster_id).where('state', '=', 'open').execute();
      if (row.alerted_at === null || row.alerted_at === undefined) await o.policy.onHold?.(tx, { clusterId: Number(row.cluster_id), publicId: row.public_id, velocity, at: o.now });
    }
    if (reached > Number(row.peak_tier ?? 0)) await tx.updateTable('spread_clusters').set({ peak_tier: reached }).where('cluster_id', '=', row.cluster_id).execute();
    tier = Math.max(tier, effective);
  }
  const restriction = await tx.selectFrom('spread_restrictions').select('mode').where('account_id', '=', o.senderId).executeTakeFirst();
  const publicId = rows.find((r) => Number(r.cluster_id) === best)?.public_id ?? rows[0]!.public_id;

  const held: ShareOutcome['held'] = tier >= TIER_HOLD && o.released !== 'cluster' ? 'cluster' : restriction?.mode === 'review' && o.released !== 'account' ? 'account' : null;
  if (held) {
    await tx
      .insertInto('spread_holds')
      .values({ message_id: o.messageId, cluster_id: best, sender_id: o.senderId, reason: held, at: o.now })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
    return { cluster: publicId, hops, fast: true, held };
  }
  if (tier >= TIER_CONFIRM && !o.confirmed && o.released === undefined) {
    throw new AppError('confirmation_required', 'this is spreading fast: confirm that you want to share it (confirm_spread: true)');
  }
  if (tier >= TIER_COOLDOWN || restriction?.mode === 'rate_limit') {
    // One new chat per cooldown per person and picture; a chat it already went to costs nothing.
    const inWindow = shares.filter((r) => r.at > o.now - o.policy.cooldownMs);
    if (!inWindow.some((r) => r.chat === o.conversationId) && inWindow.length > 0) {
      const last = Math.max(...inWindow.map((r) => r.at));
      const retryAfter = Math.max(1, Math.ceil((last + o.policy.cooldownMs - o.now) / 1000));
      throw new AppError('forward_limit', `this is spreading fast: you can share it to one new chat every ${Math.round(o.policy.cooldownMs / 1000)} s; retry in ${retryAfter} s`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
  }
  for (const c of clusters) {
    await countShare(tx, { clusterId: c, conversationId: o.conversationId, senderId: o.senderId, hops, now: o.now });
    await tx
      .updateTable('spread_clusters')
      .set((eb) => ({ shares: eb('shares', '+', 1), max_hops: eb.case().when('max_hops', '<', hops).then(hops).else(eb.ref('max_hops')).end(), last_at: o.now }))
      .where('cluster_id', '=', c)
      .execute();
    await tx.insertInto('spread_shares').values({ cluster_id: c, message_id: o.messageId, conversation_id: o.conversationId, sender_id: o.senderId, hops, at: o.now }).execute();
  }
  return { cluster: publicId, hops, fast: tier >= TIER_FAST, held: null };
}
