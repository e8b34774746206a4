/**
 * Reports and the review queue. A member reports a message they can read; reports of one message
 * share one review. Uploads held by a bank queue a review of their own. Moderators see previews
 * blurred (previews.ts), then take down, dismiss or escalate; escalated reviews are decided by
 * admins. Reporters hear the outcome (outcomes.ts).
 */
import { REPORT_ACCOUNT_MESSAGES, type ReportAccountBody } from '@mmd/contracts';
import type { CreateReportBody, DecisionBody, DecisionReply, Report, ReportList, ReportReason, Review, ReviewList } from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { readableRanges, requireMember } from '../conversations/index.ts';
import { accountIdByHandle } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import { loadMediaRows, mediaOfMessageIds, releaseHeld, summarise } from '../media/index.ts';
import { type SpreadPolicy, findMessage, latestMessagesFrom, messagesForReview } from '../messaging/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { SafetyReviewsTable } from './schema.ts';
import type { Emit, WriteWithEvents } from '../sync/index.ts';
import type { SafetyHooks } from './hooks.ts';
import { isPeerSource } from './store.ts';
import { appendAudit } from './audit.ts';
import { safetyId } from './ids.ts';
import { resolveReports } from './outcomes.ts';
import type { Takedowns } from './takedown.ts';

export type ReviewRow = SafetyReviewsTable;

/**
 * Closes an open review as dismissed: a held upload is released (delivered), its reports resolved
 * with no action. False when it was closed meanwhile.
 */
export async function dismissReview(tx: Tx, emit: Emit, o: { review: ReviewRow; decidedBy: string | null; note: string | null; now: number; spread: SpreadPolicy }): Promise<boolean> {
  const { review, now } = o;
  const updated = await tx.updateTable('safety_reviews').set({ status: 'closed', outcome: 'dismiss', decided_at: now, decided_by: o.decidedBy, note: o.note }).where('id', '=', review.id).where('status', '!=', 'closed').executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  if (review.kind === 'hold' && review.media_id) {
    await releaseHeld(tx, emit, { mediaId: review.media_id, now, spread: o.spread });
    await appendAudit(tx, { at: now, actorId: o.decidedBy, action: 'hold.released', subjectType: 'media', subjectId: review.media_id, bankId: review.bank_id, detail: { review_id: review.id } });
  }
  await resolveReports(tx, emit, { reviewIds: [review.id], outcome: 'no_action', now });
  return true;
}

