/**
 * Hash banks: create and list them, add signals (pasted hashes, hashes of an uploaded file, or a
 * whole bank file in HMA/ThreatExchange/MMD format), export them, and check a file against all of
 * them. Adding signals queues a retroactive sweep in the same transaction, so a bank never grows
 * without the server looking for what is already there.
 */
import type {
  AddSignalsBody,
  AddSignalsReply,
  Bank,
  BankFormat,
  CreateBankBody,
  ImportReply,
  MatchReply,
  UpdateBankBody,
} from '@mmd/contracts';
import type { Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import type { JobPayloads } from '../jobs.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { appendAudit } from './audit.ts';
import { encodeVideoSignature } from '@mmd/phash';
import { formatVpdqCompact, normaliseSignal } from './hash-codec.ts';
import { formatBankFile, parseBankFile } from './formats.ts';
import type { FileHashes, Hasher } from './hasher.ts';
import { safetyId } from './ids.ts';
import type { Matcher } from './matcher.ts';
import type { SafetyIndexes } from './indexes.ts';
import { matchStats } from './matches.ts';
import { queryFrom } from './media-hashes.ts';
import { type NewSignal, type SignalRow, insertSignals, loadBank, removeSignals, signalCounts, toBank, toSignal } from './store.ts';

export interface BanksDeps {
  db: Database;
  hasher: Hasher;
  matcher: Matcher;
  clock: () => number;
  /** Queues the sweep for new signals inside the transaction that stores them. */
  enqueueSweep: (tx: Tx, payload: JobPayloads['safety-sweep'], options?: { runAt?: number }) => Promise<{ id: string }>;
  /** Tells every process's index that signals changed (after the commit): indexes.ts `announce`. */
  announce: () => void;
  /** Which older robust schemes the banks hold image sets in (a checked file's query is made in them too). */
  indexes: Pick<SafetyIndexes, 'refresh' | 'olderBankSchemes'>;
}

/** The signals a hashed file contributes: its exact digests and its perceptual hash. */
export function fileSignals(h: FileHashes, origin: NewSignal['origin'], label: string | null): NewSignal[] {
  const out: NewSignal[] = [
    { type: 'sha256', value: h.sha256, label, origin },
    { type: 'md5', value: h.md5, label, origin },
  ];
  if (h.image) out.push({ type: 'pdq', value: h.image.pdq, quality: h.image.quality, robust: JSON.stringify(h.image.reference), label, origin });
  // With the robust reference signature (hashed as a reference: sparse, with rotation variants).
  if (h.video) out.push({ type: 'vpdq', value: formatVpdqCompact(h.video.frames), robust: encodeVideoSignature(h.video.signature), label, origin });
  return out;
}

export function createBanks(deps: BanksDeps) {
  const { db, clock } = deps;

  /** Stores signals, audits, and queues their sweep, atomically. */
  async function add(principal: Principal | null, bankId: string, signals: NewSignal[], audit: { action: 'signals.added' | 'bank.imported'; detail: Record<string, unknown> }, caseRef?: string) {
    const result = await db.writeTransaction(async (tx) => {
      const now = clock();
      const added = await insertSignals(tx, { bankId, signals, createdBy: principal?.accountId ?? null, now });
      let sweepJobId: string | null = null;
      if (added.length > 0) {
        const job = await deps.enqueueSweep(tx, { bankId, afterSignalId: added[0]!.id - 1, upToSignalId: added[added.length - 1]!.id, ...(caseRef ? { caseRef } : {}) });
        sweepJobId = job.id;
      }
      await appendAudit(tx, { at: now, actorId: principal?.accountId ?? null, action: audit.action, subjectType: 'bank', subjectId: bankId, bankId, detail: { ...audit.detail, added: added.length, duplicates: signals.length - added.length, sweep_job_id: sweepJobId } });
      return { added, sweepJobId };
    });
    if (result.added.length > 0) deps.announce();
    return result;
  }

  const view = (added: SignalRow[], total: number, sweepJobId: string | null): AddSignalsReply => ({
    added: added.length,
    duplicates: total - added.length,
    signals: added.slice(0, 100).map(toSignal),
    sweep_job_id: sweepJobId,
  });

  return {
    add,

    async create(principal: Principal, body: CreateBankBody): Promise<Bank> {
      const now = clock();
      const row = {
        id: safetyId('bnk'),
        name: body.name.trim(),
        category: body.category,
        source: body.source ?? null,
        action: body.action,
        pdq_threshold: body.pdq_threshold ?? 31,
        system: null,
        trusted: body.trusted ? 1 : 0,
        created_by: principal.accountId,
        created_at: now,
      };
      await db.writeTransaction(async (tx) => {
        await tx.insertInto('safety_banks').values(row).execute();
        await appendAudit(tx, {
          at: now,
          actorId: principal.accountId,
          action: 'bank.created',
          subjectType: 'bank',
          subjectId: row.id,
          bankId: row.id,
          detail: {
            name: row.name,
            category: row.category,
            action: row.action,
            pdq_threshold: row.pdq_threshold,
            trusted: row.trusted === 1,
          },
        });
      });
      return toBank(row, { signals: 0, matches: undefined });
    },

    /** Marks a bank trusted or not. MMD's own protect bank never is: anyone can add to it. */
    async update(principal: Principal, id: string, body: UpdateBankBody): Promise<Bank> {
      const bank = await loadBank(db.db, id);
      if (bank.system === 'protect' && body.trusted)
        throw new AppError(
          'validation_failed',
          'the protection bank holds hashes anyone sent; it cannot be trusted',
          { errors: [{ path: '/trusted', message: 'not for the protection bank' }] },
        );
      await db.writeTransaction(async (tx) => {
        const now = clock();
        await tx
          .updateTable('safety_banks')
          .set({ trusted: body.trusted ? 1 : 0 })
          .where('id', '=', id)
          .execute();
        await appendAudit(tx, {
          at: now,
          actorId: principal.accountId,
          action: 'bank.updated',
          subjectType: 'bank',
          subjectId: id,
          bankId: id,
          detail: { trusted: body.trusted, was_trusted: Number(bank.trusted) === 1 },
        });
      });
      return this.get(id);
    },

    async list(): Promise<Bank[]> {
      const rows = await db.db.selectFrom('safety_banks').selectAll().orderBy('created_at').orderBy('id').execute();
      const ids = rows.map((r) => r.id);
      const [signals, matches] = await Promise.all([signalCounts(db.db, ids), matchStats(db.db, ids)]);
      return rows.map((r) => toBank(r, { signals: signals.get(r.id) ?? 0, matches: matches.get(r.id) }));
    },

    async get(id: string): Promise<Bank> {
      const row = await loadBank(db.db, id);
      const [signals, matches] = await Promise.all([signalCounts(db.db, [id]), matchStats(db.db, [id])]);
      return toBank(row, { signals: signals.get(id) ?? 0, matches: matches.get(id) });
    },

    /**
     * Takes one signal out of a bank (audited). Uploads screened from now on, on every process, no
     * longer match it; what it already held or blocked stays decided (a review releases a hold).
     */
    async removeSignal(principal: Principal, bankId: string, signalId: number): Promise<void> {
      await loadBank(db.db, bankId);
      await db.writeTransaction(async (tx) => {
        const signal = await tx.selectFrom('safety_signals').select(['type', 'origin', 'label']).where('id', '=', signalId).where('bank_id', '=', bankId).executeTakeFirst();
        if (!signal) throw new AppError('not_found', 'no such signal in this bank');
        await removeSignals(tx, { bankId, ids: [signalId], now: clock() });
        await appendAudit(tx, { at: clock(), actorId: principal.accountId, action: 'signals.removed', subjectType: 'bank', subjectId: bankId, bankId, detail: { signal_id: signalId, type: signal.type, origin: signal.origin, label: signal.label } });
      });
      deps.announce();
    },

    async addHashes(principal: Principal, bankId: string, body: AddSignalsBody): Promise<AddSignalsReply> {
      await loadBank(db.db, bankId);
      const signals: NewSignal[] = body.hashes.map((h, i) => ({ type: h.type, value: normaliseSignal(h.type, h.value, `/hashes/${i}/value`).value, label: h.label ?? null, origin: 'paste' }));
      const { added, sweepJobId } = await add(principal, bankId, signals, { action: 'signals.added', detail: { origin: 'paste' } });
      return view(added, signals.length, sweepJobId);
    },

    /** Hashes a file (never stored) and adds its signals, crop-resistant set included. */
    async addFile(principal: Principal, bankId: string, file: string, label: string | null): Promise<AddSignalsReply> {
      await loadBank(db.db, bankId);
      const hashes = await deps.hasher.hashFile(file, { role: 'reference' });
      const signals = fileSignals(hashes, 'upload', label);
      const { added, sweepJobId } = await add(principal, bankId, signals, { action: 'signals.added', detail: { origin: 'upload', kind: hashes.kind } });
      return view(added, signals.length, sweepJobId);
    },

    async import(principal: Principal, bankId: string, format: BankFormat, body: unknown): Promise<ImportReply> {
      await loadBank(db.db, bankId);
      const { entries, skipped } = parseBankFile(format, body);
      const signals: NewSignal[] = entries.map((e) => ({ type: e.type, value: e.value, label: e.label, robust: e.robust, origin: 'import' }));
      const { added, sweepJobId } = await add(principal, bankId, signals, { action: 'bank.imported', detail: { format, skipped } });
      return { added: added.length, duplicates: signals.length - added.length, skipped, sweep_job_id: sweepJobId };
    },

    async export(principal: Principal, bankId: string, format: BankFormat) {
      const bank = await this.get(bankId);
      const rows: SignalRow[] = [];
      // Paged by id so a big bank never sits in one result set twice over.
      for (let after = 0; ; ) {
        const page = await db.db.selectFrom('safety_signals').selectAll().where('bank_id', '=', bankId).where('id', '>', after).orderBy('id').limit(5000).execute();
        rows.push(...page.map((r) => ({ ...r, id: Number(r.id) })));
        if (page.length < 5000) break;
        after = Number(page[page.length - 1]!.id);
      }
      const file = formatBankFile(format, bank, rows);
      await appendAudit(db.db, { at: clock(), actorId: principal.accountId, action: 'bank.exported', subjectType: 'bank', subjectId: bankId, bankId, detail: { format, signals: rows.length - file.skipped, skipped: file.skipped } });
      return { ...file, filename: `${bank.name.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'bank'}.${format}.${file.extension}` };
    },

    /** Hashes a file and reports every bank signal it matches under the full scheme. */
    async match(principal: Principal, file: string): Promise<MatchReply> {
      await deps.indexes.refresh();
      const hashes = await deps.hasher.hashFile(file, { olderSchemes: deps.indexes.olderBankSchemes() });
      const matches = await deps.matcher.matchBanks({ sha256: hashes.sha256, md5: hashes.md5, ...queryFrom(hashes) });
      await appendAudit(db.db, { at: clock(), actorId: principal.accountId, action: 'match.checked', subjectType: undefined, detail: { kind: hashes.kind, sha256: hashes.sha256, matches: matches.map((m) => ({ bank_id: m.bank_id, signal_id: m.signal_id, rule: m.rule })) } });
      return {
        kind: hashes.kind,
        hashes: {
          sha256: hashes.sha256,
          md5: hashes.md5,
          ...(hashes.image ? { pdq: hashes.image.pdq, quality: hashes.image.quality } : {}),
          ...(hashes.video ? { vpdq_frames: hashes.video.frames.length } : {}),
        },
        matches: matches.map(({ bank_name: _name, ...m }) => m),
      };
    },
  };
}

export type Banks = ReturnType<typeof createBanks>;
