/**
 * Federation, assembled: this instance's identity, its peers, the outbox, and what happens on
 * each side of a shared case.
 *
 * Sharing (the instance where a moderator took something down): safety's takedownFinished hook →
 * a shared case and one `signals` message per peer whose sharing covers the category; peers'
 * `ack`s become each peer's outcome on the case; a moderator's retraction sends `retraction`.
 * Receiving: a peer's `signals` go, by the policy for that peer and category, into that peer's
 * bank (hold or block, and a sweep of stored copies), to a moderator first (review), or nowhere
 * (ignore); each step is acknowledged (received, under_review n, blocked n), and so is the local
 * moderator's decision on what they held (removed n, dismissed). A `retraction` takes the case's
 * signals out and releases what they held. A moderator confirming what a peer's signals held
 * sends a `confirmation` to the other peers.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { type AckOutcome, BANK_CATEGORIES, type BankCategory, FEDERATION_PROTOCOL, type FederationIdentity, FederationMessage, type Peer, type PlatformStatus, type ReceivedCase, type SharedCase, type SharedList } from '@mmd/contracts';
import { Value } from 'typebox/value';
import type { SecretBox } from '../automation/index.ts';
import { AppError, notFound } from '../errors.ts';
import { createMemoryLimits } from '../platform/limits/index.ts';
import { type Database, type Tx, lockScope } from '../platform/db/index.ts';
import { outboundFetch } from '../platform/outbound.ts';
import type { AuditInput, CasePlatforms, ExchangeReads, ReviewDecided, SafetyListener, SharedSignal, SweepCompleted, TakedownFinished } from '../safety/index.ts';
import { type Identity, loadIdentity, previousKeys, publicKeyObject, rotateIdentity } from './identity.ts';
import { createHmaExchange } from './hma.ts';
import { INBOX_PATH, MESSAGES_PATH, createOutbox } from './outbox.ts';
import { type PeerRow, actionFor, createPeers, sharesWith } from './peers.ts';
import type { FederationReceivedTable } from './schema.ts';
import { NOT_VERIFIED, SIGNATURE_WINDOW_MS, type Verified, newNonce, signRequest, verifySigned } from './signatures.ts';

/** What federation needs of safety (its public functions). */
export interface SafetyPort {
  listen(listener: SafetyListener): void;
  peerBanks: {
    bankFor(o: { peerId: string; peerName: string; category: BankCategory; action: 'hold' | 'block' }): Promise<string>;
    addSignals(o: { bankId: string; signals: SharedSignal[]; tag: string }): Promise<{ signalIds: number[]; added: number }>;
    retract(o: { bankId: string; signalIds: number[]; note: string }): Promise<{ signalsRemoved: number; released: number }>;
    limitBlocking(o: { peerId: string; blockCategories: readonly string[] }): Promise<number>;
  };
  recordAudit(entry: AuditInput): Promise<void>;
  /** The banks an operator offers to HMA consumers, and their signals (read-only). */
  exchange: ExchangeReads;
}

export interface FederationDeps {
  db: Database;
  clock: () => number;
  box: SecretBox;
  safety: SafetyPort;
  outbound: { allowPrivate: boolean; timeoutMs: number };
  pullIntervalMs: number;
  /** How this instance names itself to HMA consumers (each record's feedback `source`). */
  sourceName: string;
  enqueueDeliver: (tx: Tx, peerId: string, key: string) => Promise<void>;
  log: { warn(o: object, m: string): void; error(o: object, m: string): void };
}

const SIGNALS_PER_MESSAGE = 64;
const IDENTITY_REFRESH_MS = 30_000;
/** A peer's well-known document is fetched again (for a key id nobody here knows) at most this often. */
const KEY_REFRESH_MS = 60_000;
/** What a victim's own case is about, as peers see it. */
const PROTECT_CATEGORY: BankCategory = 'ncii';
/**
 * The confidence a victim's case travels with: a person's own claim that no moderator has confirmed
 * (a takedown travels with 1). Peers apply their policy for the category either way.
 */
const PROTECT_CONFIDENCE = 0.5;
type Received = FederationReceivedTable;
type SignalsLike = Extract<FederationMessage, { type: 'signals' | 'confirmation' }>;

