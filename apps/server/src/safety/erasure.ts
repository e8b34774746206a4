/**
 * The right to be forgotten on this instance: a person asks for every copy of media they appear in
 * to be removed, by hashes their browser computed (the images never leave it). Anyone can claim to
 * be in any picture, so a request is never acted on by itself:
 * - it waits in the moderators' queue, matching nothing and holding nothing (its hashes are kept
 *   on the request, not in a bank),
 * - a moderator looks at what it matches here and decides, with reasons: remove (a takedown by the
 *   request's hashes: every stored copy, out of every chat, and its hashes blocked from then on) or
 *   decline (nothing happens),
 * - the decision and its reasons go to the audit log and to the requester's view of the request.
 * Who may ask: a signed-in person (they see their requests under their account), or whoever holds
 * a protection case and its key (the requests show on the case page). Limits: the route's requests
 * per address, the protection caps on hashes per request, and a few pending requests per requester.
 */
import type { ErasureBody, ErasureDecisionBody, ErasureDetail, ErasureRequest, ErasureStatus, SignalType, Takedown } from '@mmd/contracts';
import { hash256FromHex } from '@mmd/phash';
import type { Principal } from '../accounts/index.ts';
import type { Config } from '../config.ts';
import { AppError, notFound } from '../errors.ts';
import { loadMediaRows } from '../media/index.ts';
import type { Database } from '../platform/db/index.ts';
import { appendAudit } from './audit.ts';
import { parseVpdqAny, plainRobust } from './hash-codec.ts';
import { erasureId } from './ids.ts';
import type { Matcher } from './matcher.ts';
import { protectSignals } from './protect.ts';
import type { SafetyErasureRequestsTable } from './schema.ts';
import { systemBank } from './store.ts';
import type { Takedowns } from './takedown.ts';

/** Pending requests one account or one case may have at a time. */
export const MAX_PENDING_ERASURE = 5;
const MAX_MATCHING_SHOWN = 200;

type Row = SafetyErasureRequestsTable;
type StoredSignal = { type: SignalType; value: string };

export interface ErasureDeps {
  db: Database;
  takedowns: Takedowns;
  matcher: Matcher;
  clock: () => number;
  config: Pick<Config, 'protectMaxSignalsPerSubmission'>;
  /** Checks a protection case's key (protect.ts): the same refusal for a wrong key and an unknown case. */
  unlockCase: (reference: string, secret: string) => Promise<{ reference: string }>;
}

function requesterView(r: Row): ErasureRequest {
  return {
    id: r.id,
    status: r.status,
    images: Number(r.images),
    videos: Number(r.videos),
    submitted_at: Number(r.created_at),
    decided_at: r.decided_at === null ? null : Number(r.decided_at),
    reasons: r.reasons,
    copies_removed: Number(r.copies_removed),
  };
}

