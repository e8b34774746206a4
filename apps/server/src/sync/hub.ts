/**
 * The sync hub: delivers committed events to live connections (WebSocket streams and long-polls),
 * each exactly once and in cursor order.
 *
 * Ordering: events are dispatched strictly by cursor, and only up to the visible cursor W (see
 * platform/db: on SQLite the newest committed event; on PostgreSQL, where writers commit out of
 * cursor order, the watermark below which every event is committed or never will be). An event
 * published above W waits until W reaches it; then, if the bus skipped any event before it
 * (another process, a crash between commit and publish), the hub reads the gap from the database
 * before dispatching it. A poll catches events nobody published: every
 * second with the in-process bus (the only way one process sees another's writes), every 10 s as a
 * safety net with Redis, whose bus also asks for a read each time it reconnects (bus.onResync).
 *
 * Fan-out: conversation → live connections, so a channel post costs one lookup and one send of
 * one pre-serialised string per online subscriber, not a database write per member.
 *
 * Catch-up: a connection resuming from a cursor is registered first and buffers live events while
 * it reads the backlog and its memberships in one snapshot; then it replays the buffer past that
 * snapshot and goes live. Nothing falls between the backlog and the live feed.
 */
import { AppError } from '../errors.ts';
import { membershipsOf } from '../conversations/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';
import { type StoredEvent, eventJson, eventsBetween, eventsVisibleTo, latestCursor, visibleCursor, visibleUpTo } from './event-log.ts';
import { cursorBeforeRestore, inRestoreGap } from './restored.ts';

/** Anything that wants an account's events live. */
export interface Subscriber {
  readonly accountId: string;
  /** The device behind the connection, so revoking a device can close its connections. */
  readonly deviceId?: string | null;
  /** The API key behind the connection, so revoking the key can close its connections. */
  readonly apiKeyId?: string | null;
  /** Called once per event, in cursor order. */
  send(event: StoredEvent, json: string): void;
  /** Called when the hub gives up on the subscriber (buffer overflow, shutdown). */
  close(code: string, detail: string): void;
}

interface Live {
  sub: Subscriber;
  /** Conversation → the cursor its current stay began at (a released held message checks it). */
  conversations: Map<string, number>;
  lastSent: number;
  /** Non-null while catching up: live events wait here. */
  buffer: StoredEvent[] | null;
  closed: boolean;
}

const CATCH_UP_PAGE = 500;
const MAX_CATCH_UP_BUFFER = 100_000;
/** Events read per query while filling a gap; a gap may span many pages. */
const GAP_PAGE = 5_000;
/**
 * How soon the hub looks at W again while an event waits above it (PostgreSQL: a transaction
 * with a smaller cursor is still open). Each event received reads W anyway — the writer holding
 * W back publishes when it commits — so this is for writers that roll back or die. One read
 * serves every event waiting. (At 5 ms, a hub under steady sends read W 200 times a second.)
 */
const WATERMARK_RETRY_MS = 25;

/** Does a member whose stay began at `joinedCursor` receive this conversation event? */
function reaches(e: StoredEvent, joinedCursor: number): boolean {
  return e.members_joined_by === null || e.members_joined_by === undefined || joinedCursor <= e.members_joined_by;
}

/** Who joins or leaves a conversation because of an event. */
function membershipChange(e: StoredEvent): { joined: string[]; left: string[] } | null {
  if (e.type !== 'member.joined' && e.type !== 'member.removed' && e.type !== 'conversation.created') return null;
  const data = JSON.parse(e.payload) as { account_id?: string; member_ids?: string[] };
  if (e.type === 'conversation.created') return { joined: data.member_ids ?? [], left: [] };
  if (!data.account_id) return null;
  return e.type === 'member.joined' ? { joined: [data.account_id], left: [] } : { joined: [], left: [data.account_id] };
}

/** The answer to a cursor beyond the newest event: the client must reload and resume from the state cursor. */
export function cursorAhead(cursor: number, newest: number): AppError {
  return new AppError('cursor_expired', `cursor ${cursor} is beyond the newest event (${newest}): reload from GET /v1/updates/state`);
}

export interface SyncHub {
  start(): Promise<void>;
  /**
   * Streams the account's events after `cursor`, then live. Resolves with the snapshot cursor once
   * caught up; rejects with `cursor_expired` if `cursor` is beyond the newest event.
   */
  attach(sub: Subscriber, cursor: number): Promise<{ detach: () => void; cursor: number }>;
  /** Stops delivering to every connection of one account (device revoked, account removed). */
  closeAccount(accountId: string, code: string, detail: string, filter?: (s: Subscriber) => boolean): void;
  stats(): { live: number; catchingUp: number; dispatchedUpTo: number };
  stop(): Promise<void>;
}

