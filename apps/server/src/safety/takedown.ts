/**
 * A takedown: the item, every exact copy and every near-duplicate, out of every direct chat, group
 * and channel, and its hashes into a bank so it cannot come back. Order matters:
 * 1. bank the hashes (committed first: from here on, any upload that finishes screening is
 *    checked against them),
 * 2. find copies among stored uploads (an upload hashed before step 1 committed is in the index
 *    by now, see screening.ts); a copy found only through anchored regions (a crop match) is
 *    queued for a moderator's review instead of removed,
 * 3. remove them all (removal.ts), then close reviews and tell reporters.
 * Each step is written to the takedown's record (takedown-records.ts) as it completes.
 */
import { BANK_CATEGORIES, type PastedHash, type Takedown } from '@mmd/contracts';
import type { SafetyHooks } from './hooks.ts';
import type { Static } from 'typebox';
import { encodeVideoSignature, hash256FromHex, referenceFromQuery } from '@mmd/phash';
import { AppError, notFound } from '../errors.ts';
import { loadMedia, mediaOfMessageIds } from '../media/index.ts';
import { findMessage } from '../messaging/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { appendAudit } from './audit.ts';
import { formatVpdqCompact, normaliseSignal, plainRobust } from './hash-codec.ts';
import { safetyId } from './ids.ts';
import type { SafetyIndexes } from './indexes.ts';
import { actionFor, type Matcher } from './matcher.ts';
import { loadSeeds, type MediaSeed } from './media-hashes.ts';
import { queueForReview, recordMatches } from './matches.ts';
import { closeReviewsForRemoved } from './outcomes.ts';
import type { Removal } from './removal.ts';
import { type BankRow, type NewSignal, insertSignals, loadBank, systemBank } from './store.ts';
import { finishRecord, startRecord, updateRecord } from './takedown-records.ts';

type PastedHashInput = Static<typeof PastedHash>;

export interface TakedownInput {
  mediaIds?: string[];
  messageIds?: string[];
  hashes?: PastedHashInput[];
  bankId?: string;
  reason: string;
  /** When the decision was made (performance.now()); the reported duration runs from here. */
  startedAt?: number;
  /** The review this takedown decides, if any. */
  reviewId?: string;
  /** That review's bank, signal and reason: what listeners (federation) are told it was about. */
  review?: { bankId: string | null; signalId: number | null; category: string };
  /** This instance's business alone (a removal request): listeners do not share it with peers. */
  local?: boolean;
}

/** What a takedown is about: its bank's category, or for MMD's own takedown bank the reason of the review it decided. */
function categoryOf(bank: BankRow, input: TakedownInput): string {
  const reviewed = input.review?.category;
  if (bank.system === 'takedown' && reviewed && (BANK_CATEGORIES as readonly string[]).includes(reviewed)) return reviewed;
  return bank.category;
}

/** The signals that keep a seed item out for good. */
function seedSignals(seed: MediaSeed): NewSignal[] {
  const out: NewSignal[] = [{ type: 'sha256', value: seed.sha256, origin: 'takedown' }];
  if (seed.md5) out.push({ type: 'md5', value: seed.md5, origin: 'takedown' });
  if (seed.pdq) out.push({ type: 'pdq', value: seed.pdq, quality: seed.quality, robust: seed.referenceJson, origin: 'takedown' });
  // The robust signature goes with the vPDQ: a crop, bars or a speed change of it is caught too.
  if (seed.vpdq) out.push({ type: 'vpdq', value: formatVpdqCompact(seed.vpdq), robust: seed.videoSignature ? encodeVideoSignature(referenceFromQuery(seed.videoSignature)) : null, origin: 'takedown' });
  return out;
}

