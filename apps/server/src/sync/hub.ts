/**
 * The sync hub: delivers committed events to live connections (WebSocket streams and long-polls),
 * each exactly once and in cursor order.
 *
 * Ordering: events are dispatched strictly by cursor. Cursors become visible in commit order (see
 * platform/db), so when event N arrives every event before N is already committed or never will
 * be; if the bus skipped any (another process, a crash between commit and publish), the hub reads
 * the gap from the database before dispatching N. A poll catches events nobody published: every
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
import { type StoredEvent, eventJson, eventsBetween, eventsVisibleTo, latestCursor } from './event-log.ts';
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

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (pending.size > 0 && !stopped) {
        let next = Number.POSITIVE_INFINITY;
        for (const id of pending.keys()) if (id < next) next = id;
        const e = pending.get(next)!;
        pending.delete(next);
        if (next <= dispatchedUpTo) continue;
        // Fill the whole gap before dispatching `next`, page by page: another process may have
        // written any number of events that this one never saw published.
        while (next > dispatchedUpTo + 1 && !stopped) {
          const missed = await eventsBetween(db.db, { after: dispatchedUpTo, before: next, limit: GAP_PAGE });
          for (const m of missed) {
            pending.delete(m.id);
            dispatch(m);
          }
          if (missed.length < GAP_PAGE) break;
        }
        if (stopped) break;
        dispatch(e);
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

  /** Reads the newest cursor and hands it to the pump; false when it could not (busy, database away). */
  async function poll(): Promise<boolean> {
    if (pumping || stopped) return false;
    try {
      // The pump fills any gap before the newest event, so handing it the newest one is enough.
      const newest = await latestCursor(db.db);
      if (newest <= dispatchedUpTo || pumping) return !pumping;
      const [last] = await eventsBetween(db.db, { after: newest - 1, before: newest + 1, limit: 1 });
      if (last) receive([last]);
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
      dispatchedUpTo = await latestCursor(db.db);
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
          const page = await db.readTransaction(async (tx) => {
            const events = await eventsVisibleTo(tx, { accountId: sub.accountId, after: live.lastSent, limit: CATCH_UP_PAGE });
            if (events.length === CATCH_UP_PAGE) return { events, snapshot: null };
            const conversations = await membershipsOf(tx, sub.accountId);
            return { events, snapshot: { cursor: await latestCursor(tx), conversations } };
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
          if (page.snapshot.cursor < cursor) throw cursorAhead(cursor, page.snapshot.cursor);
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
      for (const set of [...byAccount.values()]) for (const live of [...set]) drop(live, 'shutting_down', 'server is stopping');
    },
  };
}