export function createSyncHub(deps: {
  db: Database;
  bus: EventBus;
  pollMs?: number;
  /** Told after each live dispatch how many connections the event was written to (metrics: fan-out lag). */
  onDispatched?: (e: StoredEvent, reached: number) => void;
}): SyncHub {
  const { db, bus } = deps;
  const byConversation = new Map<string, Set<Live>>();
  const byAccount = new Map<string, Set<Live>>();
  const catchingUp = new Set<Live>();
  const pending = new Map<number, StoredEvent>();
  let dispatchedUpTo = 0;
  /** The visible cursor last read: nothing above it is dispatched. */
  let visible = 0;
  let retry: NodeJS.Timeout | null = null;
  let pumping = false;
  let unsubscribe: (() => void) | null = null;
  let unsubscribeResync: (() => void) | null = null;
  let poller: NodeJS.Timeout | null = null;
  let stopped = false;

  function index(live: Live, conversationId: string, joinedCursor: number) {
    live.conversations.set(conversationId, joinedCursor);
    let set = byConversation.get(conversationId);
    if (!set) {
      set = new Set();
      byConversation.set(conversationId, set);
    }
    set.add(live);
  }
  function unindex(live: Live, conversationId: string) {
    live.conversations.delete(conversationId);
    const set = byConversation.get(conversationId);
    if (set) {
      set.delete(live);
      if (set.size === 0) byConversation.delete(conversationId);
    }
  }

  function deliver(live: Live, e: StoredEvent, json: () => string): number {
    if (live.closed || e.id <= live.lastSent) return 0;
    live.lastSent = e.id;
    live.sub.send(e, json());
    return 1;
  }

  function dispatch(e: StoredEvent) {
    dispatchedUpTo = Math.max(dispatchedUpTo, e.id);
    let cached: string | null = null;
    const json = () => (cached ??= eventJson(e));
    for (const live of catchingUp) {
      live.buffer!.push(e);
      if (live.buffer!.length > MAX_CATCH_UP_BUFFER) drop(live, 'overloaded', 'too many events while catching up; reconnect');
    }
    const change = membershipChange(e);
    if (change && e.conversation_id) {
      for (const accountId of change.joined) {
        for (const live of byAccount.get(accountId) ?? []) if (!live.buffer) index(live, e.conversation_id, e.id);
      }
    }
    let reached = 0;
    // A conversation event addressed to one account (a channel subscriber's own join) is for it alone.
    if (e.conversation_id && !e.target_account_id) {
      for (const live of byConversation.get(e.conversation_id) ?? []) {
        if (reaches(e, live.conversations.get(e.conversation_id) ?? 0)) reached += deliver(live, e, json);
      }
    }
    if (e.target_account_id) {
      for (const live of byAccount.get(e.target_account_id) ?? []) if (!live.buffer) reached += deliver(live, e, json);
    }
    deps.onDispatched?.(e, reached);
    if (change && e.conversation_id) {
      // Removed members see their own removal (delivered above), then nothing more.
      for (const accountId of change.left) {
        for (const live of byAccount.get(accountId) ?? []) unindex(live, e.conversation_id);
      }
    }
  }

  /** Dispatches, in cursor order, what is pending up to W, reading the gaps before it. */
  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (!stopped) {
        let next = Number.POSITIVE_INFINITY;
        for (const id of pending.keys()) if (id < next) next = id;
        if (next <= dispatchedUpTo) {
          pending.delete(next);
          continue;
        }
        // Everything pending is dispatched, and W asks for nothing more: done.
        if (next === Number.POSITIVE_INFINITY && visible <= dispatchedUpTo) break;
        if (next !== Number.POSITIVE_INFINITY && next > visible) {
          // Null (SQLite): cursors become visible in commit order, so a published event and
          // everything before it are visible already.
          const w = await db.eventWatermark();
          visible = Math.max(visible, w ?? next);
          if (next > visible && visible <= dispatchedUpTo) {
            // A smaller cursor is still being written: look again shortly.
            retry ??= setTimeout(() => {
              retry = null;
              void pump();
            }, WATERMARK_RETRY_MS);
            break;
          }
        }
        // Fill the whole gap up to `next` (or to W, when W is below it), page by page: another
        // process may have written any number of events that this one never saw published.
        const until = Math.min(next, visible + 1);
        while (until > dispatchedUpTo + 1 && !stopped) {
          const missed = await eventsBetween(db.db, { after: dispatchedUpTo, before: until, limit: GAP_PAGE });
          for (const m of missed) {
            pending.delete(m.id);
            dispatch(m);
          }
          if (missed.length < GAP_PAGE) {
            // The rest of the gap holds no event (rolled back, or not this log's).
            dispatchedUpTo = Math.max(dispatchedUpTo, until - 1);
            break;
          }
        }
        if (stopped) break;
        if (next <= visible) {
          const e = pending.get(next)!;
          pending.delete(next);
          dispatch(e);
        }
      }
    } catch (err) {
      // The database is unavailable: keep what we have; the poller retries.
      console.error('sync hub: gap fill failed', err);
    } finally {
      pumping = false;
    }
  }

  function receive(events: StoredEvent[]) {
    for (const e of events) if (e.id > dispatchedUpTo) pending.set(e.id, e);
    void pump();
  }

  /** Reads W and has the pump dispatch up to it; false when it could not (busy, database away). */
  async function poll(): Promise<boolean> {
    if (pumping || stopped) return false;
    try {
      const newest = await visibleCursor(db);
      visible = Math.max(visible, newest);
      if (newest <= dispatchedUpTo || pumping) return !pumping;
      await pump();
      return true;
    } catch {
      // Transient; next tick tries again.
      return false;
    }
  }

  /** The bus may have missed publishes (it reconnected): read until one poll got through. */
  function resync(tries = 40) {
    void poll().then((ran) => {
      if (!ran && !stopped && tries > 1) setTimeout(() => resync(tries - 1), 250).unref();
    });
  }

  function drop(live: Live, code: string, detail: string) {
    if (live.closed) return;
    detach(live);
    live.sub.close(code, detail);
  }

  function detach(live: Live) {
    if (live.closed) return;
    live.closed = true;
    catchingUp.delete(live);
    for (const c of [...live.conversations.keys()]) unindex(live, c);
    const set = byAccount.get(live.sub.accountId);
    set?.delete(live);
    if (set && set.size === 0) byAccount.delete(live.sub.accountId);
  }

  return {
    async start() {
      dispatchedUpTo = await visibleCursor(db);
      visible = dispatchedUpTo;
      unsubscribe = bus.subscribe(receive);
      unsubscribeResync = bus.onResync(() => resync());
      poller = setInterval(() => void poll(), deps.pollMs ?? bus.pollMs);
      poller.unref();
    },

    async attach(sub, cursor) {
      const live: Live = { sub, conversations: new Map(), lastSent: cursor, buffer: [], closed: false };
      let set = byAccount.get(sub.accountId);
      if (!set) {
        set = new Set();
        byAccount.set(sub.accountId, set);
      }
      set.add(live);
      catchingUp.add(live);
      const handle = { detach: () => detach(live), cursor };
      try {
        if (await inRestoreGap(db.db, cursor)) throw cursorBeforeRestore(cursor);
        for (;;) {
          // W is read before the snapshot opens, so the snapshot holds every event up to it.
          const upTo = await visibleUpTo(db);
          const page = await db.readTransaction(async (tx) => {
            const events = await eventsVisibleTo(tx, { accountId: sub.accountId, after: live.lastSent, upTo, limit: CATCH_UP_PAGE });
            if (events.length === CATCH_UP_PAGE) return { events, snapshot: null };
            const conversations = await membershipsOf(tx, sub.accountId);
            const newest = await latestCursor(tx);
            return { events, snapshot: { cursor: upTo ?? newest, newest, conversations } };
          });
          if (live.closed) return handle;
          for (const e of page.events) {
            live.lastSent = e.id;
            sub.send(e, eventJson(e));
            if (live.closed) return handle;
          }
          if (!page.snapshot) continue;
          // A cursor the log has not reached was handed out by a log this one is not (a restore
          // from a backup): following from it would skip every event up to it. Say so instead.
          if (page.snapshot.newest < cursor) throw cursorAhead(cursor, page.snapshot.newest);
          // From here to going live runs without awaiting, so no event can slip between.
          const snapshot = page.snapshot;
          const conversations = new Map(snapshot.conversations.map((m) => [m.conversationId, m.joinedCursor]));
          live.lastSent = Math.max(live.lastSent, snapshot.cursor);
          const buffered = live.buffer!;
          live.buffer = null;
          catchingUp.delete(live);
          for (const e of buffered) {
            if (e.id <= snapshot.cursor) continue;
            const change = membershipChange(e);
            const mine = change && e.conversation_id && change.joined.includes(sub.accountId);
            if (mine) conversations.set(e.conversation_id!, e.id);
            const joinedCursor = e.conversation_id ? conversations.get(e.conversation_id) : undefined;
            const visible = (e.conversation_id && !e.target_account_id && joinedCursor !== undefined && reaches(e, joinedCursor)) || e.target_account_id === sub.accountId;
            if (visible) deliver(live, e, () => eventJson(e));
            if (change && e.conversation_id && change.left.includes(sub.accountId)) conversations.delete(e.conversation_id);
          }
          for (const [c, joinedCursor] of conversations) index(live, c, joinedCursor);
          handle.cursor = live.lastSent;
          return handle;
        }
      } catch (err) {
        detach(live);
        throw err;
      }
    },

    closeAccount(accountId, code, detail, filter) {
      for (const live of [...(byAccount.get(accountId) ?? [])]) if (!filter || filter(live.sub)) drop(live, code, detail);
    },

    stats() {
      let live = 0;
      for (const s of byAccount.values()) live += s.size;
      return { live, catchingUp: catchingUp.size, dispatchedUpTo };
    },

    async stop() {
      stopped = true;
      unsubscribe?.();
      unsubscribeResync?.();
      if (poller) clearInterval(poller);
      if (retry) clearTimeout(retry);
      for (const set of [...byAccount.values()]) for (const live of [...set]) drop(live, 'shutting_down', 'server is stopping');
    },
  };
}
