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
import { FORWARD_WINDOW_MS, MANY_TIMES_HOPS, enforceChatLimit } from './forward-limits.ts';

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

/**
 * Shares a message's media into its chat: checks the sender's limit, records the share and
 * returns the message's spread (null when none of its media has a cluster). Inside the
 * transaction that sends or releases the message; throws `forward_limit` (nothing recorded).
 */
export async function shareMedia(
  tx: Tx,
  o: { messageId: string; conversationId: string; senderId: string; automated: boolean; mediaIds: readonly string[]; chainHops: number; now: number },
): Promise<{ cluster: string; hops: number } | null> {
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
    .where('at', '>', o.now - FORWARD_WINDOW_MS)
    .orderBy('at')
    .execute();
  enforceChatLimit({ recent: recent.map((r) => ({ chat: r.conversation_id, at: Number(r.at) })), conversationId: o.conversationId, manyTimes: hops - 1 >= MANY_TIMES_HOPS, now: o.now });
  for (const c of clusters) {
    await tx
      .insertInto('spread_clusters')
      .values({ cluster_id: c, public_id: `spc_${randomBytes(12).toString('base64url')}`, shares: 0, max_hops: 0, first_at: o.now, last_at: o.now })
      .onConflict((oc) => oc.column('cluster_id').doNothing())
      .execute();
    await tx
      .updateTable('spread_clusters')
      .set((eb) => ({ shares: eb('shares', '+', 1), max_hops: eb.case().when('max_hops', '<', hops).then(hops).else(eb.ref('max_hops')).end(), last_at: o.now }))
      .where('cluster_id', '=', c)
      .execute();
    await tx.insertInto('spread_shares').values({ cluster_id: c, message_id: o.messageId, conversation_id: o.conversationId, sender_id: o.senderId, hops, at: o.now }).execute();
  }
  const row = await tx.selectFrom('spread_clusters').select('public_id').where('cluster_id', '=', best).executeTakeFirstOrThrow();
  return { cluster: row.public_id, hops };
}
