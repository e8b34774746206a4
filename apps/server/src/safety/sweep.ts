/**
 * Retroactive sweeps (the `safety-sweep` job): when signals join a bank, find what is already on
 * the server and act by the bank's action — block removes every copy (removal.ts), hold queues a
 * review per item, blur flags items so clients show them behind a warning. A copy a block bank
 * found only through anchored regions (a crop match) is queued for review instead of removed.
 * Idempotent: a rerun finds removed items gone, open reviews open and flags set.
 */
import { hash256FromHex } from '@mmd/phash';
import type { JobPayloads } from '../jobs.ts';
import { flagBlurred, messagesCarrying } from '../media/index.ts';
import { visibleMessagesAmong } from '../messaging/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { appendAudit } from './audit.ts';
import { readStoredRobust, parseVideoSignature, parseVpdqAny, plainRobust } from './hash-codec.ts';
import { recordCaseItems, trustedBankIds } from './protect.ts';
import { safetyId } from './ids.ts';
import { actionFor, isCropOnly, type Matcher } from './matcher.ts';
import { recordMatches } from './matches.ts';
import { closeReviewsForRemoved } from './outcomes.ts';
import type { Removal } from './removal.ts';
import type { SafetyHooks } from './hooks.ts';
import { loadBank } from './store.ts';

const PAGE = 200;

