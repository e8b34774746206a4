/**
 * The funnel's later stages, from events the chat already produces: an event tap (it runs inside
 * the transaction that writes each event) looks up the conversation in `campaign_chats` — one
 * indexed read, empty for every chat without a campaign message awaiting attribution — and moves
 * the recipient on:
 *
 *   receipt.updated by the contact     delivered / read, for campaign messages up to those seqs
 *   message.created by the contact     replied (the latest campaign message in the chat), or
 *                                      opted out when it is STOP or one of its equivalents
 *   a followed tracked link            clicked (templates' click listener: `run:<id>` and the contact)
 *   poll.answer / form.submitted       voted
 *
 * Counters move in the same transaction (recipients.ts). Nothing is fanned out: no event is
 * emitted, no job is enqueued per receipt. Rows leave `campaign_chats` once replied to, and after
 * ATTRIBUTION_MS (prune).
 */
import { matchKeyword } from '../contacts/index.ts';
import { type Database, type Tx, prepared } from '../platform/db/index.ts';
import type { EventTap } from '../sync/index.ts';
import { advance } from './recipients.ts';

// Prepared once: read on every message and receipt event (the tap below).
const openCampaignChats = prepared((db, p: { conversationId: string; accountId: string }) =>
  db.selectFrom('campaign_chats').select(['seq', 'run_id', 'contact_id']).where('conversation_id', '=', p.conversationId).where('account_id', '=', p.accountId).orderBy('seq'),
);

/** How long after a send a receipt or a reply still counts for the campaign. */
export const ATTRIBUTION_MS = 7 * 24 * 60 * 60 * 1000;

export function createTracking(deps: { db: Database; clock: () => number; onNotificationReceipt?: (tx: Tx, options: { conversationId: string; accountId: string; delivered: number; read: number }) => Promise<void> }) {
  const { clock } = deps;

  async function openIn(tx: Tx, conversationId: string, accountId: string) {
    return (await openCampaignChats(tx, { conversationId, accountId })).rows;
  }

  const tap: EventTap = async (tx, { event }) => {
    if (event.type === 'poll.answer' || event.type === 'form.submitted') {
      // Addressed to the sender alone; the conversation is in the payload.
      const open = await openIn(tx, event.data.conversation_id, event.data.from.id);
      const latest = open.at(-1);
      if (latest) await advance(tx, { runId: Number(latest.run_id), contactId: latest.contact_id, stage: 'voted', at: event.at });
      return;
    }
    const conversationId = event.conversationId;
    if (!conversationId) return;
    switch (event.type) {
      case 'receipt.updated': {
        const { account_id: accountId, delivered_seq: delivered } = event.data;
        // The contact turned read receipts off (or the business did): their reads are not the business's to count.
        const read = event.data.reads_private ? 0 : event.data.read_seq;
        await deps.onNotificationReceipt?.(tx, { conversationId, accountId, delivered, read });
        const open = await openIn(tx, conversationId, accountId);
        for (const m of open) {
          const seq = Number(m.seq);
          if (read >= seq) await advance(tx, { runId: Number(m.run_id), contactId: m.contact_id, stage: 'read', at: event.at });
          else if (delivered >= seq) await advance(tx, { runId: Number(m.run_id), contactId: m.contact_id, stage: 'delivered', at: event.at });
        }
        return;
      }
      case 'message.created': {
        // Only the people a campaign wrote to reply to it: a business's or a bot's message is never one.
        if (event.data.sender_kind !== undefined) return;
        const sender = event.data.sender_id;
        const open = await openIn(tx, conversationId, sender);
        const latest = open.filter((m) => Number(m.seq) < Number(event.data.seq)).at(-1);
        if (!latest) return;
        // STOP and its equivalents (the contacts capability records the opt-out itself) end the funnel as opted out.
        const stop = matchKeyword(event.data.text)?.action === 'stop';
        await advance(tx, { runId: Number(latest.run_id), contactId: latest.contact_id, stage: stop ? 'opted_out' : 'replied', at: event.at });
        // A reply closes attribution for everything sent before it in this chat.
        await tx.deleteFrom('campaign_chats').where('conversation_id', '=', conversationId).where('seq', '<=', Number(latest.seq)).execute();
        return;
      }
      default:
        return;
    }
  };

  /** A followed tracked link of a campaign message (templates' click listener). */
  async function clicked(click: { context: string | null; contactId: string | null; at: number }) {
    const runId = click.context?.startsWith('run:') ? Number(click.context.slice(4)) : Number.NaN;
    if (!Number.isInteger(runId) || !click.contactId) return;
    const contactId = click.contactId;
    await deps.db.writeTransaction((tx) => advance(tx, { runId, contactId, stage: 'clicked', at: click.at }));
  }

  /** Forgets sends older than the attribution window (a periodic job). */
  async function prune(): Promise<number> {
    const result = await deps.db.db.deleteFrom('campaign_chats').where('sent_at', '<', clock() - ATTRIBUTION_MS).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  return { tap, clicked, prune };
}