export function createFederation(deps: FederationDeps) {
  const { db, clock, safety } = deps;
  // Re-read now and then: another process of this deployment may have rotated the key (peers
  // accept the old one for the grace period, so a process lagging by this much is harmless). The
  // re-read runs in the background and never makes a caller wait: identity() is called inside
  // write transactions (outbox.queue), where on SQLite a read outside the transaction would wait
  // for that very transaction.
  let identityPromise: Promise<Identity> | null = null;
  let identityLoadedAt = 0;
  let identityReloading = false;
  const identity = () => {
    if (!identityPromise) {
      identityLoadedAt = clock();
      identityPromise = loadIdentity(db, deps.box, clock()).catch((err) => {
        identityPromise = null;
        throw err;
      });
    } else if (clock() - identityLoadedAt > IDENTITY_REFRESH_MS && !identityReloading) {
      identityReloading = true;
      identityLoadedAt = clock();
      loadIdentity(db, deps.box, clock())
        .then((next) => {
          identityPromise = Promise.resolve(next);
        })
        .catch((err) => deps.log.warn({ err }, 'the federation identity could not be read again'))
        .finally(() => {
          identityReloading = false;
        });
    }
    return identityPromise;
  };
  /** This instance's key ids a message may be addressed to: the current one and those in their grace period. */
  const ownKeyIds = async () => [(await identity()).keyId, ...(await previousKeys(db, clock())).map((k) => k.keyId)];
  const peers = createPeers({ db, clock, ownKeyId: async () => (await identity()).keyId, outbound: deps.outbound });
  const outbox = createOutbox({ db, clock, identity, peers, outbound: deps.outbound, enqueueDeliver: deps.enqueueDeliver });
  let pullTimer: NodeJS.Timeout | null = null;

  const audit = (entry: Omit<AuditInput, 'at'>) => safety.recordAudit({ ...entry, at: clock() });
  const hma = createHmaExchange({ db, clock, exchange: safety.exchange, sourceName: deps.sourceName, audit });

  type SignedRequest = { method: string; url: string; headers: Record<string, string | string[] | undefined>; ip: string };

  /** Refusals are audited; an unknown key is answered exactly like a wrong one (no oracle of who the peers are). */
  async function refusing<T>(request: SignedRequest, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await refused(err, { path: request.url.split('?')[0]!, ip: request.ip });
      if (err.code === 'unknown_key') throw new AppError('signature_invalid', NOT_VERIFIED);
      throw err;
    }
  }

  /**
   * A key id no peer has may be a peer's new key: each active peer's well-known document is read
   * again (each at most once a minute, so strangers' made-up key ids cost little) and a rotation
   * its old key endorsed is taken.
   */
  // Per process: each process keeps its own copy of the peers' keys.
  const keyRefreshes = createMemoryLimits().limiter({ name: 'federation-key-refresh', max: 1, windowMs: KEY_REFRESH_MS, clock });
  async function refreshFor(keyId: string, candidates: PeerRow[]): Promise<void> {
    for (const peer of candidates) {
      if ((await keyRefreshes.hit(peer.id)) > 0) continue;
      try {
        const updated = await peers.rotatedKey(peer, clock());
        if (updated) {
          await audit({ actorId: null, action: 'federation.peer', detail: { peer: peer.id, change: 'key_rotated', key_id: updated.key_id, previous_key_id: peer.key_id, previous_key_expires_at: updated.previous_key_expires_at } });
          if (updated.key_id === keyId) return;
        }
      } catch (err) {
        deps.log.warn({ err, peer: peer.id }, "a peer's well-known document could not be read again");
      }
    }
  }

  async function signerOf(keyId: string): Promise<{ key: PeerRow; publicKey: KeyObject } | null> {
    const find = async () => {
      const found = await peers.bySigningKey(keyId, clock());
      return found && found.peer.status === 'active' ? { key: found.peer, publicKey: publicKeyObject(found.publicKey) } : null;
    };
    const known = await find();
    if (known) return known;
    await refreshFor(keyId, await peers.active());
    return find();
  }

  const checkSignature = (request: SignedRequest, body: Buffer | null | undefined) =>
    verifySigned<PeerRow>({
      message: { method: request.method, url: `http://federation.invalid${request.url}` },
      headers: request.headers,
      body,
      now: clock(),
      lookup: signerOf,
    });

  /**
   * The signature over a request's headers, checked before its body is read: a stranger cannot
   * make this instance buffer a body (up to 8 MiB) it would refuse anyway. The digest, the nonce
   * and the message follow once the body is in (verifyPeerRequest).
   */
  function verifyPeerHeaders(request: SignedRequest): Promise<Verified<PeerRow>> {
    return refusing(request, () => checkSignature(request, undefined));
  }

  /** A peer's signature on a request, with replay protection: the nonce is remembered for the window. */
  function verifyPeerRequest(request: SignedRequest & { body: Buffer | null }): Promise<Verified<PeerRow>> {
    return refusing(request, async () => {
      const verified = await checkSignature(request, request.body);
      const now = clock();
      await db.db.deleteFrom('federation_nonces').where('expires_at', '<', now).execute();
      const fresh = await db.db
        .insertInto('federation_nonces')
        .values({ peer_id: verified.key.id, nonce: verified.nonce, expires_at: now + 2 * SIGNATURE_WINDOW_MS })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(fresh.numInsertedOrUpdatedRows ?? 0n) === 0) throw new AppError('message_replayed', 'this nonce was already used');
      return verified;
    });
  }

  /** Refusals of requests no peer signed: one audit entry per address and code a minute. */
  // Counted in this process on purpose: it only thins out audit lines (N nodes write at most N a
  // minute), and the counts of what was not logged live in this process anyway.
  const strangerRefusals = createMemoryLimits().limiter({ name: 'federation-refusal-log', max: 1, windowMs: 60_000, clock });
  const notLogged = new Map<string, number>();

  async function refused(err: AppError, detail: Record<string, unknown>) {
    let extra: Record<string, unknown> = {};
    if (detail.peer === undefined) {
      // A stranger cannot fill the moderators' append-only log: repeats are counted, not written.
      const key = `${String(detail.ip)}|${err.code}`;
      if ((await strangerRefusals.hit(key)) > 0) {
        if (notLogged.size < 10_000) notLogged.set(key, (notLogged.get(key) ?? 0) + 1);
        return;
      }
      const repeats = notLogged.get(key);
      notLogged.delete(key);
      if (repeats) extra = { repeats_not_logged: repeats };
    }
    await audit({ actorId: null, action: 'federation.refused', detail: { code: err.code, reason: err.message, ...detail, ...extra } }).catch(() => {});
  }

  /** Records a message as received; false when this peer already sent one with that id. */
  async function claim(peer: PeerRow, message: FederationMessage, fields: Partial<Received>): Promise<Received | null> {
    const row: Received = {
      id: `rcv_${randomBytes(9).toString('base64url')}`,
      peer_id: peer.id,
      message_id: message.id,
      type: message.type,
      case_ref: null,
      origin: null,
      category: null,
      confidence: null,
      action: null,
      status: 'done',
      bank_id: null,
      pending_signals: null,
      created_at: clock(),
      ...fields,
    };
    const inserted = await db.db.insertInto('federation_received').values(row).onConflict((oc) => oc.columns(['peer_id', 'message_id']).doNothing()).executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0 ? null : row;
  }

  const ack = (peer: PeerRow, caseRef: string, outcome: 'received' | 'under_review' | 'removed' | 'blocked' | 'dismissed', copies = 0) =>
    db.writeTransaction((tx) => outbox.queue(tx, peer, 'ack', { case_ref: caseRef, outcome, copies }, caseRef));

  /** Banks a received case's signals in the peer's bank for its category (a sweep follows). */
  async function bank(peer: PeerRow, row: Received, signals: SharedSignal[], action: 'hold' | 'block') {
    const bankId = await safety.peerBanks.bankFor({ peerId: peer.id, peerName: peer.name, category: row.category as BankCategory, action });
    const { signalIds } = await safety.peerBanks.addSignals({ bankId, signals, tag: row.id });
    await db.writeTransaction(async (tx) => {
      await tx.updateTable('federation_received').set({ bank_id: bankId, status: 'active', action, pending_signals: null }).where('id', '=', row.id).execute();
      if (signalIds.length > 0) {
        await tx
          .insertInto('federation_received_signals')
          .values(signalIds.map((signal_id) => ({ received_id: row.id, signal_id })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    });
  }

  async function receiveSignals(peer: PeerRow, message: SignalsLike, via: 'push' | 'pull'): Promise<boolean> {
    const b = message.body;
    const origin = message.type === 'confirmation' ? message.body.origin : peer.key_id;
    if ((await ownKeyIds()).includes(origin)) {
      // A peer confirmed a case this instance opened, as its own confirmation to others: noted, nothing to bank.
      return (await claim(peer, message, { case_ref: b.case_ref, origin, category: b.category, confidence: b.confidence, status: 'confirmed' })) !== null;
    }
    const action = actionFor(peer, b.category, b.confidence);
    const row = await claim(peer, message, {
      case_ref: b.case_ref,
      origin,
      category: b.category,
      confidence: b.confidence,
      action,
      status: action === 'ignore' ? 'ignored' : action === 'review' ? 'pending' : 'active',
      pending_signals: action === 'review' ? JSON.stringify(b.signals) : null,
    });
    if (!row) return false;
    if (action === 'hold' || action === 'block') {
      try {
        await bank(peer, row, b.signals, action);
      } catch (err) {
        // Refused as a whole (a signal that does not parse): the id is free for a corrected message.
        await db.db.deleteFrom('federation_received').where('id', '=', row.id).execute();
        throw err;
      }
    }
    await audit({ actorId: null, action: 'federation.received', subjectType: 'bank', bankId: null, detail: { peer: peer.id, type: message.type, message_id: message.id, case_ref: b.case_ref, category: b.category, signals: b.signals.length, action, via } });
    await ack(peer, b.case_ref, 'received');
    return true;
  }

  /** Every received case of this peer's case reference, with the signals only it stands behind. */
  async function retractCase(peer: PeerRow, caseRef: string): Promise<{ signalsRemoved: number; released: number }> {
    const rows = await db.db.selectFrom('federation_received').selectAll().where('peer_id', '=', peer.id).where('case_ref', '=', caseRef).where('status', 'in', ['active', 'pending', 'confirmed']).execute();
    const totals = { signalsRemoved: 0, released: 0 };
    for (const row of rows) {
      if (row.bank_id) {
        const mine = await db.db.selectFrom('federation_received_signals').select('signal_id').where('received_id', '=', row.id).execute();
        const ids = mine.map((r) => Number(r.signal_id));
        // A signal another live case (of any peer) also stands behind stays.
        const shared = ids.length
          ? await db.db
              .selectFrom('federation_received_signals as s')
              .innerJoin('federation_received as r', 'r.id', 's.received_id')
              .select('s.signal_id')
              .where('s.signal_id', 'in', ids)
              .where('s.received_id', '!=', row.id)
              .where('r.status', 'in', ['active', 'confirmed'])
              .execute()
          : [];
        const keep = new Set(shared.map((r) => Number(r.signal_id)));
        const done = await safety.peerBanks.retract({ bankId: row.bank_id, signalIds: ids.filter((id) => !keep.has(id)), note: `withdrawn by peer ${peer.name}` });
        totals.signalsRemoved += done.signalsRemoved;
        totals.released += done.released;
      }
      await db.db.updateTable('federation_received').set({ status: 'retracted', pending_signals: null }).where('id', '=', row.id).execute();
    }
    return totals;
  }

  async function receiveAck(peer: PeerRow, body: Extract<FederationMessage, { type: 'ack' }>['body']) {
    // Only a peer this case was sent to can answer for it.
    const sent = await db.db.selectFrom('federation_outbox').select('seq').where('peer_id', '=', peer.id).where('case_ref', '=', body.case_ref).where('type', '=', 'signals').limit(1).executeTakeFirst();
    if (!sent) return;
    // Acks arrive in the order the peer wrote them, but "received" is written after banking, when
    // the sweep may already have answered "under review": it never replaces a later answer.
    await db.db
      .insertInto('federation_outcomes')
      .values({ case_id: body.case_ref, peer_id: peer.id, outcome: body.outcome, copies: body.copies, updated_at: clock() })
      .onConflict((oc) => {
        const target = oc.columns(['case_id', 'peer_id']);
        return body.outcome === 'received' ? target.doNothing() : target.doUpdateSet({ outcome: body.outcome, copies: body.copies, updated_at: clock() });
      })
      .execute();
  }

  /**
   * Handles one message from a peer, pushed or pulled. A message id this peer already sent is
   * refused as a replay when pushed (`message_replayed`), skipped when pulled.
   */
  async function receive(peer: PeerRow, raw: unknown, via: 'push' | 'pull'): Promise<string> {
    if (!Value.Check(FederationMessage, raw)) {
      const errors = [...Value.Errors(FederationMessage, raw)].slice(0, 10).map((e) => ({ path: (e as { instancePath?: string }).instancePath || '/', message: e.message }));
      throw new AppError('validation_failed', 'not a federation message', { errors });
    }
    const message = raw as FederationMessage;
    if (!peers.keyIdsOf(peer, clock()).includes(message.from)) throw new AppError('signature_invalid', "the message's `from` is not the key that signed it");
    if (!(await ownKeyIds()).includes(message.to)) throw new AppError('forbidden', 'this message is addressed to another instance');
    const replayed = () => new AppError('message_replayed', 'this message id was already received from this peer');
    switch (message.type) {
      case 'signals':
      case 'confirmation':
        if (!(await receiveSignals(peer, message, via))) throw replayed();
        break;
      case 'retraction': {
        if (!(await claim(peer, message, { case_ref: message.body.case_ref }))) throw replayed();
        const done = await retractCase(peer, message.body.case_ref);
        await audit({ actorId: null, action: 'federation.retracted', detail: { peer: peer.id, case_ref: message.body.case_ref, signals_removed: done.signalsRemoved, holds_released: done.released, via } });
        break;
      }
      case 'ack':
        if (!(await claim(peer, message, { case_ref: message.body.case_ref }))) throw replayed();
        await receiveAck(peer, message.body);
        break;
      default: {
        const never: never = message;
        throw new AppError('validation_failed', `unknown message type ${(never as { type: string }).type}`);
      }
    }
    return message.id;
  }

  /** Asks a peer for its messages after the cursor, verifies its signed answer, and handles them. */
  async function pull(peer: PeerRow): Promise<{ received: number; skipped: number }> {
    try {
      const done = await pullPages(peer);
      await peers.markPulled(peer.id, null);
      return done;
    } catch (err) {
      await peers.markPulled(peer.id, (err as Error).message || 'the pull failed').catch(() => {});
      throw err;
    }
  }

  async function pullPages(peer: PeerRow): Promise<{ received: number; skipped: number }> {
    const me = await identity();
    let cursor = Number(peer.pull_cursor);
    let received = 0;
    let skipped = 0;
    for (let page = 0; page < 100; page++) {
      const path = `${MESSAGES_PATH}?after=${cursor}&limit=50`;
      const url = `${peer.base_url}${path}`;
      const nonce = newNonce();
      const headers = await signRequest({ identity: me, method: 'GET', url, nonce, now: clock() });
      const answer = await outboundFetch({ url, headers, allowPrivate: deps.outbound.allowPrivate, timeoutMs: deps.outbound.timeoutMs, maxResponseBytes: 32 * 1024 * 1024 });
      if (answer.status !== 200) throw new Error(`peer ${peer.id} answered the pull with ${answer.status}`);
      const verified = await verifySigned<PeerRow>({
        message: { status: answer.status },
        headers: answer.headers as Record<string, string | string[] | undefined>,
        body: answer.body,
        now: clock(),
        lookup: async (keyId) => {
          const mine = async () => {
            const found = await peers.bySigningKey(keyId, clock());
            return found && found.peer.id === peer.id ? { key: found.peer, publicKey: publicKeyObject(found.publicKey) } : null;
          };
          const known = await mine();
          if (known) return known;
          await refreshFor(keyId, [peer]);
          return mine();
        },
      });
      // The peer may have rotated: later checks use the row as it is now.
      peer = verified.key;
      if (verified.nonce !== nonce) throw new AppError('signature_invalid', 'the answer is not signed for this request');
      const reply = JSON.parse(answer.body.toString('utf8')) as { messages: { cursor: number; message: unknown }[]; next_cursor: number; has_more: boolean };
      for (const m of reply.messages) {
        try {
          await receive(peer, m.message, 'pull');
          received++;
        } catch (err) {
          // Already had it (pushed earlier), or a message that will never be valid: move past it.
          skipped++;
          if (!(err instanceof AppError && err.code === 'message_replayed')) deps.log.warn({ err, peer: peer.id, cursor: m.cursor }, 'a pulled federation message was refused');
        }
        cursor = Math.max(cursor, m.cursor);
        await peers.setPullCursor(peer.id, cursor);
      }
      if (!reply.has_more || reply.messages.length === 0) break;
    }
    return { received, skipped };
  }

  async function pullAll() {
    for (const peer of await peers.active()) {
      await pull(peer).catch((err) => deps.log.warn({ err, peer: peer.id }, 'federation pull failed; the next one retries'));
    }
  }

  const listener: SafetyListener = {
    async takedownFinished(e: TakedownFinished) {
      if (e.signals.length === 0 || e.local) return;
      const signals = e.signals.map((s) => ({ type: s.type, value: s.value, ...(s.quality != null ? { quality: s.quality } : {}), ...(s.robust ? { robust: s.robust } : {}) }));
      const chunks: SharedSignal[][] = [];
      for (let i = 0; i < signals.length; i += SIGNALS_PER_MESSAGE) chunks.push(signals.slice(i, i + SIGNALS_PER_MESSAGE));
      const category = e.category as BankCategory;
      const source = e.reviewBankId && e.reviewSignalId !== null ? await sourceOf(e.reviewBankId, e.reviewSignalId) : null;
      if (source) {
        // A moderator here confirmed what a peer's signals held: the peer hears it through its ack;
        // the other peers sharing this category get a confirmation naming the case's origin.
        const targets = (await peers.active()).filter((p) => p.id !== source.peer_id && sharesWith(p, category));
        await db.writeTransaction(async (tx) => {
          for (const peer of targets) for (const chunk of chunks) await outbox.queue(tx, peer, 'confirmation', { case_ref: source.case_ref!, origin: source.origin!, category, confidence: 1, signals: chunk });
        });
        return;
      }
      const targets = (await peers.active()).filter((p) => sharesWith(p, category));
      if (targets.length === 0) return;
      const caseId = `fc_${randomBytes(12).toString('base64url')}`;
      await db.writeTransaction(async (tx) => {
        await tx.insertInto('federation_shared').values({ id: caseId, takedown_id: e.takedownId, protect_ref: null, category, signals: signals.length, status: 'shared', created_at: clock(), retracted_at: null }).execute();
        for (const peer of targets) for (const chunk of chunks) await outbox.queue(tx, peer, 'signals', { case_ref: caseId, category, confidence: 1, signals: chunk }, caseId);
      });
      await audit({ actorId: null, action: 'federation.shared', subjectType: 'takedown', subjectId: e.takedownId, bankId: e.bankId, detail: { case: caseId, category, signals: signals.length, peers: targets.map((p) => p.id) } });
    },

    async sweepCompleted(e: SweepCompleted) {
      const row = await db.db.selectFrom('federation_received').selectAll().where('id', '=', e.tag).executeTakeFirst();
      if (!row?.case_ref || row.status !== 'active') return;
      const peer = await peers.load(row.peer_id);
      if (e.totals.removed > 0) await ack(peer, row.case_ref, 'blocked', e.totals.removed);
      if (e.totals.held > 0) await ack(peer, row.case_ref, 'under_review', e.totals.held);
    },

    async reviewDecided(e: ReviewDecided) {
      if (!e.bankId || e.signalId === null) return;
      const row = await sourceOf(e.bankId, e.signalId);
      if (!row?.case_ref) return;
      const peer = await peers.load(row.peer_id);
      if (e.outcome === 'takedown') {
        await db.db.updateTable('federation_received').set({ status: 'confirmed' }).where('id', '=', row.id).execute();
        await ack(peer, row.case_ref, 'removed', e.mediaRemoved);
      } else {
        await ack(peer, row.case_ref, 'dismissed');
      }
    },
  };

  /** The live received case that put this signal into this bank, if a peer's. */
  async function sourceOf(bankId: string, signalId: number): Promise<Received | undefined> {
    return db.db
      .selectFrom('federation_received as r')
      .innerJoin('federation_received_signals as s', 's.received_id', 'r.id')
      .selectAll('r')
      .where('r.bank_id', '=', bankId)
      .where('s.signal_id', '=', signalId)
      .where('r.status', 'in', ['active', 'confirmed'])
      .orderBy('r.created_at', 'desc')
      .executeTakeFirst();
  }

  function chunked<T>(items: T[]): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += SIGNALS_PER_MESSAGE) out.push(items.slice(i, i + SIGNALS_PER_MESSAGE));
    return out;
  }

  type SharedRow = { id: string; takedown_id: string | null; category: string; signals: number; status: 'shared' | 'retracted'; created_at: number; retracted_at: number | null };

  /** Marks a shared case withdrawn and queues a retraction to every peer its signals went to. */
  async function retractRow(actorId: string | null, row: SharedRow & { protect_ref?: string | null }): Promise<void> {
    const sentTo = await db.db.selectFrom('federation_outbox').select('peer_id').distinct().where('case_ref', '=', row.id).where('type', '=', 'signals').execute();
    const targets = await Promise.all(sentTo.map((p) => peers.load(p.peer_id)));
    await identity();
    // Nothing but `tx` inside: on SQLite another read would wait for this very transaction.
    await db.writeTransaction(async (tx) => {
      await tx.updateTable('federation_shared').set({ status: 'retracted', retracted_at: clock() }).where('id', '=', row.id).execute();
      for (const peer of targets) await outbox.queue(tx, peer, 'retraction', { case_ref: row.id }, row.id);
    });
    await audit({
      actorId,
      action: 'federation.retracted',
      ...(row.takedown_id ? { subjectType: 'takedown' as const, subjectId: row.takedown_id } : row.protect_ref ? { subjectType: 'case' as const, subjectId: row.protect_ref } : {}),
      detail: { case: row.id, peers: sentTo.map((p) => p.peer_id), ...(row.protect_ref ? { by: 'submitter' } : {}) },
    });
  }

  /**
   * A victim's protection case, shared by its submitter's choice (safety's CasePlatforms port).
   * Peers get the case's hashes under a fresh opaque id (`fc_…`), category ncii and confidence
   * 0.5; the local reference, and anything about who sent it, stays here.
   */
  const protectCases: CasePlatforms = {
    async share({ reference, signals }) {
      const existing = await db.db.selectFrom('federation_shared').select('id').where('protect_ref', '=', reference).executeTakeFirst();
      if (existing || signals.length === 0) return;
      const targets = (await peers.active()).filter((p) => sharesWith(p, PROTECT_CATEGORY));
      const caseId = `fc_${randomBytes(12).toString('base64url')}`;
      await identity();
      const queued = await db.writeTransaction(async (tx) => {
        // Checked again inside the write, under a lock of this reference: two shares racing send
        // the case once.
        await lockScope(tx, `federation-share:${reference}`);
        if (await tx.selectFrom('federation_shared').select('id').where('protect_ref', '=', reference).executeTakeFirst()) return false;
        // Recorded even with no peer yet: the case page says it is shared, with no platform answering.
        await tx.insertInto('federation_shared').values({ id: caseId, takedown_id: null, protect_ref: reference, category: PROTECT_CATEGORY, signals: signals.length, status: 'shared', created_at: clock(), retracted_at: null }).execute();
        for (const peer of targets) for (const chunk of chunked(signals)) await outbox.queue(tx, peer, 'signals', { case_ref: caseId, category: PROTECT_CATEGORY, confidence: PROTECT_CONFIDENCE, signals: chunk }, caseId);
        return true;
      });
      if (!queued) return;
      await audit({ actorId: null, action: 'federation.shared', subjectType: 'case', subjectId: reference, detail: { case: caseId, category: PROTECT_CATEGORY, signals: signals.length, peers: targets.map((p) => p.id), by: 'submitter' } });
    },

    async withdraw(reference) {
      const rows = await db.db.selectFrom('federation_shared').selectAll().where('protect_ref', '=', reference).where('status', '=', 'shared').execute();
      for (const row of rows) await retractRow(null, row);
    },

    async statuses(reference) {
      const rows = await db.db.selectFrom('federation_shared').selectAll().where('protect_ref', '=', reference).execute();
      const views = await sharedViews(rows);
      return views.flatMap((v) =>
        v.peers.map((p): PlatformStatus => ({
          platform: p.peer_name,
          status: v.status === 'retracted' ? 'withdrawn' : (p.outcome ?? 'sent'),
          // Counted only once a person there decided (removed): a count a sweep found by itself
          // would tell anyone who submits a picture's hash how many copies a platform holds.
          copies: p.outcome === 'removed' && v.status !== 'retracted' ? p.copies : 0,
          updated_at: v.status === 'retracted' ? Number(v.retracted_at ?? p.updated_at) : p.updated_at,
        })),
      );
    },
  };

  async function sharedViews(rows: { id: string; takedown_id: string | null; category: string; signals: number; status: 'shared' | 'retracted'; created_at: number; retracted_at: number | null }[]): Promise<SharedCase[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const sent = await db.db
      .selectFrom('federation_outbox as o')
      .innerJoin('federation_peers as p', 'p.id', 'o.peer_id')
      .select(['o.case_ref', 'o.peer_id', 'p.name', 'o.delivered_at', 'o.created_at'])
      .where('o.case_ref', 'in', ids)
      .where('o.type', '=', 'signals')
      .execute();
    const outcomes = await db.db.selectFrom('federation_outcomes').selectAll().where('case_id', 'in', ids).execute();
    return rows.map((r) => {
      const perPeer = new Map<string, SharedCase['peers'][number]>();
      for (const s of sent.filter((x) => x.case_ref === r.id)) {
        const previous = perPeer.get(s.peer_id);
        const outcome = s.delivered_at === null || previous?.outcome === 'pending' ? 'pending' : 'sent';
        perPeer.set(s.peer_id, { peer_id: s.peer_id, peer_name: s.name, outcome, copies: 0, updated_at: Number(s.delivered_at ?? s.created_at) });
      }
      for (const o of outcomes.filter((x) => x.case_id === r.id)) {
        const entry = perPeer.get(o.peer_id);
        if (entry) perPeer.set(o.peer_id, { ...entry, outcome: o.outcome, copies: Number(o.copies), updated_at: Number(o.updated_at) });
      }
      return { id: r.id, takedown_id: r.takedown_id, category: r.category, signals: Number(r.signals), status: r.status, created_at: Number(r.created_at), retracted_at: r.retracted_at === null ? null : Number(r.retracted_at), peers: [...perPeer.values()] };
    });
  }

  type SentAnswers = { holds: number; sent: ReceivedCase['sent_outcome'] };
  function toReceived(r: Received & { peer_name: string }, signals: number, answers: SentAnswers = { holds: 0, sent: null }): ReceivedCase {
    return {
      id: r.id,
      peer_id: r.peer_id,
      peer_name: r.peer_name,
      type: r.type as ReceivedCase['type'],
      case_ref: r.case_ref ?? '',
      origin: r.origin ?? '',
      category: r.category ?? '',
      confidence: Number(r.confidence ?? 0),
      action: r.action ?? 'ignore',
      status: r.status as ReceivedCase['status'],
      bank_id: r.bank_id,
      signals,
      holds: answers.holds,
      sent_outcome: answers.sent,
      created_at: Number(r.created_at),
    };
  }

  return {
    identity,
    peers,
    outbox,
    hma,
    listener,
    protectCases,
    verifyPeerRequest,
    verifyPeerHeaders,
    receive,
    pull,
    refused,

    async wellKnown() {
      const me = await identity();
      return { keyId: me.keyId, publicKey: me.publicKey };
    },

    /** The document at /.well-known/mmd-federation: the key in use and those still in their grace period. */
    async wellKnownDocument(): Promise<FederationIdentity> {
      const me = await identity();
      const previous = await previousKeys(db, clock());
      return {
        protocol: FEDERATION_PROTOCOL,
        key_id: me.keyId,
        alg: 'ed25519',
        public_key: me.publicKey,
        inbox: INBOX_PATH,
        messages: MESSAGES_PATH,
        ...(previous.length ? { previous_keys: previous.map((k) => ({ key_id: k.keyId, public_key: k.publicKey, expires_at: k.expiresAt, next_key_id: k.nextKeyId, endorsement: k.endorsement })) } : {}),
      };
    },

    /** Rotates the signing key; the old one stays valid for peers for `graceMs`. */
    async rotate(actorId: string, graceMs: number): Promise<void> {
      const old = await identity();
      const next = await rotateIdentity(db, deps.box, clock(), graceMs);
      identityPromise = Promise.resolve(next);
      identityLoadedAt = clock();
      await audit({ actorId, action: 'federation.identity', detail: { change: 'rotated', key_id: next.keyId, previous_key_id: old.keyId, grace_ms: graceMs } });
    },

    async connect(actorId: string, body: Parameters<typeof peers.connect>[1]): Promise<Peer> {
      const row = await peers.connect(actorId, body);
      await audit({ actorId, action: 'federation.peer', detail: { peer: row.id, change: 'connected', base_url: row.base_url, key_id: row.key_id } });
      // Whatever the peer already has for this instance arrives now, not at the next interval.
      void pull(row).catch((err) => deps.log.warn({ err, peer: row.id }, 'first federation pull failed'));
      return peers.view(row.id);
    },

    async update(actorId: string, id: string, body: Parameters<typeof peers.update>[1]): Promise<Peer> {
      const row = await peers.update(id, body);
      // Trust withdrawn (or the peer disabled): its banks stop blocking now, not at its next case.
      const blocking = row.status === 'active' ? BANK_CATEGORIES.filter((c) => actionFor(row, c) === 'block') : [];
      await safety.peerBanks.limitBlocking({ peerId: id, blockCategories: blocking });
      await audit({ actorId, action: 'federation.peer', detail: { peer: id, change: 'updated', fields: Object.keys(body) } });
      return peers.view(id);
    },

    async shared(q: { takedownId?: string; before?: number; limit: number }): Promise<SharedList> {
      let query = db.db.selectFrom('federation_shared').selectAll().orderBy('seq', 'desc').limit(q.limit + 1);
      if (q.takedownId) query = query.where('takedown_id', '=', q.takedownId);
      if (q.before !== undefined) query = query.where('seq', '<', q.before);
      const rows = await query.execute();
      const page = rows.slice(0, q.limit);
      return { cases: await sharedViews(page), next_before: rows.length > q.limit ? Number(page[page.length - 1]!.seq) : null };
    },

    async sharedCase(id: string): Promise<SharedCase> {
      const row = await db.db.selectFrom('federation_shared').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('shared case');
      return (await sharedViews([row]))[0]!;
    },

    /** Withdraws a shared case everywhere it went: each peer takes its signals out and releases what they held. */
    async retract(actorId: string, id: string): Promise<SharedCase> {
      const row = await db.db.selectFrom('federation_shared').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('shared case');
      if (row.status === 'retracted') throw new AppError('conflict', 'this case was already withdrawn');
      await retractRow(actorId, row);
      return (await sharedViews([{ ...row, status: 'retracted', retracted_at: clock() }]))[0]!;
    },

    async received(q: { status?: ReceivedCase['status']; limit: number }): Promise<ReceivedCase[]> {
      let query = db.db
        .selectFrom('federation_received as r')
        .innerJoin('federation_peers as p', 'p.id', 'r.peer_id')
        .selectAll('r')
        .select('p.name as peer_name')
        .where('r.type', 'in', ['signals', 'confirmation'])
        .orderBy('r.created_at', 'desc')
        .limit(q.limit);
      if (q.status) query = query.where('r.status', '=', q.status);
      const rows = await query.execute();
      const ids = rows.map((r) => r.id);
      const counts = ids.length
        ? await db.db.selectFrom('federation_received_signals').select(['received_id', (eb) => eb.fn.countAll<number>().as('n')]).where('received_id', 'in', ids).groupBy('received_id').execute()
        : [];
      const byId = new Map(counts.map((c) => [c.received_id, Number(c.n)]));
      // What this instance answered each peer about each case (its acks, oldest first).
      const refs = [...new Set(rows.map((r) => r.case_ref).filter((c): c is string => c !== null))];
      const acks = refs.length
        ? await db.db.selectFrom('federation_outbox').select(['peer_id', 'case_ref', 'body', 'created_at']).where('type', '=', 'ack').where('case_ref', 'in', refs).orderBy('seq').execute()
        : [];
      const answers = new Map<string, SentAnswers>();
      for (const a of acks) {
        const key = `${a.peer_id}|${a.case_ref}`;
        const body = (JSON.parse(a.body) as { body: { outcome: AckOutcome; copies: number } }).body;
        const entry = answers.get(key) ?? { holds: 0, sent: null };
        if (body.outcome === 'under_review') entry.holds = body.copies;
        entry.sent = { outcome: body.outcome, copies: body.copies, at: Number(a.created_at) };
        answers.set(key, entry);
      }
      return rows.map((r) => toReceived(r, byId.get(r.id) ?? (r.pending_signals ? (JSON.parse(r.pending_signals) as unknown[]).length : 0), answers.get(`${r.peer_id}|${r.case_ref}`)));
    },

    /** A moderator's decision on a case a peer's policy sent to review: hold it (bank and sweep) or dismiss it. */
    async decideReceived(actorId: string, id: string, decision: 'hold' | 'dismiss'): Promise<ReceivedCase> {
      const row = await db.db.selectFrom('federation_received').selectAll().where('id', '=', id).where('type', 'in', ['signals', 'confirmation']).executeTakeFirst();
      if (!row) throw notFound('received case');
      if (row.status !== 'pending') throw new AppError('conflict', `this case is ${row.status}, not waiting for a decision`);
      const peer = await peers.load(row.peer_id);
      if (decision === 'hold') {
        await bank(peer, row, JSON.parse(row.pending_signals ?? '[]') as SharedSignal[], 'hold');
      } else {
        await db.db.updateTable('federation_received').set({ status: 'dismissed', pending_signals: null }).where('id', '=', id).execute();
        await ack(peer, row.case_ref!, 'dismissed');
      }
      await audit({ actorId, action: 'federation.received', detail: { received: id, decision, peer: peer.id, case_ref: row.case_ref } });
      return (await this.received({ limit: 200 })).find((r) => r.id === id)!;
    },

    async start() {
      await identity();
      for (const { peerId, seq } of await outbox.peersWithBacklog()) {
        await db.writeTransaction((tx) => deps.enqueueDeliver(tx, peerId, `start-${seq}-${clock()}`));
      }
      void pullAll();
      if (deps.pullIntervalMs > 0) {
        pullTimer = setInterval(() => void pullAll(), deps.pullIntervalMs);
        pullTimer.unref();
      }
    },
    stop() {
      if (pullTimer) clearInterval(pullTimer);
      pullTimer = null;
    },
  };
}

export type Federation = ReturnType<typeof createFederation>;
