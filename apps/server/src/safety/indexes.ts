/**
 * The two near-duplicate indexes every process keeps in memory: bank signals (what uploads are
 * checked against) and stored uploads (what takedowns and sweeps search). Both are loaded from the
 * database on first use and then follow it by id: signal and media-hash ids are assigned in
 * commit order (their writers take one lock, store.ts SAFETY_ORDERED_IDS), so "rows with id >
 * the last seen" is exactly what is new.
 *
 * Several processes (a cluster): a process that adds or removes bank signals says so on the event
 * bus after its commit (`announce`, topic `safety-index`), and every process then reads what is
 * new since its cursors: the rows added, and the removals logged in `safety_signal_removals`
 * (its ids too are assigned in commit order), whose signals it drops from its index. Nobody
 * rebuilds: a change costs each process one indexed read of the changed rows. The bus is only the
 * prompt; the database is the record: each process also refreshes before every screening, match,
 * sweep and takedown (the same reads, usually empty), so a lost announcement delays nothing, and
 * a candidate whose signal row is gone never matches (searches re-read candidates). Stored
 * uploads are removed only by takedowns: the process doing one drops the items at once, others
 * drop them when a search meets a row marked removed.
 */
import type { Hash256, RobustScheme } from '@mmd/phash';
import { hash256FromHex, ROBUST_PARAMS, robustSchemeOf } from '@mmd/phash';
import type { Database } from '../platform/db/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';
import { decodeHashList, parseVideoSignature, parseVpdqAny, readStoredRobust, sampleFrames, usableFrames, videoSignalKeys } from './hash-codec.ts';
import { GroupIndex } from './group-index.ts';

/** Frames of a video kept in an index: enough that a copy shares some, few enough to stay small. */
export const INDEXED_FRAMES = 32;
/** Anchors of a stored upload's reference set kept in the media index (its own scale). */
const INDEXED_MEDIA_ANCHORS = 20;
/**
 * Anchors of a stored upload's query set kept in the media index, per magnification the query
 * tried: what lets a new bank signal or a new upload (hashed as a reference, at its own scale)
 * find an earlier upload that is a crop of it, which only lines up at the crop's magnification.
 * The strongest few per magnification are enough to make it a candidate; verification then
 * uses the whole stored set.
 */
const INDEXED_MEDIA_QUERY_ANCHORS = 4;
const PAGE = 2000;

/** The hashes of a bank signal that go into the index (exact kinds are looked up in SQL). */
export function signalIndexHashes(row: { type: string; value: string; robust: string | null }): Hash256[] {
  if (row.type === 'pdq') {
    const robust = readStoredRobust(row.robust);
    if (!robust) return [hash256FromHex(row.value)];
    return [...robust.global, ...robust.centre, ...robust.anchors.map((a) => a.hash)];
  }
  if (row.type === 'vpdq') {
    const frames = sampleFrames(usableFrames(parseVpdqAny(row.value)), INDEXED_FRAMES).map((f) => f.hash);
    const signature = parseVideoSignature(row.robust);
    return signature ? [...frames, ...videoSignalKeys(signature)] : frames;
  }
  return [];
}

/** The robust scheme of a bank signal's image set; null when it has none (a plain PDQ hash matches in any scheme). */
export function signalScheme(row: { type: string; robust: string | null }): RobustScheme | null {
  if (row.type !== 'pdq') return null;
  // An unreadable set (or one of a scheme this build does not know) is matched by its plain value.
  const robust = readStoredRobust(row.robust);
  return robust ? robustSchemeOf(robust) : null;
}

/** The hashes of a stored upload that go into the index. */
export function mediaIndexHashes(row: { reference: string | null; query?: string | null; vpdq: string | null; video_keys?: string | null }): Hash256[] {
  const robust = readStoredRobust(row.reference);
  if (robust) {
    const magnified = new Map<number, Hash256[]>();
    for (const a of readStoredRobust(row.query ?? null)?.anchors ?? []) {
      if ((a.scale ?? 1) === 1) continue; // the reference's own anchors cover magnification 1
      const list = magnified.get(a.scale!) ?? [];
      if (list.length < INDEXED_MEDIA_QUERY_ANCHORS) magnified.set(a.scale!, [...list, a.hash]);
    }
    return [...robust.global, ...robust.centre, ...robust.anchors.slice(0, INDEXED_MEDIA_ANCHORS).map((a) => a.hash), ...[...magnified.values()].flat()];
  }
  if (row.vpdq) return [...sampleFrames(usableFrames(parseVpdqAny(row.vpdq)), INDEXED_FRAMES).map((f) => f.hash), ...decodeHashList(row.video_keys ?? null)];
  return [];
}

/**
 * Bulk loading rebuilds the whole index once: right for a big batch (the first load), wrong for
 * the handful of rows a refresh usually brings (a rebuild per upload would cost the index's size).
 */
function put(index: GroupIndex, groups: Array<readonly [number, Hash256[]]>) {
  if (groups.length >= Math.max(1000, index.size / 8)) index.addMany(groups);
  else for (const [group, hashes] of groups) index.add(group, hashes);
}

const TOPIC = 'safety-index';

