/**
 * Banks that hold what other platforms shared (federation): one bank per peer and category, with
 * the action the operator's policy gives it (hold or block). Their signals arrive already hashed;
 * each batch is checked here (a peer is a stranger's server until proven otherwise), stored, and
 * swept for stored copies in the same transaction. A retraction takes the signals out again and
 * releases what they held. Safety knows a peer only by an opaque id in the bank's `source`.
 */
import type { BankCategory } from '@mmd/contracts';
import { AppError } from '../errors.ts';
import type { JobPayloads } from '../jobs.ts';
import type { SpreadPolicy } from '../messaging/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { appendAudit } from './audit.ts';
import { isRobustSet } from './formats.ts';
import { decodeRobust, normaliseSignal, parseVideoSignature } from './hash-codec.ts';
import type { SharedSignal } from './hooks.ts';
import { safetyId } from './ids.ts';
import type { SafetyIndexes } from './indexes.ts';
import { dismissReview } from './reviews.ts';
import { type NewSignal, PEER_SOURCE, insertSignals, removeSignals, valueKey } from './store.ts';

/**
 * A peer's signal, checked: a value in its type's form, a robust set that decodes within a
 * stored set's limits (hashes and anchors per version, as a bank file's): a peer cannot make
 * every upload here be compared with thousands of anchors.
 */
export function checkSignal(s: SharedSignal, i: number): NewSignal {
  const value = normaliseSignal(s.type, s.value, `/signals/${i}/value`).value;
  let robust = s.robust ?? null;
  if (robust !== null) {
    const readable = s.type === 'pdq' ? safely(() => readRobust(robust!)) !== null : s.type === 'vpdq' ? parseVideoSignature(robust) !== null : false;
    // A robust set on an exact digest means nothing; one that does not decode is refused.
    if (s.type === 'sha256' || s.type === 'md5') robust = null;
    else if (!readable) throw new AppError('validation_failed', 'a signal carries a robust set that cannot be read', { errors: [{ path: `/signals/${i}/robust`, message: 'not a readable robust set' }] });
  }
  const quality = typeof s.quality === 'number' && Number.isInteger(s.quality) && s.quality >= 0 && s.quality <= 100 ? s.quality : null;
  return { type: s.type, value, quality, robust, origin: 'peer' };
}

/** A set read once and decoded, or null when it is past a stored set's limits. */
function readRobust(text: string) {
  const set: unknown = JSON.parse(text);
  return isRobustSet(set) ? decodeRobust(set) : null;
}

function safely<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

