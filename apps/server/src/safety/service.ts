/**
 * Trust and safety, assembled: hash banks, upload screening, reports and reviews, takedowns,
 * sweeps, hash-only protection and the audit log, over one hasher (thread pool) and the two
 * near-duplicate indexes.
 */
import { availableParallelism } from 'node:os';
import type { Config } from '../config.ts';
import type { SpreadPolicy } from '../messaging/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';
import type { JobPayloads } from '../jobs.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import { createThreadPool } from '../platform/queue/index.ts';
import { serverSecret } from '../platform/secrets.ts';
import type { WriteWithEvents } from '../sync/index.ts';
import { type AuditInput, appendAudit, listAudit } from './audit.ts';
import { createExchangeReads } from './exchange.ts';
import { createSafetyHooks } from './hooks.ts';
import { createPeerBanks } from './peer-banks.ts';
import { createBanks } from './banks.ts';
import { createHasher, type HashTasks } from './hasher.ts';
import { createSafetyIndexes } from './indexes.ts';
import { createMatcher } from './matcher.ts';
import { createPreviews } from './previews.ts';
import { createProtection } from './protect.ts';
import { createErasure } from './erasure.ts';
import { createRemoval } from './removal.ts';
import { createReviews, dismissReview } from './reviews.ts';
import { createSpreadReview } from './spread-review.ts';
import { createScreening } from './screening.ts';
import { clustersOf } from './clusters.ts';
import { createSweeps } from './sweep.ts';
import { createTakedowns } from './takedown.ts';
import { createRehash } from './rehash.ts';
import { failInterrupted, getRecord, listRecords } from './takedown-records.ts';

export interface SafetyDeps {
  db: Database;
  write: WriteWithEvents;
  blobs: BlobStore;
  clock: () => number;
  config: Config;
  log: { warn(o: object, m: string): void; error(o: object, m: string): void };
  /** Queues a `safety-sweep` job inside the caller's transaction. */
  enqueueSweep: (tx: Tx, payload: JobPayloads['safety-sweep'], options?: { runAt?: number }) => Promise<{ id: string }>;
  /**
   * Queues a `safety-rehash` job (at most one per key: its walk and page).
   * Without one, stored uploads are never re-hashed (tests that build the service alone).
   */
  enqueueRehash?: (payload: JobPayloads['safety-rehash'], dedupeKey: string) => Promise<unknown>;
  /** Hashing threads (default: one per core). */
  hashThreads?: number;
  /** Friction on what spreads too fast (messaging): a released hold shares its messages under it. */
  spread: SpreadPolicy;
  /** An account was suspended (its live connections are closed). */
  onSuspended?: (accountId: string) => void;
  /** The event bus: bank changes are announced on it, so every process's index follows at once. */
  bus?: Pick<EventBus, 'signal' | 'onSignal'> | null;
}