export function createTakedowns(deps: { db: Database; write: WriteWithEvents; indexes: SafetyIndexes; matcher: Matcher; removal: Removal; clock: () => number; hooks: SafetyHooks }) {
  const { db, write, matcher, removal, clock } = deps;

  /** The takedown proper, once its record exists; each step updates the record as it completes. */
  async function proceed(run: {
    id: string;
    actorId: string | null;
    input: TakedownInput;
    startedAt: number;
    bank: BankRow;
    seeds: MediaSeed[];
    mediaIds: Set<string>;
    pasted: Array<PastedHashInput & ReturnType<typeof normaliseSignal>>;
  }): Promise<Takedown> {
    const { id, actorId, input, bank, seeds, mediaIds, pasted } = run;
    // 1. Bank first, so nothing that finishes screening from now on gets through.
    const signals: NewSignal[] = [
      ...seeds.flatMap(seedSignals),
      ...pasted.map((h) => ({ type: h.type, value: h.value, label: h.label ?? null, origin: 'takedown' as const })),
    ];
    const added = await db.writeTransaction((tx) => insertSignals(tx, { bankId: bank.id, signals, createdBy: actorId, now: clock() }));
    if (added.length > 0) deps.indexes.announce();
    await updateRecord(db.db, id, { stage: 'finding', signals_added: added.length, now: clock() });

    // 2. Every stored copy: same bytes, or near-duplicates under the bank's threshold.
    const copies = await matcher.findCopies({
      sha256: [...seeds.map((s) => s.sha256), ...pasted.filter((h) => h.type === 'sha256').map((h) => h.value)],
      md5: [...seeds.flatMap((s) => (s.md5 ? [s.md5] : [])), ...pasted.filter((h) => h.type === 'md5').map((h) => h.value)],
      images: [
        ...seeds.flatMap((s) => (s.reference ? [{ reference: s.reference, query: s.query ?? undefined, threshold: Number(bank.pdq_threshold), plain: s.pdq }] : [])),
        ...pasted.filter((h) => h.type === 'pdq').map((h) => ({ reference: plainRobust(hash256FromHex(h.value)), threshold: Number(bank.pdq_threshold) })),
      ],
      videos: [
        ...seeds.flatMap((s) => (s.vpdq ? [{ frames: s.vpdq, reference: s.videoSignature ? referenceFromQuery(s.videoSignature) : null }] : [])),
        ...pasted.flatMap((h) => (h.frames ? [{ frames: h.frames }] : [])),
      ],
    });
    for (const mediaId of mediaIds) if (!copies.has(mediaId)) copies.set(mediaId, 'sha256');
    await recordMatches(db.db, { matches: [...copies].map(([mediaId, rule]) => ({ bankId: bank.id, mediaId, rule })), source: 'takedown', now: clock() });
    // The moderator decided on the named items; a copy found only through anchored regions may be a
    // different picture sharing a part with them (app chrome, a caption), so a moderator looks at it first.
    const queued = [...copies].filter(([mediaId, rule]) => !mediaIds.has(mediaId) && actionFor({ action: 'block', rule }) !== 'block').map(([mediaId]) => mediaId);
    const toRemove = [...copies.keys()].filter((mediaId) => !queued.includes(mediaId));
    if (queued.length > 0) await db.writeTransaction((tx) => queueForReview(tx, { mediaIds: queued, bank, now: clock() }));
    await updateRecord(db.db, id, { stage: 'removing', copies_found: toRemove.length, now: clock() });

    // 3. Gone, everywhere; the record follows each committed batch.
    const result = await removal.removeMedia(toRemove, {
      extraMessageIds: input.messageIds ?? [],
      onProgress: (soFar) => updateRecord(db.db, id, { media_removed: soFar.mediaRemoved.length, messages_removed: soFar.messagesRemoved.length, conversations: soFar.conversations.size, now: clock() }),
    });
    const counts = { media_removed: result.mediaRemoved.length, messages_removed: result.messagesRemoved.length, conversations: result.conversations.size };
    await updateRecord(db.db, id, { stage: 'closing', ...counts, now: clock() });
    const now = clock();
    await write(async (tx, emit) => {
      await closeReviewsForRemoved(tx, emit, { messageIds: result.messagesRemoved, mediaIds: toRemove, decidedBy: actorId, now });
    });
    const durationMs = Math.round((performance.now() - run.startedAt) * 10) / 10;
    const takedown: Takedown = {
      id,
      bank_id: bank.id,
      signals_added: added.length,
      ...counts,
      copies: [...copies].map(([media_id, rule]) => ({ media_id, rule })),
      queued_for_review: queued.length,
      duration_ms: durationMs,
    };
    await finishRecord(db.db, id, { status: 'done', now: clock(), durationMs, ...counts });
    await appendAudit(db.db, {
      at: now,
      actorId,
      action: 'takedown',
      subjectType: 'takedown',
      subjectId: id,
      bankId: bank.id,
      detail: {
        reason: input.reason,
        ...(input.reviewId ? { review_id: input.reviewId } : {}),
        media: [...mediaIds],
        messages: input.messageIds ?? [],
        hashes: pasted.length,
        copies_found: copies.size,
        queued_for_review: queued.length,
        media_removed: takedown.media_removed,
        messages_removed: takedown.messages_removed,
        conversations: takedown.conversations,
        signals_added: takedown.signals_added,
        duration_ms: durationMs,
      },
    });
    await deps.hooks.emit('takedownFinished', {
      takedownId: id,
      bankId: bank.id,
      category: categoryOf(bank, input),
      signals: signals.map((s) => ({ type: s.type, value: s.value, quality: s.quality ?? null, robust: s.robust ?? null })),
      mediaRemoved: takedown.media_removed,
      reviewBankId: input.review?.bankId ?? null,
      reviewSignalId: input.review?.signalId ?? null,
      local: input.local === true,
    });
    return takedown;
  }

  return {
    /** Runs a takedown to the end and answers with its figures; its record shows progress meanwhile. */
    async run(actorId: string | null, input: TakedownInput): Promise<Takedown> {
      const startedAt = input.startedAt ?? performance.now();
      if (!input.mediaIds?.length && !input.messageIds?.length && !input.hashes?.length) {
        throw new AppError('validation_failed', 'name what to take down: media_id, message_id or hashes', { errors: [{ path: '/media_id', message: 'one of media_id, message_id, hashes is required' }] });
      }
      const mediaIds = new Set(input.mediaIds ?? []);
      for (const id of mediaIds) if (!(await loadMedia(db.db, id))) throw notFound('media');
      for (const id of input.messageIds ?? []) {
        if (!(await findMessage(db.db, id))) throw notFound('message');
        for (const a of await mediaOfMessageIds(db.db, [id])) mediaIds.add(a.mediaId);
      }
      const pasted = (input.hashes ?? []).map((h, i) => ({ ...h, ...normaliseSignal(h.type, h.value, `/hashes/${i}/value`) }));
      const bank: BankRow = input.bankId ? await loadBank(db.db, input.bankId) : await systemBank(db.db, 'takedown', clock());
      const seeds = await loadSeeds(db.db, [...mediaIds]);

      // Everything above only checked the request; from here on the takedown is on record.
      const id = safetyId('tkd');
      await startRecord(db.db, { id, reason: input.reason, actorId, reviewId: input.reviewId ?? null, bankId: bank.id, now: clock() });
      try {
        return await proceed({ id, actorId, input, startedAt, bank, seeds, mediaIds, pasted });
      } catch (err) {
        // Whatever was removed stays removed; the record says where it stopped and the log says why.
        const error = err instanceof AppError ? err.message : 'an internal error stopped it; see the server log';
        const now = clock();
        // If the database itself is what failed, the record stays running until failInterrupted; the caller hears the first error.
        await finishRecord(db.db, id, { status: 'failed', now, error })
          .then(() => appendAudit(db.db, { at: now, actorId, action: 'takedown.failed', subjectType: 'takedown', subjectId: id, bankId: bank.id, detail: { reason: input.reason, error, ...(input.reviewId ? { review_id: input.reviewId } : {}) } }))
          .catch(() => {});
        throw err;
      }
    },
  };
}

export type Takedowns = ReturnType<typeof createTakedowns>;
