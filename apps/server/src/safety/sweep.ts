/**
 * Retroactive sweeps (the `safety-sweep` job): when signals join a bank, find what is already on
 * the server and act by the bank's action — block removes every copy (removal.ts), hold queues a
 * review per item, blur flags items so clients show them behind a warning. Idempotent: a rerun
 * finds removed items gone, open reviews open and flags set.
 */
import { hash256FromHex } from '@mmd/phash';
import type { JobPayloads } from '../jobs.ts';
import type { Database } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/write.ts';
import { summarise, type MediaRow } from '../media/store.ts';
import { appendAudit } from './audit.ts';
import { parseRobustJson, parseVpdqAny, plainRobust } from './hash-codec.ts';
import { safetyId } from './ids.ts';
import type { Matcher } from './matcher.ts';
import { recordMatches } from './matches.ts';
import { closeReviewsForRemoved } from './outcomes.ts';
import type { Removal } from './removal.ts';
import { loadBank } from './store.ts';

const PAGE = 200;

export function createSweeps(deps: { db: Database; write: WriteWithEvents; matcher: Matcher; removal: Removal; clock: () => number }) {
  const { db, write, clock } = deps;

  async function act(bank: Awaited<ReturnType<typeof loadBank>>, mediaIds: string[], signalOf: Map<string, number>) {
    if (bank.action === 'block') {
      const r = await deps.removal.removeMedia(mediaIds);
      await write(async (tx, emit) => closeReviewsForRemoved(tx, emit, { messageIds: r.messagesRemoved, mediaIds, decidedBy: null, now: clock() }));
      return { removed: r.mediaRemoved.length, messages: r.messagesRemoved.length, held: 0, blurred: 0 };
    }
    let held = 0;
    let blurred = 0;
    await write(async (tx, emit) => {
      const now = clock();
      for (const mediaId of mediaIds) {
        if (bank.action === 'hold') {
          const open = await tx.selectFrom('safety_reviews').select('id').where('media_id', '=', mediaId).where('status', '!=', 'closed').executeTakeFirst();
          if (open) continue;
          // Already delivered: it stays visible until a moderator decides (a false match must not hide it).
          await tx
            .insertInto('safety_reviews')
            .values({ id: safetyId('rev'), kind: 'hold', status: 'open', outcome: null, reason: bank.category, message_id: null, media_id: mediaId, bank_id: bank.id, signal_id: signalOf.get(mediaId) ?? null, report_count: 0, created_at: now, decided_at: null, decided_by: null, note: null })
            .execute();
          held++;
        } else {
          const changed = await tx.updateTable('media').set({ safety: 'blur', updated_at: now }).where('id', '=', mediaId).where('status', 'in', ['ready', 'held']).where((eb) => eb.or([eb('safety', 'is', null), eb('safety', '!=', 'blur')])).executeTakeFirst();
          if (Number(changed.numUpdatedRows) === 0) continue;
          blurred++;
          const row = (await tx.selectFrom('media').selectAll().where('id', '=', mediaId).executeTakeFirstOrThrow()) as MediaRow;
          await emit({ type: 'media.updated', conversationId: null, targetAccountId: row.owner_id, data: { ...summarise(row), reason: null, reason_code: null }, at: now });
          const messages = await tx
            .selectFrom('message_media')
            .innerJoin('messages', 'messages.id', 'message_media.message_id')
            .select(['messages.id', 'messages.conversation_id'])
            .where('message_media.media_id', '=', mediaId)
            .where('messages.status', '=', 'sent')
            .where('messages.deleted_at', 'is', null)
            .execute();
          for (const m of messages) {
            await emit({ type: 'message.media_flagged', conversationId: m.conversation_id, data: { message_id: m.id, conversation_id: m.conversation_id, media_id: mediaId, blurred: true }, at: now });
          }
        }
      }
    });
    return { removed: 0, messages: 0, held, blurred };
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
            images: s.type === 'pdq' ? [{ reference: parseRobustJson(s.robust) ?? plainRobust(hash256FromHex(s.value)), threshold: Number(bank.pdq_threshold) }] : [],
            videos: s.type === 'vpdq' ? [{ frames: parseVpdqAny(s.value) }] : [],
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
          await recordMatches(db.db, { matches: [...copies].map(([mediaId, rule]) => ({ bankId: bank.id, mediaId, signalId: signalOf.get(mediaId) ?? null, rule })), source: 'sweep', now: clock() });
          const done = await act(bank, [...copies.keys()], signalOf);
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
          await tx
            .updateTable('safety_cases')
            .set((eb) => ({ status: 'active', last_checked_at: now, copies_removed: eb('copies_removed', '+', totals.removed) }))
            .where('reference', '=', payload.caseRef)
            .execute();
        }
        await appendAudit(tx, { at: now, actorId: null, action: 'sweep.completed', subjectType: 'bank', subjectId: bank.id, bankId: bank.id, detail: { ...totals, action: bank.action, after_signal_id: payload.afterSignalId, up_to_signal_id: payload.upToSignalId, ...(payload.caseRef ? { case: payload.caseRef } : {}) } });
      });
      return totals;
    },
  };
}

export type Sweeps = ReturnType<typeof createSweeps>;