export function createErasure(deps: ErasureDeps) {
  const { db, clock } = deps;

  async function load(id: string): Promise<Row> {
    const row = await db.db.selectFrom('safety_erasure_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('removal request');
    return row;
  }

  /** Media stored here that the request's hashes match now, as the takedown would find them. */
  async function matching(row: Row): Promise<string[]> {
    const signals = JSON.parse(row.signals) as StoredSignal[];
    const bank = await systemBank(db.db, 'takedown', clock());
    const found = await deps.matcher.findCopies({
      images: signals.filter((s) => s.type === 'pdq').map((s) => ({ reference: plainRobust(hash256FromHex(s.value)), threshold: Number(bank.pdq_threshold) })),
      videos: signals.filter((s) => s.type === 'vpdq').map((s) => ({ frames: parseVpdqAny(s.value, '/signals') })),
    });
    const rows = await loadMediaRows(db.db, [...found.keys()]);
    return rows.filter((m) => m.status !== 'removed' && m.status !== 'failed').map((m) => m.id).slice(0, MAX_MATCHING_SHOWN);
  }

  async function detail(row: Row, withMatches: boolean): Promise<ErasureDetail> {
    return {
      id: row.id,
      status: row.status,
      requester: row.account_id ? 'account' : 'case',
      account_id: row.account_id,
      case_reference: row.case_ref,
      images: Number(row.images),
      videos: Number(row.videos),
      note: row.note,
      matching: withMatches && row.status === 'pending' ? await matching(row) : [],
      submitted_at: Number(row.created_at),
      decided_at: row.decided_at === null ? null : Number(row.decided_at),
      decided_by: row.decided_by,
      reasons: row.reasons,
      takedown_id: row.takedown_id,
      copies_removed: Number(row.copies_removed),
    };
  }

  return {
    /** Files a request for moderators. Nothing is matched, held or removed until one decides. */
    async request(principal: Principal | null, body: ErasureBody): Promise<ErasureRequest> {
      if (!principal && !body.case) {
        throw new AppError('unauthenticated', 'sign in, or give the reference and key of your protection case', { headers: { 'www-authenticate': 'Bearer' } });
      }
      const images = body.images ?? [];
      const videos = body.videos ?? [];
      if (images.length === 0 && videos.length === 0) {
        throw new AppError('validation_failed', 'send the hashes of at least one image or video', { errors: [{ path: '/images', message: 'images or videos required' }] });
      }
      if (images.length + videos.length > deps.config.protectMaxSignalsPerSubmission) {
        const max = deps.config.protectMaxSignalsPerSubmission;
        throw new AppError('validation_failed', `send at most ${max} images and videos in one request`, { errors: [{ path: '/images', message: `at most ${max} images and videos together` }] });
      }
      // A signed-in person's request is theirs; a case's key is checked only when there is no account.
      const caseRef = principal ? null : (await deps.unlockCase(body.case!.reference, body.case!.secret)).reference;
      // The same checks as protection: no flat, made-up or malformed hash gets into the queue.
      const signals: StoredSignal[] = protectSignals({ ...(body.images ? { images: body.images } : {}), ...(body.videos ? { videos: body.videos } : {}) }, caseRef ?? '').map((s) => ({ type: s.type, value: s.value }));
      const now = clock();
      const id = erasureId();
      await db.writeTransaction(async (tx) => {
        const pending = await tx
          .selectFrom('safety_erasure_requests')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'pending')
          .$if(principal !== null, (q) => q.where('account_id', '=', principal!.accountId))
          .$if(principal === null, (q) => q.where('case_ref', '=', caseRef))
          .executeTakeFirstOrThrow();
        if (Number(pending.n) >= MAX_PENDING_ERASURE) {
          throw new AppError('rate_limited', `you have ${MAX_PENDING_ERASURE} requests waiting for a moderator; wait for a decision before sending more`);
        }
        await tx
          .insertInto('safety_erasure_requests')
          .values({
            id,
            status: 'pending',
            account_id: principal?.accountId ?? null,
            case_ref: caseRef,
            signals: JSON.stringify(signals),
            images: images.length,
            videos: videos.length,
            note: body.note ?? null,
            created_at: now,
            decided_at: null,
            decided_by: null,
            reasons: null,
            takedown_id: null,
            copies_removed: 0,
          })
          .execute();
        await appendAudit(tx, {
          at: now,
          actorId: principal?.accountId ?? null,
          action: 'erasure.requested',
          subjectType: 'erasure',
          subjectId: id,
          bankId: null,
          detail: { images: images.length, videos: videos.length, ...(caseRef ? { case: caseRef } : {}) },
        });
      });
      return requesterView(await load(id));
    },

    /** A signed-in person's own requests, newest first. */
    async mine(principal: Principal): Promise<ErasureRequest[]> {
      const rows = await db.db.selectFrom('safety_erasure_requests').selectAll().where('account_id', '=', principal.accountId).orderBy('created_at', 'desc').limit(100).execute();
      return rows.map(requesterView);
    },

    /** A protection case's requests, newest first (the case page). */
    async ofCase(reference: string): Promise<ErasureRequest[]> {
      const rows = await db.db.selectFrom('safety_erasure_requests').selectAll().where('case_ref', '=', reference).orderBy('created_at', 'desc').limit(100).execute();
      return rows.map(requesterView);
    },

    /** The moderators' queue: by default what waits for a decision, oldest first, with what each matches now. */
    async queue(q: { status?: ErasureStatus; limit: number }): Promise<ErasureDetail[]> {
      const status = q.status ?? 'pending';
      const rows = await db.db
        .selectFrom('safety_erasure_requests')
        .selectAll()
        .where('status', '=', status)
        .orderBy('created_at', status === 'pending' ? 'asc' : 'desc')
        .limit(q.limit)
        .execute();
      const out: ErasureDetail[] = [];
      for (const row of rows) out.push(await detail(row, true));
      return out;
    },

    async get(id: string): Promise<ErasureDetail> {
      return detail(await load(id), true);
    },

    /**
     * A moderator's decision, with reasons the requester sees. Remove: a takedown by the request's
     * hashes (every stored copy, blocked from then on), kept to this instance (not shared with
     * peers: the request is about this platform). Decline: nothing is removed.
     */
    async decide(principal: Principal, id: string, body: ErasureDecisionBody): Promise<ErasureDetail> {
      const row = await load(id);
      if (row.status !== 'pending') throw new AppError('conflict', `this request was already decided (${row.status})`);
      const now = clock();
      const claimed = await db.db
        .updateTable('safety_erasure_requests')
        .set({ status: body.action === 'remove' ? 'removed' : 'declined', decided_at: now, decided_by: principal.accountId, reasons: body.reasons })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) throw new AppError('conflict', 'this request was decided meanwhile');
      if (body.action === 'remove') {
        const signals = JSON.parse(row.signals) as StoredSignal[];
        let takedown: Takedown;
        try {
          takedown = await deps.takedowns.run(principal.accountId, { hashes: signals, reason: `removal request ${id}: ${body.reasons}`, local: true });
        } catch (err) {
          // Nothing decided after all: the request waits again, and the moderator hears why.
          await db.db.updateTable('safety_erasure_requests').set({ status: 'pending', decided_at: null, decided_by: null, reasons: null }).where('id', '=', id).execute();
          throw err;
        }
        await db.db.updateTable('safety_erasure_requests').set({ takedown_id: takedown.id, copies_removed: takedown.media_removed }).where('id', '=', id).execute();
        await appendAudit(db.db, {
          at: clock(),
          actorId: principal.accountId,
          action: 'erasure.removed',
          subjectType: 'erasure',
          subjectId: id,
          bankId: takedown.bank_id,
          detail: { reasons: body.reasons, takedown_id: takedown.id, media_removed: takedown.media_removed, queued_for_review: takedown.queued_for_review },
        });
      } else {
        await appendAudit(db.db, { at: now, actorId: principal.accountId, action: 'erasure.declined', subjectType: 'erasure', subjectId: id, bankId: null, detail: { reasons: body.reasons } });
      }
      return detail(await load(id), false);
    },
  };
}

export type Erasure = ReturnType<typeof createErasure>;
