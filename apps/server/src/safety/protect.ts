/**
 * Hash-only protection (the StopNCII model): a person hashes their own images in their browser
 * with @mmd/phash — PDQ with its quality and, optionally, MMD's crop-resistant set and vPDQ for
 * videos — and sends only those hashes. They join the protection bank (block), a sweep removes
 * copies already here, and the person gets a reference: the only key to the case, which shows its
 * status and nothing else. No account, no image, no contact details.
 */
import type { ProtectBody, ProtectCase } from '@mmd/contracts';
import { AppError, notFound } from '../errors.ts';
import type { Database } from '../platform/db/index.ts';
import { appendAudit } from './audit.ts';
import type { Banks } from './banks.ts';
import { normaliseSignal } from './hash-codec.ts';
import { caseReference } from './ids.ts';
import { type NewSignal, systemBank } from './store.ts';

/** PDQ's own floor: hashes of flat or tiny images say too little to match safely. */
const MIN_QUALITY = 50;

export function createProtection(deps: { db: Database; banks: Banks; clock: () => number }) {
  const { db, clock } = deps;

  return {
    async submit(body: ProtectBody): Promise<ProtectCase> {
      const images = body.images ?? [];
      const videos = body.videos ?? [];
      if (images.length === 0 && videos.length === 0) {
        throw new AppError('validation_failed', 'send the hashes of at least one image or video', { errors: [{ path: '/images', message: 'images or videos required' }] });
      }
      const weak = images.findIndex((i) => i.quality < MIN_QUALITY);
      if (weak >= 0) {
        throw new AppError('validation_failed', `image ${weak + 1} is too plain to protect reliably (PDQ quality ${images[weak]!.quality} < ${MIN_QUALITY})`, { errors: [{ path: `/images/${weak}/quality`, message: `must be at least ${MIN_QUALITY}` }] });
      }
      const reference = caseReference();
      const signals: NewSignal[] = [
        ...images.map((i, n) => ({
          type: 'pdq' as const,
          value: normaliseSignal('pdq', i.pdq, `/images/${n}/pdq`).value,
          quality: i.quality,
          robust: i.robust ? JSON.stringify({ global: i.robust.global.map((h) => h.toLowerCase()), centre: i.robust.centre.map((h) => h.toLowerCase()), anchors: i.robust.anchors.map((a) => ({ ...a, hash: a.hash.toLowerCase() })) }) : null,
          origin: 'protect' as const,
          caseRef: reference,
        })),
        ...videos.map((v, n) => ({ type: 'vpdq' as const, value: normaliseSignal('vpdq', v.vpdq, `/videos/${n}/vpdq`).value, origin: 'protect' as const, caseRef: reference })),
      ];
      const now = clock();
      const bank = await systemBank(db.db, 'protect', now);
      await db.writeTransaction((tx) => tx.insertInto('safety_cases').values({ reference, status: 'checking', copies_removed: 0, created_at: now, last_checked_at: null }).execute());
      const { added } = await deps.banks.add(null, bank.id, signals, { action: 'signals.added', detail: { origin: 'protect', images: images.length, videos: videos.length } }, reference);
      // Hashes someone else protected already sweep and block as they are; this case has nothing new to check.
      if (added.length === 0) await db.db.updateTable('safety_cases').set({ status: 'active', last_checked_at: now }).where('reference', '=', reference).execute();
      await appendAudit(db.db, { at: now, actorId: null, action: 'protect.submitted', subjectType: 'case', subjectId: reference, bankId: bank.id, detail: { images: images.length, videos: videos.length, crop_resistant: images.filter((i) => i.robust).length, new_signals: added.length } });
      return this.status(reference);
    },

    async status(reference: string): Promise<ProtectCase> {
      const row = await db.db.selectFrom('safety_cases').selectAll().where('reference', '=', reference).executeTakeFirst();
      if (!row) throw notFound('case');
      return { reference: row.reference, status: row.status, submitted_at: Number(row.created_at), last_checked_at: row.last_checked_at === null ? null : Number(row.last_checked_at), copies_removed: Number(row.copies_removed) };
    },
  };
}

export type Protection = ReturnType<typeof createProtection>;
