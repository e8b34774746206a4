/**
 * Channel view counts (Telegram's eye under each post): every subscriber counts once per post,
 * whether they saw it by reading up to it (their read mark) or by a view call. A `post_views` row
 * per viewer and post is what makes "once" hold; the post's `views` counter rises in the same
 * transaction by the rows actually inserted, so reading a count never scans its viewers.
 */
import type { Tx } from '../platform/db/index.ts';

/**
 * How many posts one read mark counts at most: someone catching up on a thousand posts at once
 * saw the newest, not all of them, and one request must not write a thousand rows.
 */
export const MAX_VIEWS_PER_READ = 100;

/**
 * Counts `accountId`'s view of the channel's sent posts with these seqs (or the newest
 * MAX_VIEWS_PER_READ in `after < seq <= upTo`), once each. Their own posts are not counted:
 * an admin's read mark rises as they post. Returns the posts' counts after counting.
 */
export async function countViews(
  tx: Tx,
  options: { conversationId: string; accountId: string } & ({ seqs: number[] } | { after: number; upTo: number }),
): Promise<{ seq: number; views: number }[]> {
  let q = tx
    .selectFrom('messages')
    .select(['id', 'seq', 'sender_id', 'views'])
    .where('conversation_id', '=', options.conversationId)
    .where('status', '=', 'sent')
    .where('deleted_at', 'is', null);
  if ('seqs' in options) {
    if (options.seqs.length === 0) return [];
    q = q.where('seq', 'in', options.seqs);
  } else {
    if (options.upTo <= options.after) return [];
    q = q.where('seq', '>', options.after).where('seq', '<=', options.upTo).orderBy('seq', 'desc').limit(MAX_VIEWS_PER_READ);
  }
  const posts = await q.execute();
  const others = posts.filter((p) => p.sender_id !== options.accountId);
  const seen = new Set<string>();
  if (others.length > 0) {
    const rows = await tx.selectFrom('post_views').select('message_id').where('account_id', '=', options.accountId).where('message_id', 'in', others.map((p) => p.id)).execute();
    for (const r of rows) seen.add(r.message_id);
  }
  const fresh = others.filter((p) => !seen.has(p.id));
  if (fresh.length > 0) {
    await tx.insertInto('post_views').values(fresh.map((p) => ({ message_id: p.id, account_id: options.accountId }))).execute();
    await tx.updateTable('messages').set((eb) => ({ views: eb('views', '+', 1) })).where('id', 'in', fresh.map((p) => p.id)).execute();
  }
  const counted = new Set(fresh.map((p) => p.id));
  return posts.map((p) => ({ seq: Number(p.seq), views: Number(p.views ?? 0) + (counted.has(p.id) ? 1 : 0) })).sort((a, b) => a.seq - b.seq);
}
