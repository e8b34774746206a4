/**
 * Spread counted per near-duplicate cluster, not per forward chain (issue 12). Screening puts
 * every upload in a cluster (safety/clusters.ts; media keeps it as `cluster_id`): an exact
 * re-upload, a re-encode, a crop or a greyscale copy of a picture joins the cluster of what it
 * copies. Each time a message carrying media goes out, its clusters are "shared" into that chat:
 *
 * - **Hops** are inherited from what the sender received: one more than the first share of the
 *   cluster that reached them (by someone else, into a chat they are in, not deleted; the copy
 *   they most likely pass on) before they first shared it themselves, and never fewer than the
 *   message's own forward chain (their own share coming back to them through others is no new
 *   spread). So re-uploading a picture
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
import { MINUTE_MS, TIER_CONFIRM, TIER_COOLDOWN, TIER_FAST, TIER_HOLD, TIER_NONE, countShare, tierOf, velocityOf, type SpreadPolicy } from './spread-velocity.ts';

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
    /**
     * A moderator released this share from that kind of hold: it passed the limits when it was held
     * and is not asked to confirm; a cluster still on hold holds it again, an account review does
     * not (`account`).
     */
    released?: 'cluster' | 'account';
  },
): Promise<ShareOutcome | null> {
  if (o.mediaIds.length === 0) return null;
  const clusters = await clustersOfMedia(tx, o.mediaIds);
  if (clusters.length === 0) return null;
  if (o.automated) {
    // A business's automated messages are not counted nor limited, but a moderator's hold or removal stands.
    const stopped = await tx.selectFrom('spread_clusters').select('state').where('cluster_id', 'in', clusters).where('state', 'in', ['hold', 'removed']).executeTakeFirst();
    if (stopped) throw new AppError('forbidden', 'this picture or video is held or removed by moderators; it cannot be sent');
    return null;
  }
  // How far the content had travelled when it reached the sender: the first copy of it shared into
  // a chat they are in by someone else (its message not deleted), the copy they most likely pass
  // on. Looked up by the sender's chats (a few hundred, in pages), not by the cluster's shares (a
  // viral one has millions). Only copies from before their own first share count: after that,
  // their own share passed back to them (two people in several groups together) is no new spread.
  let best = clusters[0]!;
  let travelled = -1;
  let firstAt = Number.POSITIVE_INFINITY;
  const firstOwn = await tx.selectFrom('spread_shares').select('at').where('sender_id', '=', o.senderId).where('cluster_id', 'in', clusters).orderBy('at').limit(1).executeTakeFirst();
  const chats = await conversationIdsOf(tx, o.senderId);
  for (let i = 0; i < chats.length; i += 500) {
    const page = chats.slice(i, i + 500);
    const first = await tx
      .selectFrom('spread_shares as s')
      .innerJoin('messages as g', 'g.id', 's.message_id')
      .select(['s.hops', 's.cluster_id', 's.at'])
      .where('s.cluster_id', 'in', clusters)
      .where('s.conversation_id', 'in', page)
      .where('s.sender_id', '<>', o.senderId)
      .where('g.deleted_at', 'is', null)
      .$if(firstOwn !== undefined, (q) => q.where('s.at', '<', Number(firstOwn!.at)))
      .orderBy('s.at')
      .orderBy('s.hops', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (first && Number(first.at) < firstAt) {
      firstAt = Number(first.at);
      travelled = Number(first.hops);
      best = Number(first.cluster_id);
    }
  }
  const hops = Math.max(o.chainHops, travelled + 1);
  // The sender's shares of these clusters in the last hour (the limits' window, the cooldown and
  // their own part of the velocity), whichever route they took, and their shares held for review.
  const since = o.now - Math.max(3_600_000, o.policy.cooldownMs);
  const own = await tx
    .selectFrom('spread_shares')
    .select(['cluster_id', 'conversation_id', 'at'])
    .where('sender_id', '=', o.senderId)
    .where('cluster_id', 'in', clusters)
    .where('at', '>', since)
    .orderBy('at')
    .execute();
  const ownHeld = await tx
    .selectFrom('spread_holds')
    .select(['conversation_id', 'at'])
    .where('sender_id', '=', o.senderId)
    .where('cluster_id', 'in', clusters)
    .where('at', '>', o.now - FORWARD_WINDOW_MS)
    .execute();
  const shares = own.map((r) => ({ chat: r.conversation_id, at: Number(r.at) }));
  if (!o.released) {
    // A share a moderator releases passed the limits when it was held; it is not counted again.
    const window = [...shares, ...ownHeld.map((r) => ({ chat: r.conversation_id, at: Number(r.at) }))].filter((r) => r.at > o.now - FORWARD_WINDOW_MS).sort((x, y) => x.at - y.at);
    enforceChatLimit({ recent: window, conversationId: o.conversationId, manyTimes: hops - 1 >= MANY_TIMES_HOPS, now: o.now, limits: o.policy.limits });
  }

  // Friction, cluster by cluster: a moderator's decision first, else the velocity of everyone
  // else's shares (the sender's own new chats are taken out, so sharing your own picture around
  // never tells you how far strangers took it).
  for (const c of clusters) {
    await tx
      .insertInto('spread_clusters')
      .values({ cluster_id: c, public_id: `spc_${randomBytes(12).toString('base64url')}`, shares: 0, max_hops: 0, first_at: o.now, last_at: o.now })
      .onConflict((oc) => oc.column('cluster_id').doNothing())
      .execute();
  }
  const rows = await tx.selectFrom('spread_clusters').select(['cluster_id', 'public_id', 'state', 'peak_tier', 'alerted_at']).where('cluster_id', 'in', clusters).execute();
  let friction = TIER_NONE;
  let fast = false;
  const holding: number[] = [];
  for (const row of rows) {
    const id = Number(row.cluster_id);
    if (row.state === 'removed') throw new AppError('forbidden', 'this picture or video was removed by moderators; it cannot be shared');
    const all = await velocityOf(tx, id, o.now);
    const mine = own.filter((r) => Number(r.cluster_id) === id);
    const others = {
      chatsPerMinute: Math.max(0, all.chatsPerMinute - new Set(mine.filter((r) => Number(r.at) > o.now - MINUTE_MS).map((r) => r.conversation_id)).size),
      chatsPerHour: Math.max(0, all.chatsPerHour - new Set(mine.map((r) => r.conversation_id)).size),
    };
    const reached = tierOf(others, o.policy);
    if (reached >= TIER_FAST) fast = true;
    if (reached > Number(row.peak_tier ?? 0)) await tx.updateTable('spread_clusters').set({ peak_tier: reached }).where('cluster_id', '=', id).execute();
    if (row.state === 'hold') {
      holding.push(id);
      continue;
    }
    if (row.state === 'cleared') {
      friction = Math.max(friction, Math.min(reached, TIER_FAST));
      continue;
    }
    if (reached >= TIER_HOLD) {
      // First time at the hold tier: held from now until a moderator decides, and the team alerted once.
      await tx.updateTable('spread_clusters').set({ state: 'hold', alerted_at: o.now }).where('cluster_id', '=', id).where('state', '=', 'open').execute();
      if (row.alerted_at === null || row.alerted_at === undefined) await o.policy.onHold?.(tx, { clusterId: id, publicId: row.public_id, velocity: all, at: o.now });
      holding.push(id);
      continue;
    }
    friction = Math.max(friction, reached);
  }
  const restriction = await tx.selectFrom('spread_restrictions').select('mode').where('account_id', '=', o.senderId).executeTakeFirst();
  const publicId = rows.find((r) => Number(r.cluster_id) === best)?.public_id ?? rows[0]!.public_id;

  // Held: one row per cluster holding it (it goes out when none does), or one for its sender's review.
  const held: ShareOutcome['held'] = holding.length > 0 ? 'cluster' : restriction?.mode === 'review' && o.released !== 'account' ? 'account' : null;
  if (held) {
    const holds = held === 'cluster' ? holding : [best];
    await tx
      .insertInto('spread_holds')
      .values(holds.map((c) => ({ message_id: o.messageId, cluster_id: c, conversation_id: o.conversationId, sender_id: o.senderId, reason: held, at: o.now })))
      .onConflict((oc) => oc.columns(['message_id', 'cluster_id']).doNothing())
      .execute();
    return { cluster: publicId, hops, fast, held };
  }
  if (friction >= TIER_CONFIRM && !o.confirmed && !o.released) {
    throw new AppError('confirmation_required', 'this is spreading fast: confirm that you want to share it (confirm_spread: true)');
  }
  if ((friction >= TIER_COOLDOWN || restriction?.mode === 'rate_limit') && !o.released) {
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
    const counted = await countShare(tx, { clusterId: c, conversationId: o.conversationId, senderId: o.senderId, hops, now: o.now });
    await tx
      .updateTable('spread_clusters')
      .set((eb) => ({
        shares: eb('shares', '+', 1),
        reach: eb('reach', '+', counted.newChat ? 1 : 0),
        sharers: eb('sharers', '+', counted.newSharer ? 1 : 0),
        max_hops: eb.case().when('max_hops', '<', hops).then(hops).else(eb.ref('max_hops')).end(),
        last_at: o.now,
      }))
      .where('cluster_id', '=', c)
      .execute();
    await tx.insertInto('spread_shares').values({ cluster_id: c, message_id: o.messageId, conversation_id: o.conversationId, sender_id: o.senderId, hops, at: o.now }).execute();
  }
  return { cluster: publicId, hops, fast, held: null };
}
