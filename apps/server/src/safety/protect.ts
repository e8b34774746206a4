/**
 * Hash-only protection (the StopNCII model): a person hashes their own images in their browser
 * with @mmd/phash — PDQ and, optionally, MMD's crop-resistant set and vPDQ for videos — and sends
 * only those hashes. Anyone can do this, with no account, so a submission is a *claim*, not a
 * verdict:
 * - its signals join the `protect` bank, whose action is hold: a new upload they match is held
 *   (never delivered, the sender sees "pending review") and an existing copy gets a review, with
 *   blurred previews; nothing is removed or blocked,
 * - until a moderator confirms the case (takedown of what it matched + its hashes into the
 *   takedown bank, which blocks) or rejects it (its hashes retired, what it held released).
 * - With `protectTrustedAutoAction`, an item that also matches a bank the operator marked trusted
 *   is acted on at once (screening.ts, sweep.ts); nothing else is.
 *
 * The case's key (shown once, kept as its hash) opens the case page: sharing the case with the
 * connected platforms (CasePlatforms, federation's, wired by app.ts), each platform's answer, and
 * withdrawal here and everywhere. A wrong key answers exactly like an unknown case.
 *
 * The submitter's view is the case's state alone, and every submission does the same work
 * whatever its hashes match: each case stores its own copy of its signals (never "already known,
 * skipped") and queues its own sweep, so neither the answer nor its timing says whether the hash
 * was known or how many copies exist. Limits: requests per address per window (routes.ts), signals
 * per request, per address per UTC day and for everyone per UTC day (here).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type {
  CaseDecisionBody,
  CaseView,
  ErasureRequest,
  PlatformStatus,
  CaseDecisionReply,
  CaseDetail,
  CaseItem,
  CaseList,
  CaseStatus,
  ProtectBody,
  ProtectCase,
  ProtectReceipt,
  RobustHashSet,
  Takedown,
} from '@mmd/contracts';
import { hammingDistance, hash256FromHex, ROBUST_PARAMS } from '@mmd/phash';
import type { Principal } from '../accounts/index.ts';
import type { Config } from '../config.ts';
import { AppError, notFound } from '../errors.ts';
import { loadMediaRows } from '../media/index.ts';
import { type Database, type Tx, lockScope } from '../platform/db/index.ts';
import { appendAudit, type Executor } from './audit.ts';
import type { Banks } from './banks.ts';
import { formatVpdqCompact, parseVpdqAny } from './hash-codec.ts';
import type { SharedSignal } from './hooks.ts';
import { caseReference, caseSecret, normaliseSecret } from './ids.ts';
import type { SafetyIndexes } from './indexes.ts';
import type { Reviews } from './reviews.ts';
import { type NewSignal, SAFETY_ORDERED_IDS, removeSignals, systemBank, valueKey } from './store.ts';
import type { Takedowns } from './takedown.ts';

/** A client that says its own hash is weak is believed; one that says it is strong is not (see balancedHash). */
const MIN_CLAIMED_QUALITY = 50;
/**
 * PDQ sets a bit when its DCT coefficient is strictly above the median (the 128th of 256), so a
 * real hash has at most 128 bits set, and exactly 128 unless coefficients tie — which happens on
 * flat, featureless pictures (an all-black frame hashes to all zeros). A hash far from 128 is
 * either such a picture, whose hash would match every other flat upload, or made up. This is the
 * server's own quality check: the claimed quality is never what lets a hash in.
 */
const MIN_BITS = 112;
const MAX_BITS = 128;
const ZERO = new Uint8Array(32);
const DAY_MS = 86_400_000;
/** A case's first search starts 1–2 s after it is answered (see submit). */
const SWEEP_DELAY_MS = 1000;
const OPEN: CaseStatus[] = ['received', 'under_review'];
/** The one answer to a wrong key and an unknown reference alike (no oracle of which references exist). */
const NO_SUCH_CASE = () => new AppError('not_found', 'no case has this reference and key');

export function balancedHash(hex: string): boolean {
  const bits = hammingDistance(hash256FromHex(hex), ZERO);
  return bits >= MIN_BITS && bits <= MAX_BITS;
}