export function createReviews(deps: { db: Database; write: WriteWithEvents; takedowns: Takedowns; clock: () => number; spread: SpreadPolicy; hooks: SafetyHooks }) {
  const { db, write, clock } = deps;

  async function loadReview(id: string): Promise<ReviewRow> {
    const row = await db.db.selectFrom('safety_reviews').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('review');
    return row;
  }

  /** The API view of reviews, with their message, media and bank, in as few queries as the page needs. */
  async function views(rows: ReviewRow[]): Promise<Review[]> {
    if (rows.length === 0) return [];
    const messageIds = rows.flatMap((r) => (r.message_id ? [r.message_id] : []));
    const messages = await messagesForReview(db.db, messageIds);
    const byMessage = new Map(messages.map((m) => [m.id, m]));
    const attached = await mediaOfMessageIds(db.db, messageIds);
    const mediaIds = [...new Set([...rows.flatMap((r) => (r.media_id ? [r.media_id] : [])), ...attached.map((a) => a.mediaId)])];
    const media = await loadMediaRows(db.db, mediaIds);
    const byMedia = new Map(media.map((m) => [m.id, m]));
    const bankIds = [...new Set(rows.flatMap((r) => (r.bank_id ? [r.bank_id] : [])))];
    const banks = bankIds.length ? await db.db.selectFrom('safety_banks').select(['id', 'name', 'category']).where('id', 'in', bankIds).execute() : [];
    const byBank = new Map(banks.map((b) => [b.id, b]));
    const reviewIds = rows.map((r) => r.id);
    const notes = await db.db.selectFrom('safety_reports').select(['review_id', 'note']).where('review_id', 'in', reviewIds).where('note', 'is not', null).orderBy('created_at').execute();
    const reasons = await db.db
      .selectFrom('safety_reports')
      .select(['review_id', 'reason', (eb) => eb.fn.countAll<number>().as('n')])
      .where('review_id', 'in', reviewIds)
      .groupBy(['review_id', 'reason'])
      .execute();
    return rows.map((r) => {
      const m = r.message_id ? byMessage.get(r.message_id) : undefined;
      const ids = r.media_id ? [r.media_id] : attached.filter((a) => a.messageId === r.message_id).map((a) => a.mediaId);
      const bank = r.bank_id ? byBank.get(r.bank_id) : undefined;
      return {
        id: r.id,
        kind: r.kind,
        status: r.status,
        outcome: r.outcome,
        reason: r.reason,
        report_count: Number(r.report_count),
        reasons: reasons
          .filter((x) => x.review_id === r.id)
          .map((x) => ({ reason: x.reason as ReportReason, count: Number(x.n) }))
          .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
        notes: notes.filter((n) => n.review_id === r.id).map((n) => n.note!),
        message: m
          ? { id: m.id, conversation_id: m.conversationId, conversation_kind: m.conversationKind, sender_id: m.senderId, sender_handle: m.senderHandle ?? 'deleted', text: m.text, deleted: m.deleted, created_at: m.createdAt }
          : null,
        media: ids.flatMap((id) => {
          const item = byMedia.get(id);
          if (!item) return [];
          const s = summarise(item);
          const previewable = item.status !== 'removed' && item.status !== 'failed' && (item.kind === 'image' || item.kind === 'video');
          return [{ id, kind: s.kind, status: s.status, ...(s.width ? { width: s.width, height: s.height } : {}), preview: previewable ? `/v1/safety/reviews/${r.id}/media/${id}/preview` : null, ...(s.provenance ? { provenance: s.provenance } : {}) }];
        }),
        bank: bank ? { id: bank.id, name: bank.name, category: bank.category as NonNullable<Review['bank']>['category'] } : null,
        created_at: Number(r.created_at),
        decided_at: r.decided_at === null ? null : Number(r.decided_at),
        decided_by: r.decided_by,
      };
    });
  }

  return {
    views,

    async report(principal: Principal, body: CreateReportBody): Promise<Report> {
      const message = await findMessage(db.db, body.message_id);
      if (!message) throw notFound('message');
      await requireMember(db.db, message.conversation_id, principal.accountId);
      // Messages still waiting for media exist only for their sender.
      if (message.status !== 'sent' && message.sender_id !== principal.accountId) throw notFound('message');
      if (message.deleted_at !== null) throw new AppError('message_deleted', 'that message was deleted');
      const now = clock();
      return db.writeTransaction(async (tx) => {
        const existing = await tx.selectFrom('safety_reports').selectAll().where('message_id', '=', message.id).where('reporter_id', '=', principal.accountId).executeTakeFirst();
        // Reporting twice is one report: the queue counts people, not clicks.
        if (existing) return toReport(existing);
        let review = await tx.selectFrom('safety_reviews').select('id').where('message_id', '=', message.id).where('kind', '=', 'report').where('status', '!=', 'closed').executeTakeFirst();
        if (!review) {
          review = { id: safetyId('rev') };
          await tx
            .insertInto('safety_reviews')
            .values({ id: review.id, kind: 'report', status: 'open', outcome: null, reason: body.reason, message_id: message.id, media_id: null, bank_id: null, signal_id: null, report_count: 0, created_at: now, decided_at: null, decided_by: null, note: null })
            .execute();
        }
        await tx.updateTable('safety_reviews').set((eb) => ({ report_count: eb('report_count', '+', 1) })).where('id', '=', review.id).execute();
        const row = { id: safetyId('rpt'), message_id: message.id, reporter_id: principal.accountId, review_id: review.id, reason: body.reason, note: body.note ?? null, status: 'open' as const, outcome: null, created_at: now, resolved_at: null };
        await tx.insertInto('safety_reports').values(row).execute();
        await appendAudit(tx, { at: now, actorId: principal.accountId, action: 'report.created', subjectType: 'message', subjectId: message.id, detail: { report_id: row.id, review_id: review.id, reason: body.reason } });
        return toReport(row);
      });
    },

    /**
     * Reports an account from a chat it is in: its newest messages there that the reporter can
     * read (REPORT_ACCOUNT_MESSAGES at most), each as a report of its own, so moderators review
     * what was said. Nothing from them to read there: refused, as there is nothing to review.
     */
    async reportAccount(principal: Principal, body: ReportAccountBody): Promise<Report[]> {
      const membership = await requireMember(db.db, body.conversation_id, principal.accountId);
      const accountId = await accountIdByHandle(db.db, body.handle.replace(/^@/, ''));
      if (!accountId) throw notFound('account');
      if (accountId === principal.accountId) throw new AppError('validation_failed', 'you cannot report yourself', { errors: [{ path: '/handle', message: 'your own handle' }] });
      const messages = await latestMessagesFrom(db.db, { conversationId: body.conversation_id, senderId: accountId, ranges: await readableRanges(db.db, membership), limit: REPORT_ACCOUNT_MESSAGES });
      if (messages.length === 0) {
        throw new AppError('validation_failed', 'this account wrote nothing here you can read: report a message of theirs, or block them', { errors: [{ path: '/handle', message: 'no messages from this account in this chat' }] });
      }
      const reports: Report[] = [];
      for (const m of messages) reports.push(await this.report(principal, { message_id: m.id, reason: body.reason, note: body.note }));
      return reports;
    },

    /** The reporter's own reports, newest first: only ever theirs, so it reveals nothing of others'. */
    async mine(principal: Principal, query: { limit: number; before?: number }): Promise<ReportList> {
      let q = db.db.selectFrom('safety_reports').selectAll().where('reporter_id', '=', principal.accountId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1);
      if (query.before !== undefined) q = q.where('created_at', '<', query.before);
      const rows = await q.execute();
      const page = rows.slice(0, query.limit);
      return { reports: page.map(toReport), next_before: rows.length > query.limit ? Number(page[page.length - 1]!.created_at) : null };
    },

    async list(query: { status: Review['status']; limit: number; before?: number }): Promise<ReviewList> {
      let q = db.db.selectFrom('safety_reviews').selectAll().where('status', '=', query.status).orderBy('created_at', 'desc').orderBy('id').limit(query.limit + 1);
      if (query.before !== undefined) q = q.where('created_at', '<', query.before);
      const rows = await q.execute();
      const page = rows.slice(0, query.limit);
      return { reviews: await views(page), next_before: rows.length > query.limit ? Number(page[page.length - 1]!.created_at) : null };
    },

    async get(id: string): Promise<Review> {
      return (await views([await loadReview(id)]))[0]!;
    },

    /** The media items a review covers (previews may show only these). */
    async mediaOf(reviewId: string): Promise<string[]> {
      const review = await loadReview(reviewId);
      if (review.media_id) return [review.media_id];
      if (!review.message_id) return [];
      return (await mediaOfMessageIds(db.db, [review.message_id])).map((r) => r.mediaId);
    },

    async decide(principal: Principal, id: string, body: DecisionBody): Promise<DecisionReply> {
      const startedAt = performance.now();
      const review = await loadReview(id);
      if (review.status === 'closed') throw new AppError('conflict', `this review was already decided (${review.outcome})`);
      if (review.status === 'escalated' && principal.role !== 'admin') throw new AppError('forbidden', 'an escalated review is decided by an admin');
      if (body.action === 'escalate' && review.status === 'escalated') throw new AppError('conflict', 'this review is already escalated');
      const now = clock();
      const audit = (tx: Tx, extra: Record<string, unknown> = {}) =>
        appendAudit(tx, { at: clock(), actorId: principal.accountId, action: 'review.decided', subjectType: 'review', subjectId: id, bankId: review.bank_id, detail: { decision: body.action, kind: review.kind, ...(body.note ? { note: body.note } : {}), ...extra } });
      if (body.action === 'escalate') {
        await write(async (tx) => {
          await tx.updateTable('safety_reviews').set({ status: 'escalated', note: body.note ?? null }).where('id', '=', id).execute();
          await audit(tx);
        });
        return { review: await this.get(id), takedown: null };
      }
      if (body.action === 'dismiss') {
        await write(async (tx, emit) => {
          if (!(await dismissReview(tx, emit, { review, decidedBy: principal.accountId, note: body.note ?? null, now, spread: deps.spread }))) throw new AppError('conflict', 'this review was decided meanwhile');
          await audit(tx);
        });
        await deps.hooks.emit('reviewDecided', { reviewId: id, bankId: review.bank_id, signalId: review.signal_id === null ? null : Number(review.signal_id), outcome: 'dismiss', mediaRemoved: 0 });
        return { review: await this.get(id), takedown: null };
      }
      // The protect bank only holds (anyone can add to it), and a peer's bank holds or blocks what
      // another platform said: what a moderator here takes down goes to a bank of this instance's own.
      const matched = review.bank_id
        ? await db.db
            .selectFrom('safety_banks')
            .select(['system', 'source', 'category'])
            .where('id', '=', review.bank_id)
            .executeTakeFirst()
        : undefined;
      const ownBank = matched?.system === 'protect' || isPeerSource(matched?.source ?? null);
      const takedown = await deps.takedowns.run(principal.accountId, {
        mediaIds: review.media_id ? [review.media_id] : [],
        messageIds: review.message_id ? [review.message_id] : [],
        bankId: body.bank_id ?? (ownBank ? undefined : (review.bank_id ?? undefined)),
        reason: body.note ?? `review ${id}: ${review.reason}`,
        startedAt,
        reviewId: id,
        review: { bankId: review.bank_id, signalId: review.signal_id === null ? null : Number(review.signal_id), category: matched?.category ?? review.reason },
      });
      // The takedown closed this review (it covers the message or media); record who decided.
      await write(async (tx) => {
        await tx.updateTable('safety_reviews').set({ status: 'closed', outcome: 'takedown', decided_at: now, decided_by: principal.accountId, note: body.note ?? null }).where('id', '=', id).execute();
        await audit(tx, { takedown_id: takedown.id });
      });
      await deps.hooks.emit('reviewDecided', { reviewId: id, bankId: review.bank_id, signalId: review.signal_id === null ? null : Number(review.signal_id), outcome: 'takedown', mediaRemoved: takedown.media_removed });
      return { review: await this.get(id), takedown };
    },
  };
}

function toReport(r: { id: string; message_id: string; reason: string; status: 'open' | 'resolved'; outcome: 'removed' | 'no_action' | null; created_at: number; resolved_at: number | null }): Report {
  return { id: r.id, message_id: r.message_id, reason: r.reason as Report['reason'], status: r.status, outcome: r.outcome, created_at: Number(r.created_at), resolved_at: r.resolved_at === null ? null : Number(r.resolved_at) };
}

export type Reviews = ReturnType<typeof createReviews>;