export function createSweeps(deps: {
  db: Database;
  write: WriteWithEvents;
  matcher: Matcher;
  removal: Removal;
  clock: () => number;
  /** config.protectTrustedAutoAction: a copy a protection case found is removed at once if a trusted bank matches it too. */
  autoAction: boolean;
  hooks: SafetyHooks;
}) {
  const { db, write, clock } = deps;

  /** The copies (of those a case found) that a trusted bank also matches. */
  async function trustedAlso(mediaIds: string[]): Promise<Set<string>> {
    const trusted = await trustedBankIds(db.db);
    const out = new Set<string>();
    if (trusted.size === 0 || mediaIds.length === 0) return out;
    const rows = await db.db
      .selectFrom('safety_media_hashes')
      .select(['media_id', 'sha256', 'md5', 'query', 'quality', 'vpdq', 'video_signature'])
      .where('media_id', 'in', mediaIds)
      .execute();
    for (const r of rows) {
      const query = readStoredRobust(r.query);
      const matches = await deps.matcher.matchBanks({
        sha256: r.sha256,
        md5: r.md5,
        // With its quality: how many plain hashes lead its query set (matcher.ts pdq_plain).
        ...(query ? { image: { query, ...(r.quality !== null ? { quality: Number(r.quality) } : {}) } } : {}),
        ...(r.vpdq ? { video: { frames: parseVpdqAny(r.vpdq), signature: parseVideoSignature(r.video_signature) } } : {}),
      });
      // A crop-only match is weaker evidence and never acts alone, trusted or not.
      if (matches.some((m) => trusted.has(m.bank_id) && !isCropOnly(m.rule))) out.add(r.media_id);
    }
    return out;
  }

  async function act(
    bank: Awaited<ReturnType<typeof loadBank>>,
    mediaIds: string[],
    signalOf: Map<string, number>,
    rules: Map<string, string>,
  ) {
    // What each copy may do by itself: a block bank's copies found only through anchored regions
    // are queued for review (actionFor), never removed on that evidence.
    const actionOf = (mediaId: string) => actionFor({ action: bank.action, rule: rules.get(mediaId) ?? null });
    const toRemove = mediaIds.filter((id) => actionOf(id) === 'block');
    const rest = mediaIds.filter((id) => actionOf(id) !== 'block');
    let removed = 0;
    let messages = 0;
    if (toRemove.length > 0) {
      const r = await deps.removal.removeMedia(toRemove);
      await write(async (tx, emit) => closeReviewsForRemoved(tx, emit, { messageIds: r.messagesRemoved, mediaIds: toRemove, decidedBy: null, now: clock() }));
      removed = r.mediaRemoved.length;
      messages = r.messagesRemoved.length;
    }
    let held = 0;
    let blurred = 0;
    if (rest.length === 0) return { removed, messages, held, blurred };
    await write(async (tx, emit) => {
      const now = clock();
      for (const mediaId of rest) {
        if (actionOf(mediaId) === 'hold') {
          const open = await tx.selectFrom('safety_reviews').select('id').where('media_id', '=', mediaId).where('status', '!=', 'closed').executeTakeFirst();
          if (open) continue;
          // Already delivered: it stays visible until a moderator decides (a false match must not hide it).
          await tx
            .insertInto('safety_reviews')
            .values({ id: safetyId('rev'), kind: 'hold', status: 'open', outcome: null, reason: bank.category, message_id: null, media_id: mediaId, bank_id: bank.id, signal_id: signalOf.get(mediaId) ?? null, report_count: 0, created_at: now, decided_at: null, decided_by: null, note: null })
            .execute();
          held++;
        } else {
          if (!(await flagBlurred(tx, emit, { mediaId, now }))) continue;
          blurred++;
          const messages = await visibleMessagesAmong(tx, await messagesCarrying(tx, [mediaId]));
          for (const m of messages) {
            await emit({ type: 'message.media_flagged', conversationId: m.conversationId, data: { message_id: m.id, conversation_id: m.conversationId, media_id: mediaId, blurred: true }, at: now });
          }
        }
      }
    });
    return { removed, messages, held, blurred };
  }

  return {
    /** The job handler. */
    async run(payload: JobPayloads['safety-sweep']) {
      const bank = await loadBank(db.db, payload.bankId);
      const totals = { signals: 0, matched: 0, removed: 0, messages: 0, held: 0, blurred: 0 };
      for (let after = payload.afterSignalId; ; ) {
        const signals = await db.db
          .selectFrom('safety_signals')
          .select(['id', 'type', 'value', 'robust'])
          .where('bank_id', '=', bank.id)
          .where('id', '>', after)
          .where('id', '<=', payload.upToSignalId)
          .orderBy('id')
          .limit(PAGE)
          .execute();
        if (signals.length === 0) break;
        after = Number(signals[signals.length - 1]!.id);
        totals.signals += signals.length;
        const signalOf = new Map<string, number>();
        const copies = new Map<string, string>();
        // One search per signal, so each item found is attributed to the signal that found it.
        for (const s of signals) {
          const found = await deps.matcher.findCopies({
            sha256: s.type === 'sha256' ? [s.value] : [],
            md5: s.type === 'md5' ? [s.value] : [],
            images: s.type === 'pdq' ? [{ reference: readStoredRobust(s.robust) ?? plainRobust(hash256FromHex(s.value)), threshold: Number(bank.pdq_threshold), plain: s.value }] : [],
            videos: s.type === 'vpdq' ? [{ frames: parseVpdqAny(s.value), reference: parseVideoSignature(s.robust) }] : [],
          });
          for (const [mediaId, rule] of found) {
            if (!copies.has(mediaId)) {
              copies.set(mediaId, rule);
              signalOf.set(mediaId, Number(s.id));
            }
          }
        }
        totals.matched += copies.size;
        if (copies.size > 0) {
          await recordMatches(db.db, {
            matches: [...copies].map(([mediaId, rule]) => ({
              bankId: bank.id,
              mediaId,
              signalId: signalOf.get(mediaId) ?? null,
              rule,
            })),
            source: 'sweep',
            now: clock(),
          });
          let ids = [...copies.keys()];
          if (payload.caseRef) {
            // A protection case's copies wait for a moderator (the protect bank holds), except
            // those a trusted bank also matches, when the operator allows acting on that alone.
            const auto = deps.autoAction ? await trustedAlso(ids.filter((id) => !isCropOnly(copies.get(id)))) : new Set<string>();
            const caseRef = payload.caseRef;
            await db.writeTransaction(async (tx) => {
              for (const mediaId of ids)
                await recordCaseItems(tx, {
                  cases: [caseRef],
                  mediaId,
                  source: 'sweep',
                  autoAction: auto.has(mediaId),
                  now: clock(),
                });
            });
            if (auto.size > 0) {
              const r = await deps.removal.removeMedia([...auto]);
              await write(async (tx, emit) =>
                closeReviewsForRemoved(tx, emit, {
                  messageIds: r.messagesRemoved,
                  mediaIds: [...auto],
                  decidedBy: null,
                  now: clock(),
                }),
              );
              totals.removed += r.mediaRemoved.length;
              totals.messages += r.messagesRemoved.length;
              ids = ids.filter((id) => !auto.has(id));
            }
          }
          const done = await act(bank, ids, signalOf, copies);
          totals.removed += done.removed;
          totals.messages += done.messages;
          totals.held += done.held;
          totals.blurred += done.blurred;
        }
        if (signals.length < PAGE) break;
      }
      const now = clock();
      await db.writeTransaction(async (tx) => {
        if (payload.caseRef) {
          // Checked, whatever it found: the submitter sees "under review" either way.
          await tx
            .updateTable('safety_cases')
            .set({ status: 'under_review', updated_at: now })
            .where('reference', '=', payload.caseRef)
            .where('status', '=', 'received')
            .execute();
          await tx
            .updateTable('safety_cases')
            .set({ last_checked_at: now })
            .where('reference', '=', payload.caseRef)
            .execute();
        }
        await appendAudit(tx, { at: now, actorId: null, action: 'sweep.completed', subjectType: 'bank', subjectId: bank.id, bankId: bank.id, detail: { ...totals, action: bank.action, after_signal_id: payload.afterSignalId, up_to_signal_id: payload.upToSignalId, ...(payload.caseRef ? { case: payload.caseRef } : {}) } });
      });
      if (payload.tag) await deps.hooks.emit('sweepCompleted', { bankId: bank.id, tag: payload.tag, totals });
      return totals;
    },
  };
}

export type Sweeps = ReturnType<typeof createSweeps>;