export function createSafetyIndexes(db: Database, options: { bus?: Pick<EventBus, 'signal' | 'onSignal'> | null; log?: { warn(o: object, m: string): void } } = {}) {
  const banks = new GroupIndex();
  const media = new GroupIndex();
  /** Bank signals whose image sets were made in a scheme older than this build's (by signal id). */
  const olderSchemeSignals = new Map<number, RobustScheme>();
  let signalCursor = 0;
  let mediaCursor = 0;
  /** The last removal applied; null until the first load reads where the log stands. */
  let removalCursor: number | null = null;
  let chain: Promise<void> = Promise.resolve();
  let queued: Promise<void> | null = null;

  const newestRemoval = async () => Number((await db.db.selectFrom('safety_signal_removals').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst())?.id ?? 0);

  async function load(): Promise<void> {
    // Removals first: on the first load, every signal removed up to here is already gone from the
    // rows read below; one removed later is applied by the next load (removing an absent group is
    // a no-op, so the order never loses one).
    if (removalCursor === null) removalCursor = await newestRemoval();
    else {
      for (;;) {
        const rows = await db.db.selectFrom('safety_signal_removals').select(['id', 'signal_id']).where('id', '>', removalCursor).orderBy('id').limit(PAGE).execute();
        for (const r of rows) {
          banks.remove(Number(r.signal_id));
          olderSchemeSignals.delete(Number(r.signal_id));
        }
        if (rows.length > 0) removalCursor = Number(rows[rows.length - 1]!.id);
        if (rows.length < PAGE) break;
      }
    }
    for (;;) {
      const rows = await db.db
        .selectFrom('safety_signals')
        .select(['id', 'type', 'value', 'robust'])
        .where('id', '>', signalCursor)
        .orderBy('id')
        .limit(PAGE)
        .execute();
      if (rows.length === 0) break;
      put(banks, rows.map((r) => [Number(r.id), signalIndexHashes(r)] as const));
      for (const r of rows) {
        const scheme = signalScheme(r);
        if (scheme !== null && scheme !== ROBUST_PARAMS.scheme) olderSchemeSignals.set(Number(r.id), scheme);
      }
      signalCursor = Number(rows[rows.length - 1]!.id);
      if (rows.length < PAGE) break;
    }
    for (;;) {
      const rows = await db.db
        .selectFrom('safety_media_hashes')
        .select(['id', 'reference', 'query', 'vpdq', 'video_keys', 'removed_at'])
        .where('id', '>', mediaCursor)
        .orderBy('id')
        .limit(PAGE)
        .execute();
      if (rows.length === 0) break;
      put(media, rows.filter((r) => r.removed_at === null).map((r) => [Number(r.id), mediaIndexHashes(r)] as const));
      mediaCursor = Number(rows[rows.length - 1]!.id);
      if (rows.length < PAGE) break;
    }
  }

  const refresh = (): Promise<void> => {
    if (queued) return queued;
    const next = chain.then(() => {
      queued = null;
      return load();
    });
    queued = next;
    chain = next.catch(() => {});
    return next;
  };
  // Another process changed the banks: read the change now, not at the next screening.
  const stopListening = options.bus?.onSignal(TOPIC, () => {
    refresh().catch((err: unknown) => options.log?.warn({ err }, 'safety index refresh failed'));
  });

  return {
    banks,
    media,
    /**
     * Tells every process (this one too) that bank signals were added or removed; call after the
     * commit. Without a bus, this process refreshes.
     */
    announce(): void {
      if (options.bus) options.bus.signal(TOPIC, '');
      else refresh().catch((err: unknown) => options.log?.warn({ err }, 'safety index refresh failed'));
    },
    /**
     * Brings both indexes up to every row committed before the call. Calls made while a load is
     * running share the next load (which starts after it), never the running one, which may have
     * read before their caller's commit.
     */
    refresh,
    /**
     * Puts a stored upload's re-hashed sets in place of its old ones in this process's media index
     * (rehash.ts). A row removed meanwhile that this re-adds is dropped again by the next search
     * that meets it, as in other processes.
     */
    replaceMedia(id: number, row: Parameters<typeof mediaIndexHashes>[0]): Promise<void> {
      // After any load under way, which may have read the row before the caller's update; a row
      // past the cursor then is read, as it is now, by the next load.
      const apply = () => {
        if (id > mediaCursor) return;
        media.remove(id);
        media.add(id, mediaIndexHashes(row));
      };
      const done = chain.then(apply, apply);
      chain = done.catch(() => {});
      return done;
    },
    /**
     * The older robust schemes bank signals' image sets were made in (as of the last refresh): an
     * upload's query set is made in each of them too, so those signals keep matching crops and
     * edits, not only whole-picture copies. Empty once every such signal is gone.
     */
    olderBankSchemes(): RobustScheme[] {
      return [...new Set(olderSchemeSignals.values())].sort();
    },
    close(): void {
      stopListening?.();
    },
    stats() {
      return { signals: banks.size, signalHashes: banks.hashCount, media: media.size, mediaHashes: media.hashCount, olderSchemeSignals: olderSchemeSignals.size };
    },
  };
}

export type SafetyIndexes = ReturnType<typeof createSafetyIndexes>;
