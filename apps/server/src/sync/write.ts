import type { Database, Tx } from '../platform/db/index.ts';
import type { EventBus } from '../platform/pubsub/index.ts';
import { type NewEvent, type StoredEvent, appendEvent } from './event-log.ts';

export type Emit = (event: NewEvent) => Promise<StoredEvent>;
/** Runs a write transaction whose events are published once it has committed. */
export type WriteWithEvents = <T>(fn: (tx: Tx, emit: Emit) => Promise<T>) => Promise<T>;

/**
 * Publishing only after commit means a live client never sees an event that could still roll
 * back; if the process dies between commit and publish, the hub's poll finds the event anyway.
 */
export function createEventWriter(db: Database, bus: EventBus): WriteWithEvents {
  return async (fn) => {
    const events: StoredEvent[] = [];
    const result = await db.writeTransaction((tx) =>
      fn(tx, async (e) => {
        const stored = await appendEvent(tx, e);
        events.push(stored);
        return stored;
      }),
    );
    // After the caller has its answer: a channel post's fan-out to every online subscriber must
    // not hold up the poster's 201. Order is safe — the hub dispatches by cursor, whatever order
    // publishes arrive in.
    if (events.length > 0) setImmediate(() => bus.publish(events));
    return result;
  };
}
