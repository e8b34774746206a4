import { sql } from 'kysely';
import { type Database, type Tx, rolledBackToSavepoint } from '../platform/db/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';
import { type NewEvent, type StoredEvent, appendEvent, appendEvents } from './event-log.ts';

/**
 * Appends an event in the transaction. A writer's `emit` also has `many`: a batch of events in
 * one statement per 250 (each still shown to every tap), for callers that write thousands.
 */
export interface Emit {
  (event: NewEvent): Promise<StoredEvent>;
  many?: (events: readonly NewEvent[]) => Promise<StoredEvent[]>;
}

/** Emits a batch: through `emit.many` where the writer has it, else one by one. */
export async function emitAll(emit: Emit, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  if (emit.many) return emit.many(events);
  const out: StoredEvent[] = [];
  for (const e of events) out.push(await emit(e));
  return out;
}
/**
 * Runs `fn` under a savepoint of the transaction: if it throws, its writes *and its events* are
 * undone and the transaction goes on (a batch where one item's refusal must not undo the others;
 * on PostgreSQL a failed statement otherwise aborts the whole transaction). One at a time: nested
 * is fine, concurrent ones in one transaction are not.
 */
export type Savepoint = <T>(fn: () => Promise<T>) => Promise<T>;
/** Runs a write transaction whose events are published once it has committed. */
export type WriteWithEvents = <T>(fn: (tx: Tx, emit: Emit, savepoint: Savepoint) => Promise<T>) => Promise<T>;
/**
 * Sees every event inside the transaction that writes it, so durable follow-up work (a job) is
 * enqueued exactly when the event commits: nothing is lost to a crash between commit and a
 * listener, as an in-memory hub listener would be. A tap must stay cheap (it runs on the write
 * path). Events it writes with `emit` (its third argument) commit and publish with the
 * transaction but are not shown to any tap, so no tap can start a chain of events.
 */
export interface EventTap {
  (tx: Tx, event: { stored: StoredEvent; event: NewEvent }, emit: Emit): Promise<void>;
  /**
   * The same for a batch written by `emit.many`, in one go (a read once per batch instead of once
   * per event). Only for a tap whose work neither depends on nor affects the other taps': it
   * runs before them, for the whole batch.
   */
  many?: (tx: Tx, events: readonly { stored: StoredEvent; event: NewEvent }[], emit: Emit) => Promise<void>;
}

/**
 * Publishing only after commit means a live client never sees an event that could still roll
 * back; if the process dies between commit and publish, the hub's poll finds the event anyway.
 */
export function createEventWriter(db: Database, bus: Pick<EventBus, 'publish'>, taps: readonly EventTap[] = []): WriteWithEvents {
  return async (fn) => {
    const events: StoredEvent[] = [];
    const result = await db.writeTransaction((tx) => {
      const untapped: Emit = async (e) => {
        const stored = await appendEvent(tx, e);
        events.push(stored);
        return stored;
      };
      // Named by depth: the same few statements (prepared once), and ROLLBACK TO finds the innermost.
      let depth = 0;
      const savepoint: Savepoint = async (inner) => {
        depth += 1;
        const name = sql.raw(`mmd_sp_${depth}`);
        const mark = events.length;
        await sql`savepoint ${name}`.execute(tx);
        let result: Awaited<ReturnType<typeof inner>>;
        try {
          result = await inner();
        } catch (err) {
          await sql`rollback to savepoint ${name}`.execute(tx);
          await sql`release savepoint ${name}`.execute(tx);
          // Locks taken inside it went with it (PostgreSQL): the next event write takes its mark again.
          rolledBackToSavepoint(tx);
          // Its events were rolled back with it: they must never be published.
          events.length = mark;
          depth -= 1;
          throw err;
        }
        await sql`release savepoint ${name}`.execute(tx);
        depth -= 1;
        return result;
      };
      const emit: Emit = async (e) => {
        const stored = await untapped(e);
        // Read at each call, not captured: app.ts adds taps once the capabilities they call exist.
        for (const tap of taps) await tap(tx, { stored, event: e }, untapped);
        return stored;
      };
      emit.many = async (list) => {
        const stored = await appendEvents(tx, list);
        events.push(...stored);
        const items = stored.map((e, i) => ({ stored: e, event: list[i]! }));
        for (const tap of taps) if (tap.many) await tap.many(tx, items, untapped);
        for (const item of items) for (const tap of taps) if (!tap.many) await tap(tx, item, untapped);
        return stored;
      };
      return fn(tx, emit, savepoint);
    });
    // After the caller has its answer: a channel post's fan-out to every online subscriber must
    // not hold up the poster's 201. Order is safe — the hub dispatches by cursor, whatever order
    // publishes arrive in.
    if (events.length > 0) setImmediate(() => bus.publish(events));
    return result;
  };
}