type ProtectConfig = Pick<
  Config,
  'protectMaxSignalsPerSubmission' | 'protectMaxSignalsPerAddressPerDay' | 'protectMaxSignalsPerDay'
>;

export interface ProtectionDeps {
  db: Database;
  banks: Banks;
  /** Queues the case's sweep inside the transaction that stores its signals. */
  enqueueSweep: (
    tx: Tx,
    payload: { bankId: string; afterSignalId: number; upToSignalId: number; caseRef?: string },
    options?: { runAt?: number },
  ) => Promise<{ id: string }>;
  reviews: Reviews;
  takedowns: Takedowns;
  indexes: SafetyIndexes;
  config: ProtectConfig;
  clock: () => number;
  /** Keys addresses so the quota table cannot be read back into them. */
  addressSecret: () => Promise<Buffer>;
  /** Closes a hold review with no action (its upload delivered): a withdrawal has no moderator. */
  dismissHold: (reviewId: string, note: string) => Promise<boolean>;
  log: { error(o: object, m: string): void };
}

/**
 * The connected platforms a victim may share their case with (federation, wired by app.ts: safety
 * never imports it). Only the case's hashes and an opaque id of federation's leave this instance.
 */
export interface CasePlatforms {
  /** Sends the case's signals to every platform that takes this category; idempotent per case. */
  share(o: { reference: string; signals: SharedSignal[] }): Promise<void>;
  /** Withdraws it from every platform it went to (they release what it held); idempotent. */
  withdraw(reference: string): Promise<void>;
  /** Each platform's latest answer about it. */
  statuses(reference: string): Promise<PlatformStatus[]>;
}

const NO_PLATFORMS: CasePlatforms = { share: async () => {}, withdraw: async () => {}, statuses: async () => [] };

/** What the case page lists of a case's removal requests (erasure.ts, wired by service.ts). */
export type ErasureOfCase = (reference: string) => Promise<ErasureRequest[]>;

const secretHash = (secret: string) => createHash('sha256').update(normaliseSecret(secret)).digest();
/** Compared against when a reference is unknown or has no key: the same work either way. */
const NO_SECRET = createHash('sha256').update('no case has this key').digest();

const invalid = (path: string, message: string, detail: string) =>
  new AppError('validation_failed', detail, { errors: [{ path, message }] });

/** The signals a request contributes, checked by the server, never trusting the client's quality. */
export function protectSignals(body: ProtectBody, reference: string): NewSignal[] {
  const images = body.images ?? [];
  const videos = body.videos ?? [];
  const out: NewSignal[] = [];
  for (const [n, image] of images.entries()) {
    const pdq = image.pdq.toLowerCase();
    if (image.quality < MIN_CLAIMED_QUALITY) {
      throw invalid(
        `/images/${n}/quality`,
        `must be at least ${MIN_CLAIMED_QUALITY}`,
        `image ${n + 1} is too plain to protect reliably (PDQ quality ${image.quality} < ${MIN_CLAIMED_QUALITY})`,
      );
    }
    if (!balancedHash(pdq))
      throw invalid(
        `/images/${n}/pdq`,
        'not the PDQ hash of a detailed picture',
        `image ${n + 1}: this hash cannot come from a picture detailed enough to protect`,
      );
    out.push({
      type: 'pdq',
      value: pdq,
      quality: null,
      // Only a set in this build's scheme: an older one would make every upload also be hashed
      // in that scheme (indexes.ts olderBankSchemes), a cost anyone could impose; the plain hash
      // still protects whole copies.
      robust: image.robust && (image.robust.scheme ?? 1) === ROBUST_PARAMS.scheme ? JSON.stringify(cleanRobust(image.robust)) : null,
      origin: 'protect',
      caseRef: reference,
    });
  }
  for (const [n, video] of videos.entries()) {
    const path = `/videos/${n}/vpdq`;
    // Frames of flat pictures (fades, black frames) would match every video that has them.
    const frames = parseVpdqAny(video.vpdq, path).filter((f) => {
      const bits = hammingDistance(f.hash, ZERO);
      return bits >= MIN_BITS && bits <= MAX_BITS;
    });
    if (frames.length === 0)
      throw invalid(
        path,
        'no frame detailed enough to match',
        `video ${n + 1}: no frame is detailed enough to protect`,
      );
    out.push({ type: 'vpdq', value: formatVpdqCompact(frames), origin: 'protect', caseRef: reference });
  }
  return out;
}

