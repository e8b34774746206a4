/**
 * Media items (signed rendition URLs) for the web app, fetched through the SDK once per item and
 * shared by every view of it. A chat shows the same photo in a bubble, a reply quote and the viewer:
 * one request. URLs expire (`expires_at`), so an item in view is refetched shortly before; an item
 * still processing is polled about once a second; a summary whose status moved on (a `media.updated`
 * event patched the message) invalidates what is cached.
 */
import type { MediaItem, MediaSummary, MmdClient } from '@mmd/sdk';
import { MmdError } from '@mmd/sdk';
import { useCallback, useEffect, useSyncExternalStore } from 'react';

/**
 * Refetch this long before the URLs stop working (a video may still be fetching ranges), or a fifth
 * of the URLs' lifetime when the server signs them for less than 25 minutes.
 */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const POLL_MS = 1000;
/** Items nobody looks at are forgotten past this many, oldest first. */
const MAX_IDLE_ENTRIES = 300;

export interface MediaState {
  item: MediaItem | null;
  /** The last fetch failed (and nothing usable is cached); `status` 404 means gone or not allowed. */
  error: MmdError | null;
}

interface Entry {
  state: MediaState;
  inflight: Promise<void> | null;
  listeners: Set<() => void>;
  timer: ReturnType<typeof setTimeout> | null;
  failures: number;
  /** Set by invalidate: the cached item may be outdated even if its URLs are fresh. */
  stale: boolean;
  /** When the cached item was fetched (its URLs' lifetime is expires_at minus this). */
  fetchedAt: number;
  lastUsed: number;
}

const EMPTY: MediaState = { item: null, error: null };

/** One cache per client (per signed-in account): another account must not reuse signed URLs. */
export class MediaCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly client: MmdClient) {}

  /** The current state of an item; a stable object between changes (for useSyncExternalStore). */
  peek(id: string): MediaState {
    return this.entries.get(id)?.state ?? EMPTY;
  }

  /** Follows an item: fetches it if needed and keeps it fresh while anyone is subscribed. */
  subscribe(id: string, listener: () => void): () => void {
    const entry = this.entry(id);
    entry.listeners.add(listener);
    this.ensure(id, entry);
    return () => {
      entry.listeners.delete(listener);
      entry.lastUsed = Date.now();
      if (entry.listeners.size === 0 && entry.timer) {
        clearTimeout(entry.timer);
        entry.timer = null;
      }
      this.evict();
    };
  }

  /** Marks an item outdated (its status changed, or a URL failed to load) and refetches it if in view. */
  invalidate(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.stale = true;
    entry.failures = 0;
    if (entry.listeners.size > 0) this.ensure(id, entry);
  }

  /** A message summary says the item is now `status`: refetch if the cached item says otherwise. */
  noteStatus(id: string, status: MediaSummary['status']): void {
    const cached = this.entries.get(id)?.state.item;
    // The API reports removed items as 404 and never says "removed"; held and failed compare directly.
    if (cached && cached.status !== status) this.invalidate(id);
  }

  private entry(id: string): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { state: EMPTY, inflight: null, listeners: new Set(), timer: null, failures: 0, stale: true, fetchedAt: 0, lastUsed: Date.now() };
      this.entries.set(id, entry);
    }
    return entry;
  }

  /** Fetches now if the cached item is missing, stale or about to expire; then plans the next look. */
  private ensure(id: string, entry: Entry): void {
    if (entry.inflight !== null) return;
    if (!this.needsFetch(entry)) {
      this.plan(id, entry);
      return;
    }
    if (entry.timer) {
      clearTimeout(entry.timer);
      entry.timer = null;
    }
    entry.inflight = this.client
      .media(id)
      .then((item) => {
        entry.fetchedAt = Date.now();
        entry.failures = 0;
        entry.stale = false;
        this.set(entry, { item, error: null });
      })
      .catch((err: unknown) => {
        entry.failures += 1;
        entry.stale = false;
        const error = err instanceof MmdError ? err : new MmdError(0, null, String(err));
        // A 404 means removed (or no longer ours to see): drop the URLs, they would fail anyway.
        this.set(entry, { item: error.status === 404 ? null : entry.state.item, error });
      })
      .finally(() => {
        entry.inflight = null;
        this.plan(id, entry);
      });
  }

  private needsFetch(entry: Entry): boolean {
    const { item, error } = entry.state;
    if (entry.stale) return true;
    if (!item) return !error;
    if (item.status === 'processing') return false; // the poll timer decides when
    return item.expires_at !== undefined && item.expires_at - Date.now() < margin(entry, item.expires_at);
  }

  /** Schedules the next fetch for an item in view: poll while processing, renew before expiry, retry errors. */
  private plan(id: string, entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.listeners.size === 0) return;
    const { item, error } = entry.state;
    let delay: number | null = null;
    if (error && !item) {
      // Not found / forbidden will not change by asking again; network trouble might.
      if (error.status !== 404 && error.status !== 403 && error.status !== 401) delay = Math.min(30_000, 1000 * 2 ** entry.failures);
    } else if (item?.status === 'processing') {
      delay = POLL_MS;
    } else if (item?.expires_at !== undefined) {
      delay = Math.max(1000, item.expires_at - margin(entry, item.expires_at) - Date.now());
    }
    if (delay === null) return;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      entry.stale = true;
      this.ensure(id, entry);
    }, delay);
  }

  private set(entry: Entry, state: MediaState): void {
    entry.state = state;
    for (const listener of [...entry.listeners]) listener();
  }

  private evict(): void {
    if (this.entries.size <= MAX_IDLE_ENTRIES) return;
    const idle = [...this.entries].filter(([, e]) => e.listeners.size === 0 && !e.inflight).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [id] of idle.slice(0, this.entries.size - MAX_IDLE_ENTRIES)) this.entries.delete(id);
  }
}

function margin(entry: Entry, expiresAt: number): number {
  return Math.min(REFRESH_MARGIN_MS, (expiresAt - entry.fetchedAt) / 5);
}

const caches = new WeakMap<MmdClient, MediaCache>();

/** The cache for a client (one per signed-in session). */
export function mediaCacheFor(client: MmdClient): MediaCache {
  let cache = caches.get(client);
  if (!cache) {
    cache = new MediaCache(client);
    caches.set(client, cache);
  }
  return cache;
}

/**
 * The full media item (signed URLs) behind a summary, kept fresh while the component is mounted.
 * Pass `null` as the id to fetch nothing (e.g. a removed item). `invalidate` asks again, e.g. when
 * an image failed to load because its URL had expired.
 */
export function useMediaItem(client: MmdClient, id: string | null, status?: MediaSummary['status']): MediaState & { invalidate(): void } {
  const cache = mediaCacheFor(client);
  const subscribe = useCallback((listener: () => void) => (id ? cache.subscribe(id, listener) : () => {}), [cache, id]);
  const getSnapshot = useCallback(() => (id ? cache.peek(id) : EMPTY), [cache, id]);
  const state = useSyncExternalStore(subscribe, getSnapshot);
  useEffect(() => {
    if (id && status) cache.noteStatus(id, status);
  }, [cache, id, status]);
  const invalidate = useCallback(() => {
    if (id) cache.invalidate(id);
  }, [cache, id]);
  return { ...state, invalidate };
}