export function createSafety(deps: SafetyDeps) {
  const { db, write, blobs, clock, config, log } = deps;
  const pool = createThreadPool<HashTasks>({ file: new URL('./hash-tasks.ts', import.meta.url), size: deps.hashThreads ?? availableParallelism() });
  const hasher = createHasher({ pool, maxPixels: config.mediaMaxImagePixels, maxVideoSeconds: config.mediaMaxVideoSeconds });
  const indexes = createSafetyIndexes(db, { bus: deps.bus, log });
  const matcher = createMatcher({ db, indexes, pool });
  const removal = createRemoval({ db, write, blobs, indexes, clock, log });
  const hooks = createSafetyHooks(log);
  const takedowns = createTakedowns({ db, write, indexes, matcher, removal, clock, hooks });
  const banks = createBanks({ db, hasher, matcher, clock, enqueueSweep: deps.enqueueSweep, announce: indexes.announce, indexes });
  const reviews = createReviews({ db, write, takedowns, clock, spread: deps.spread, hooks });
  const spread = createSpreadReview({ db, write, takedowns, clock, policy: deps.spread, ...(deps.onSuspended ? { onSuspended: deps.onSuspended } : {}) });
  let addressSecret: Promise<Buffer> | null = null;
  const protection = createProtection({
    db,
    banks,
    enqueueSweep: deps.enqueueSweep,
    reviews,
    takedowns,
    indexes,
    config,
    clock,
    log,
    addressSecret: () => {
      addressSecret ??= serverSecret(db, 'protect-address-key', '');
      return addressSecret;
    },
    dismissHold: async (reviewId, note) => {
      const review = await db.db.selectFrom('safety_reviews').selectAll().where('id', '=', reviewId).executeTakeFirst();
      if (!review) return false;
      return write(async (tx, emit) => dismissReview(tx, emit, { review, decidedBy: null, note, now: clock(), spread: deps.spread }));
    },
  });
  const rehash = createRehash({
    db,
    hasher,
    blobs,
    indexes,
    log,
    enqueue: (payload) => deps.enqueueRehash?.(payload, `safety-rehash:${payload.run}:${payload.afterId}`) ?? Promise.resolve(),
  });
  const erasure = createErasure({ db, takedowns, matcher, clock, config, unlockCase: (reference, secret) => protection.unlock(reference, secret) });
  protection.listErasure((reference) => erasure.ofCase(reference));

  return {
    banks,
    takedowns,
    indexes,
    reviews,
    /** Spreading clusters and suspected amplification networks for the console (spread-review.ts). */
    spread,
    previews: createPreviews({ db, blobs }),
    protection,
    /** Requests to remove every copy of media a person appears in, decided by moderators (erasure.ts). */
    erasure,
    sweeps: createSweeps({ db, write, matcher, removal, clock, autoAction: config.protectTrustedAutoAction, hooks }),
    /** Follow decisions as they are made (federation shares takedowns and acknowledges decisions). */
    listen: hooks.listen,
    /** What federation's HMA-compatible exchange reads: offered banks and their PDQ/MD5 signals. */
    exchange: createExchangeReads(db),
    /** Banks of what other platforms shared (federation). */
    peerBanks: createPeerBanks({ db, write, indexes, clock, spread: deps.spread, enqueueSweep: deps.enqueueSweep }),
    /** Appends to the safety audit log (federation logs what it shares, receives and refuses there). */
    recordAudit: (entry: AuditInput) => appendAudit(db.db, entry),
    /** The media-processing hook (media/process.ts). */
    screen: createScreening({ db, hasher, matcher, indexes, clock, log, autoAction: config.protectTrustedAutoAction }),
    audit: (q: Parameters<typeof listAudit>[1]) => listAudit(db.db, q),
    /** The near-duplicate cluster of each screened media item (clusters.ts): what spread is counted by. */
    clustersOf: (mediaIds: readonly string[]) => clustersOf(db, mediaIds),
    /** Takedown records with their progress, for the console. */
    takedownRecords: {
      // A record whose process died (or whose final write failed) stops being "running" as soon
      // as anyone looks at it after a stretch with no progress, not only at the next start.
      list: async (q: Parameters<typeof listRecords>[1]) => {
        await failInterrupted(db.db, clock());
        return listRecords(db.db, q);
      },
      get: async (id: string) => {
        await failInterrupted(db.db, clock());
        return getRecord(db.db, id);
      },
    },
    /** Re-hashes stored uploads whose image sets older parameters made (rehash.ts; the `safety-rehash` job). */
    rehash,
    /**
     * Loads the indexes so the first upload does not pay for it, closes takedowns a stopped process
     * left running, and queues re-hashing when stored uploads' sets were made with other parameters.
     */
    async start() {
      await indexes.refresh();
      // In the background: on a large table the look (no index serves "other parameters") must not hold up the start.
      if (deps.enqueueRehash) {
        rehash
          .needed()
          .then((needed) => (needed ? rehash.enqueueFirst(clock()) : undefined))
          .catch((err: unknown) => log.warn({ err }, 'could not queue re-hashing of stored uploads'));
      }
      const interrupted = await failInterrupted(db.db, clock());
      if (interrupted > 0) log.warn({ takedowns: interrupted }, 'takedowns left running by a stopped process marked failed');
    },
    close: async () => {
      indexes.close();
      await Promise.all([pool.close(), spread.close()]);
    },
  };
}

export type Safety = ReturnType<typeof createSafety>;