/** A browser's crop-resistant set, lower-cased, without the hashes of flat regions. */
function cleanRobust(set: RobustHashSet): RobustHashSet {
  const keep = (h: string) => balancedHash(h);
  return {
    ...(set.v !== undefined ? { v: set.v } : {}),
    // The scheme the browser hashed in: a scheme-2 set compared as scheme 1 would match nothing but whole copies.
    ...(set.scheme !== undefined ? { scheme: set.scheme } : {}),
    global: set.global.map((h) => h.toLowerCase()).filter(keep),
    centre: set.centre.map((h) => h.toLowerCase()).filter(keep),
    anchors: set.anchors.map((a) => ({ ...a, hash: a.hash.toLowerCase() })).filter((a) => keep(a.hash)),
  };
}

function untilNextDay(now: number): string {
  return String(Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000)));
}

type CaseRow = {
  reference: string;
  status: CaseStatus;
  created_at: number;
  updated_at: number | null;
  last_checked_at: number | null;
  images: number | null;
  videos: number | null;
  decided_at: number | null;
  decided_by: string | null;
  note: string | null;
  secret_hash: string | null;
  shared_at: number | null;
  withdrawn_at: number | null;
};

function publicView(row: CaseRow): ProtectCase {
  return {
    reference: row.reference,
    status: row.status,
    submitted_at: Number(row.created_at),
    updated_at: Number(row.updated_at ?? row.created_at),
  };
}