export function createPeerBanks(deps: {
  db: Database;
  write: WriteWithEvents;
  indexes: SafetyIndexes;
  clock: () => number;
  spread: SpreadPolicy;
  enqueueSweep: (tx: Tx, payload: JobPayloads['safety-sweep']) => Promise<{ id: string }>;
}) {
  const { db, clock } = deps;
  return {
    /** The bank for a peer's signals of one category, made on first use; its action follows the policy given. */
    async bankFor(o: { peerId: string; peerName: string; category: BankCategory; action: 'hold' | 'block' }): Promise<string> {
      const source = `${PEER_SOURCE}${o.peerId}`;
      const existing = await db.db.selectFrom('safety_banks').select(['id', 'action']).where('source', '=', source).where('category', '=', o.category).executeTakeFirst();
      if (existing) {
        if (existing.action !== o.action) await db.db.updateTable('safety_banks').set({ action: o.action, trusted: o.action === 'block' ? 1 : 0 }).where('id', '=', existing.id).execute();
        return existing.id;
      }
      const id = safetyId('bnk');
      await db.db
        .insertInto('safety_banks')
        .values({ id, name: `Peer ${o.peerName}: ${o.category}`.slice(0, 120), category: o.category, source, action: o.action, pdq_threshold: 31, system: null, trusted: o.action === 'block' ? 1 : 0, created_by: null, created_at: clock() })
        .execute();
      await appendAudit(db.db, { at: clock(), actorId: null, action: 'bank.created', subjectType: 'bank', subjectId: id, bankId: id, detail: { source, category: o.category, action: o.action } });
      return id;
    },

    /**
     * A peer's trust or policy changed (or it was disabled): each of its banks that blocks but whose
     * category is no longer in `blockCategories` goes back to holding for a moderator, at once, for
     * the signals it already has. Returns how many banks changed.
     */
    async limitBlocking(o: { peerId: string; blockCategories: readonly string[] }): Promise<number> {
      let query = db.db.updateTable('safety_banks').set({ action: 'hold', trusted: 0 }).where('source', '=', `${PEER_SOURCE}${o.peerId}`).where('action', '=', 'block');
      if (o.blockCategories.length > 0) query = query.where('category', 'not in', [...o.blockCategories]);
      const changed = Number((await query.executeTakeFirst()).numUpdatedRows);
      if (changed > 0) await appendAudit(db.db, { at: clock(), actorId: null, action: 'bank.updated', detail: { source: `${PEER_SOURCE}${o.peerId}`, blocking_only: o.blockCategories, demoted_to_hold: changed } });
      return changed;
    },

    /**
     * Checks and stores a peer's signals and queues their sweep (tagged, so the caller hears when
     * it completes). Returns the ids of every signal of the batch, those the bank already had included.
     */
    async addSignals(o: { bankId: string; signals: SharedSignal[]; tag: string }): Promise<{ signalIds: number[]; added: number }> {
      const signals = o.signals.map(checkSignal);
      const result = await db.writeTransaction(async (tx) => {
        const added = await insertSignals(tx, { bankId: o.bankId, signals, createdBy: null, now: clock() });
        if (added.length > 0) await deps.enqueueSweep(tx, { bankId: o.bankId, afterSignalId: added[0]!.id - 1, upToSignalId: added[added.length - 1]!.id, tag: o.tag });
        const keys = [...new Set(signals.map((s) => valueKey(s.type, s.value)))];
        const rows = keys.length ? await tx.selectFrom('safety_signals').select('id').where('bank_id', '=', o.bankId).where('value_key', 'in', keys).execute() : [];
        await appendAudit(tx, { at: clock(), actorId: null, action: 'signals.added', subjectType: 'bank', subjectId: o.bankId, bankId: o.bankId, detail: { origin: 'peer', added: added.length, duplicates: signals.length - added.length, tag: o.tag } });
        return { signalIds: rows.map((r) => Number(r.id)), added: added.length };
      });
      if (result.added > 0) deps.indexes.announce();
      return result;
    },

    /**
     * Takes a peer's signals out of its bank (logged as removed: every process's index drops them) and dismisses the holds they opened, releasing
     * held uploads. Returns how many signals went and how many holds were released.
     */
    async retract(o: { bankId: string; signalIds: number[]; note: string }): Promise<{ signalsRemoved: number; released: number }> {
      if (o.signalIds.length === 0) return { signalsRemoved: 0, released: 0 };
      let released = 0;
      const holds = await db.db.selectFrom('safety_reviews').selectAll().where('bank_id', '=', o.bankId).where('signal_id', 'in', o.signalIds).where('kind', '=', 'hold').where('status', '!=', 'closed').execute();
      for (const review of holds) {
        const done = await deps.write(async (tx, emit) => dismissReview(tx, emit, { review, decidedBy: null, note: o.note, now: clock(), spread: deps.spread }));
        if (done) released++;
      }
      const removed = await db.writeTransaction((tx) => removeSignals(tx, { bankId: o.bankId, ids: o.signalIds, origin: 'peer', now: clock() }));
      deps.indexes.announce();
      return { signalsRemoved: removed.length, released };
    },
  };
}

export type PeerBanks = ReturnType<typeof createPeerBanks>;