/** Open cases among those that own these protect-bank signals: signal id → case reference. */
export async function casesOfSignals(db: Executor, signalIds: number[]): Promise<Map<number, string>> {
  if (signalIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('safety_signals as s')
    .innerJoin('safety_cases as c', 'c.reference', 's.case_ref')
    .select(['s.id', 's.case_ref'])
    .where('s.id', 'in', signalIds)
    .where('c.status', 'in', OPEN)
    .execute();
  return new Map(rows.map((r) => [Number(r.id), r.case_ref!]));
}

/** Notes that these cases matched an item (once per case and item). */
export async function recordCaseItems(
  tx: Executor,
  options: {
    cases: Iterable<string>;
    mediaId: string;
    source: 'screening' | 'sweep';
    autoAction: boolean;
    now: number;
  },
): Promise<void> {
  const refs = [...new Set(options.cases)];
  if (refs.length === 0) return;
  await tx
    .insertInto('safety_case_items')
    .values(
      refs.map((case_ref) => ({
        case_ref,
        media_id: options.mediaId,
        source: options.source,
        auto_action: options.autoAction ? 1 : 0,
        created_at: options.now,
      })),
    )
    .onConflict((oc) => oc.columns(['case_ref', 'media_id']).doNothing())
    .execute();
  if (options.autoAction)
    await tx
      .updateTable('safety_case_items')
      .set({ auto_action: 1 })
      .where('case_ref', 'in', refs)
      .where('media_id', '=', options.mediaId)
      .execute();
  // The case has something for a moderator to look at: it is under review from here on.
  await tx
    .updateTable('safety_cases')
    .set({ status: 'under_review', updated_at: options.now })
    .where('reference', 'in', refs)
    .where('status', '=', 'received')
    .execute();
}

/** Ids of the banks the operator marked trusted. */
export async function trustedBankIds(db: Executor): Promise<Set<string>> {
  const rows = await db.selectFrom('safety_banks').select('id').where('trusted', '=', 1).execute();
  return new Set(rows.map((r) => r.id));
}

export function createProtection(deps: ProtectionDeps) {
  const { db, clock, config } = deps;
  let platforms: CasePlatforms = NO_PLATFORMS;
  let erasureOf: ErasureOfCase = async () => [];

  /** The case's own signals as they leave for other platforms (the protect bank's copy). */
  async function caseSignals(reference: string): Promise<SharedSignal[]> {
    const rows = await db.db
      .selectFrom('safety_signals')
      .select(['type', 'value', 'robust'])
      .where('case_ref', '=', reference)
      .where('origin', '=', 'protect')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ type: r.type, value: r.value, ...(r.robust ? { robust: r.robust } : {}) }));
  }

  /**
   * The case, if `secret` is its key. A wrong key, a case with no key and an unknown reference
   * get the same answer after the same work (one read, one constant-time comparison).
   */
  async function unlock(reference: string, secret: string): Promise<CaseRow> {
    const given = secretHash(secret);
    const row = (await db.db.selectFrom('safety_cases').selectAll().where('reference', '=', reference).executeTakeFirst()) as CaseRow | undefined;
    const stored = row?.secret_hash ? Buffer.from(row.secret_hash, 'hex') : NO_SECRET;
    const same = stored.length === given.length && timingSafeEqual(stored, given);
    if (!row?.secret_hash || !same) throw NO_SUCH_CASE();
    return row;
  }

  async function caseView(row: CaseRow): Promise<CaseView> {
    return {
      case: publicView(row),
      shared: row.shared_at !== null,
      shared_at: row.shared_at === null ? null : Number(row.shared_at),
      platforms: row.shared_at === null ? [] : await platforms.statuses(row.reference),
      erasure_requests: await erasureOf(row.reference),
    };
  }

  /**
   * Retires an open case's hashes (this process forgets them at once; others meet no row) and
   * releases what only it held. `release` closes each hold review this case's bank opened.
   */
  async function retire(reference: string, release: (reviewId: string) => Promise<boolean>): Promise<{ signals: number; released: number }> {
    const now = clock();
    const signals = await db.db
      .selectFrom('safety_signals')
      .select('id')
      .where('case_ref', '=', reference)
      .where('origin', '=', 'protect')
      .execute();
    // Retired: logged as removed, so every process's index drops them (indexes.ts).
    await db.writeTransaction((tx) => removeSignals(tx, { ids: signals.map((s) => Number(s.id)), origin: 'protect', now }));
    deps.indexes.announce();
    const protectBank = await systemBank(db.db, 'protect', now);
    let released = 0;
    for (const mediaId of await releasable(reference)) {
      // Only reviews this case's bank opened; a review some other bank opened stays as it is.
      const reviews = await db.db
        .selectFrom('safety_reviews')
        .select(['id', 'status'])
        .where('media_id', '=', mediaId)
        .where('kind', '=', 'hold')
        .where('bank_id', '=', protectBank.id)
        .where('status', '=', 'open')
        .execute();
      for (const review of reviews) if (await release(review.id)) released++;
    }
    return { signals: signals.length, released };
  }

  /** Sends a case to the connected platforms; a failure is logged and the case page can retry. */
  async function sendToPlatforms(reference: string): Promise<void> {
    await platforms.share({ reference, signals: await caseSignals(reference) });
  }

  async function addressKey(address: string): Promise<string> {
    return createHmac('sha256', await deps.addressSecret())
      .update(`protect:${address}`)
      .digest('base64url')
      .slice(0, 32);
  }

  /** Checks and counts today's allowance for this address and for everyone, inside the case's transaction. */
  async function spend(tx: Tx, key: string, signals: number, now: number) {
    const day = Math.floor(now / DAY_MS);
    const rows = await tx
      .selectFrom('safety_protect_quota')
      .select(['address_key', 'signals'])
      .where('day', '=', day)
      .where('address_key', 'in', [key, '*'])
      .execute();
    const used = (k: string) => Number(rows.find((r) => r.address_key === k)?.signals ?? 0);
    const headers = { 'retry-after': untilNextDay(now) };
    if (used(key) + signals > config.protectMaxSignalsPerAddressPerDay) {
      throw new AppError(
        'daily_limit_reached',
        `this address may protect ${config.protectMaxSignalsPerAddressPerDay} images or videos a day; try again tomorrow (UTC)`,
        { headers },
      );
    }
    if (used('*') + signals > config.protectMaxSignalsPerDay) {
      throw new AppError(
        'daily_capacity_reached',
        'this server has taken all the protection requests it can today; try again tomorrow (UTC)',
        { headers },
      );
    }
    for (const k of [key, '*']) {
      await tx
        .insertInto('safety_protect_quota')
        .values({ address_key: k, day, signals, submissions: 1 })
        .onConflict((oc) =>
          oc
            .columns(['address_key', 'day'])
            .doUpdateSet((eb) => ({
              signals: eb('safety_protect_quota.signals', '+', signals),
              submissions: eb('safety_protect_quota.submissions', '+', 1),
            })),
        )
        .execute();
    }
  }

  async function loadCase(reference: string): Promise<CaseRow> {
    const row = await db.db
      .selectFrom('safety_cases')
      .selectAll()
      .where('reference', '=', reference)
      .executeTakeFirst();
    if (!row) throw notFound('case');
    return row as CaseRow;
  }

  /** The moderator's view of cases: what each one matched, with the review and blurred preview of each item. */
  async function details(rows: CaseRow[]): Promise<CaseDetail[]> {
    if (rows.length === 0) return [];
    const refs = rows.map((r) => r.reference);
    const items = await db.db
      .selectFrom('safety_case_items as i')
      .select(['i.case_ref', 'i.media_id', 'i.source', 'i.auto_action', 'i.created_at'])
      .where('i.case_ref', 'in', refs)
      .orderBy('i.created_at', 'desc')
      .execute();
    const mediaIds = [...new Set(items.map((i) => i.media_id))];
    const media = new Map((await loadMediaRows(db.db, mediaIds)).map((m) => [m.id, m]));
    const reviews = mediaIds.length
      ? await db.db
          .selectFrom('safety_reviews')
          .select(['id', 'media_id', 'status', 'created_at'])
          .where('media_id', 'in', mediaIds)
          .where('kind', '=', 'hold')
          .orderBy('created_at')
          .execute()
      : [];
    // The newest review of each item: the one a moderator would decide.
    const reviewOf = new Map(reviews.map((r) => [r.media_id!, r.id]));
    return rows.map((row) => {
      const mine = items.filter((i) => i.case_ref === row.reference);
      const view: CaseItem[] = mine.slice(0, 200).map((i) => {
        const review = reviewOf.get(i.media_id) ?? null;
        const item = media.get(i.media_id);
        const status = item?.status ?? 'removed';
        const previewable =
          review !== null &&
          status !== 'removed' &&
          status !== 'failed' &&
          (item?.kind === 'image' || item?.kind === 'video');
        return {
          media_id: i.media_id,
          kind: item?.kind ?? null,
          status,
          source: i.source,
          review_id: review,
          preview: previewable ? `/v1/safety/reviews/${review}/media/${i.media_id}/preview` : null,
          auto_action: Number(i.auto_action) === 1,
          matched_at: Number(i.created_at),
        };
      });
      return {
        reference: row.reference,
        status: row.status,
        submitted_at: Number(row.created_at),
        updated_at: Number(row.updated_at ?? row.created_at),
        images: Number(row.images ?? 0),
        videos: Number(row.videos ?? 0),
        items: view,
        item_count: mine.length,
        decided_at: row.decided_at === null ? null : Number(row.decided_at),
        decided_by: row.decided_by,
        note: row.note,
      };
    });
  }

  /** Items this case matched that no other open case also claims: what a rejection may release. */
  async function releasable(reference: string): Promise<string[]> {
    const items = await db.db
      .selectFrom('safety_case_items')
      .select('media_id')
      .where('case_ref', '=', reference)
      .execute();
    if (items.length === 0) return [];
    const ids = items.map((i) => i.media_id);
    const claimed = await db.db
      .selectFrom('safety_case_items as i')
      .innerJoin('safety_cases as c', 'c.reference', 'i.case_ref')
      .select('i.media_id')
      .where('i.media_id', 'in', ids)
      .where('i.case_ref', '!=', reference)
      .where('c.status', 'in', OPEN)
      .execute();
    const taken = new Set(claimed.map((c) => c.media_id));
    return ids.filter((id) => !taken.has(id));
  }

  return {
    /** Opens a case. The answer has the same shape, and costs the same work, whatever the hashes match. */
    async submit(body: ProtectBody, address: string): Promise<ProtectReceipt> {
      const images = body.images ?? [];
      const videos = body.videos ?? [];
      if (images.length === 0 && videos.length === 0) {
        throw invalid(
          '/images',
          'images or videos required',
          'send the hashes of at least one image or video',
        );
      }
      if (images.length + videos.length > config.protectMaxSignalsPerSubmission) {
        throw invalid(
          '/images',
          `at most ${config.protectMaxSignalsPerSubmission} images and videos together`,
          `send at most ${config.protectMaxSignalsPerSubmission} images and videos in one request`,
        );
      }
      const reference = caseReference();
      const secret = caseSecret();
      const share = body.share === true;
      const signals = protectSignals(body, reference);
      const key = await addressKey(address);
      const now = clock();
      const bank = await systemBank(db.db, 'protect', now);
      await db.writeTransaction(async (tx) => {
        await spend(tx, key, signals.length, now);
        await tx
          .insertInto('safety_cases')
          .values({
            reference,
            status: 'received',
            copies_removed: 0,
            created_at: now,
            last_checked_at: null,
            updated_at: now,
            images: images.length,
            videos: videos.length,
            decided_at: null,
            decided_by: null,
            note: null,
            secret_hash: secretHash(secret).toString('hex'),
            shared_at: share ? now : null,
            withdrawn_at: null,
          })
          .execute();
        // The value key carries the case, so a hash another case (or this one) already sent is
        // stored again: a known hash costs the same rows and the same sweep as a new one.
        const rows = signals.map((s) => ({
          bank_id: bank.id,
          type: s.type,
          value: s.value,
          value_key: `${reference}:${valueKey(s.type, s.value)}`,
          label: null,
          quality: null,
          robust: s.robust ?? null,
          origin: 'protect' as const,
          case_ref: reference,
          created_by: null,
          created_at: now,
        }));
        await lockScope(tx, SAFETY_ORDERED_IDS);
        const inserted = await tx
          .insertInto('safety_signals')
          .values(rows)
          .onConflict((oc) => oc.columns(['bank_id', 'type', 'value_key']).doNothing())
          .returning('id')
          .execute();
        const ids = inserted.map((r) => Number(r.id)).sort((a, b) => a - b);
        // The search starts after the answer has gone, never beside it: a known hash's search does
        // more work, and in the same process that would otherwise slow this answer down.
        const job = await deps.enqueueSweep(
          tx,
          { bankId: bank.id, afterSignalId: ids[0]! - 1, upToSignalId: ids[ids.length - 1]!, caseRef: reference },
          { runAt: now + SWEEP_DELAY_MS + Math.floor(Math.random() * SWEEP_DELAY_MS) },
        );
        await appendAudit(tx, {
          at: now,
          actorId: null,
          action: 'protect.submitted',
          subjectType: 'case',
          subjectId: reference,
          bankId: bank.id,
          detail: {
            images: images.length,
            videos: videos.length,
            crop_resistant: images.filter((i) => i.robust).length,
            signals: ids.length,
            sweep_job_id: job.id,
            shared: share,
          },
        });
      });
      // The case exists and its key must reach its submitter whatever the platforms do: a failed
      // send is logged, and "share" on the case page sends it again.
      if (share) await sendToPlatforms(reference).catch((err) => deps.log.error({ err, case: reference }, 'sharing a protection case failed'));
      return { reference, secret, status: 'received', submitted_at: now, updated_at: now, shared: share };
    },

    /** Lets federation take shared cases (app.ts); without it sharing reaches no platform. */
    connectPlatforms(p: CasePlatforms) {
      platforms = p;
    },
    /** Lets the case page list the case's removal requests (service.ts). */
    listErasure(f: ErasureOfCase) {
      erasureOf = f;
    },

    /** Checks a case's key; the same refusal for a wrong key and an unknown case. */
    async unlock(reference: string, secret: string): Promise<{ reference: string; status: CaseStatus }> {
      const row = await unlock(reference, secret);
      return { reference: row.reference, status: row.status };
    },

    /** The case page: the case, each platform's answer, its removal requests. */
    async view(reference: string, secret: string): Promise<CaseView> {
      return caseView(await unlock(reference, secret));
    },

    /**
     * Its submitter shares the case with the connected platforms (category ncii, an opaque id).
     * Sharing again sends it to no platform twice; a withdrawn case, or one whose hashes a
     * moderator retired (closed), has nothing left to share.
     */
    async share(reference: string, secret: string): Promise<CaseView> {
      const row = await unlock(reference, secret);
      if (row.withdrawn_at !== null || row.status === 'withdrawn') throw new AppError('conflict', 'this case was withdrawn; open a new one to share it');
      if (row.status === 'closed') throw new AppError('conflict', 'a moderator closed this case and its hashes are no longer kept; open a new one to share it');
      const now = clock();
      if (row.shared_at === null) {
        await db.db.updateTable('safety_cases').set({ shared_at: now }).where('reference', '=', reference).where('shared_at', 'is', null).execute();
        await appendAudit(db.db, { at: now, actorId: null, action: 'protect.shared', subjectType: 'case', subjectId: reference, bankId: null, detail: {} });
      }
      await sendToPlatforms(reference);
      return caseView(await loadCase(reference));
    },

    /**
     * Its submitter withdraws the case, here and everywhere it was shared: an open case's hashes
     * are retired and what only it held is released (as a rejection would); every platform it went
     * to is told to do the same. A case a moderator already decided keeps its decision here.
     */
    async withdraw(reference: string, secret: string): Promise<CaseView> {
      const row = await unlock(reference, secret);
      if (row.withdrawn_at !== null) throw new AppError('conflict', 'this case was already withdrawn');
      const now = clock();
      const open = OPEN.includes(row.status);
      const claimed = await db.db
        .updateTable('safety_cases')
        .set({ withdrawn_at: now, updated_at: now, ...(open ? { status: 'withdrawn' as const } : {}) })
        .where('reference', '=', reference)
        .where('withdrawn_at', 'is', null)
        .where('status', '=', row.status)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) throw new AppError('conflict', 'this case changed meanwhile; look again');
      const done = open ? await retire(reference, (id) => deps.dismissHold(id, `protection case ${reference} withdrawn by its submitter`)) : { signals: 0, released: 0 };
      if (row.shared_at !== null) await platforms.withdraw(reference);
      await appendAudit(db.db, {
        at: clock(),
        actorId: null,
        action: 'protect.withdrawn',
        subjectType: 'case',
        subjectId: reference,
        bankId: null,
        detail: { was: row.status, signals_retired: done.signals, holds_released: done.released, shared: row.shared_at !== null },
      });
      return caseView(await loadCase(reference));
    },

    /** The submitter's view: state and dates, nothing about what matched. */
    async status(reference: string): Promise<ProtectCase> {
      return publicView(await loadCase(reference));
    },

    async list(query: {
      status?: CaseStatus;
      matched?: boolean;
      before?: number;
      limit: number;
    }): Promise<CaseList> {
      let q = db.db
        .selectFrom('safety_cases')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('reference')
        .limit(query.limit + 1);
      q = query.status ? q.where('status', '=', query.status) : q.where('status', 'in', OPEN);
      // By default only cases with something to decide: most submissions match nothing here.
      if (query.matched ?? true)
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('safety_case_items as i')
              .select('i.media_id')
              .whereRef('i.case_ref', '=', 'safety_cases.reference'),
          ),
        );
      if (query.before !== undefined) q = q.where('created_at', '<', query.before);
      const rows = (await q.execute()) as CaseRow[];
      const page = rows.slice(0, query.limit);
      return {
        cases: await details(page),
        next_before: rows.length > query.limit ? Number(page[page.length - 1]!.created_at) : null,
      };
    },

    async get(reference: string): Promise<CaseDetail> {
      return (await details([await loadCase(reference)]))[0]!;
    },

    /**
     * A moderator's decision. Confirm: the case's hashes join the takedown bank (block from now
     * on, and its sweep removes copies not yet found), then everything the case matched is taken
     * down. Reject: the case's hashes leave the protect bank and what only it held is released,
     * here and (a retraction) on every platform it was shared with.
     */
    async decide(
      principal: Principal,
      reference: string,
      body: CaseDecisionBody,
    ): Promise<CaseDecisionReply> {
      const row = await loadCase(reference);
      if (!OPEN.includes(row.status))
        throw new AppError('conflict', `this case was already decided (${row.status})`);
      const now = clock();
      const claim = async (status: CaseStatus) => {
        const updated = await db.db
          .updateTable('safety_cases')
          .set({
            status,
            updated_at: now,
            decided_at: now,
            decided_by: principal.accountId,
            note: body.note ?? null,
          })
          .where('reference', '=', reference)
          .where('status', 'in', OPEN)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0)
          throw new AppError('conflict', 'this case was decided meanwhile');
      };
      let takedown: Takedown | null = null;
      let released = 0;
      if (body.action === 'confirm') {
        await claim('action_taken');
        const block = await systemBank(db.db, 'takedown', now);
        // What the case matched goes first, as one takedown (its record and figures are this
        // decision's); then the case's own hashes join the block bank, whose sweep finds the rest.
        const matched = await db.db.selectFrom('safety_case_items').select('media_id').where('case_ref', '=', reference).execute();
        const items = (await loadMediaRows(db.db, [...new Set(matched.map((i) => i.media_id))])).filter((m) => m.status !== 'removed' && m.status !== 'failed');
        if (items.length > 0) {
          takedown = await deps.takedowns.run(principal.accountId, {
            mediaIds: items.map((m) => m.id),
            bankId: block.id,
            reason: body.note ?? `protection case ${reference} confirmed`,
          });
        }
        const signals = await db.db
          .selectFrom('safety_signals')
          .select(['type', 'value', 'robust'])
          .where('case_ref', '=', reference)
          .execute();
        const added = await deps.banks.add(
          principal,
          block.id,
          signals.map((s) => ({
            type: s.type,
            value: s.value,
            robust: s.robust,
            origin: 'protect',
            caseRef: reference,
          })),
          { action: 'signals.added', detail: { origin: 'protect', case: reference } },
        );
        await appendAudit(db.db, {
          at: clock(),
          actorId: principal.accountId,
          action: 'case.confirmed',
          subjectType: 'case',
          subjectId: reference,
          bankId: block.id,
          detail: {
            signals_added: added.added.length,
            items: items.length,
            ...(takedown ? { takedown_id: takedown.id, media_removed: takedown.media_removed } : {}),
            ...(body.note ? { note: body.note } : {}),
          },
        });
      } else {
        await claim('closed');
        const done = await retire(reference, async (id) => {
          await deps.reviews.decide(principal, id, { action: 'dismiss', note: `protection case ${reference} rejected` });
          return true;
        });
        released = done.released;
        // Rejected here, it is withdrawn from every platform it was shared with too: a claim this
        // instance's moderator found unfounded must not keep holding anything elsewhere.
        if (row.shared_at !== null) await platforms.withdraw(reference);
        const protectBank = await systemBank(db.db, 'protect', now);
        await appendAudit(db.db, {
          at: clock(),
          actorId: principal.accountId,
          action: 'case.rejected',
          subjectType: 'case',
          subjectId: reference,
          bankId: protectBank.id,
          detail: {
            signals_retired: done.signals,
            reviews_dismissed: released,
            ...(body.note ? { note: body.note } : {}),
          },
        });
      }
      return { case: await this.get(reference), takedown, released };
    },
  };
}

export type Protection = ReturnType<typeof createProtection>;
