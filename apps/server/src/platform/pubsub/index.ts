/**
 * How committed events reach every API process's live connections. Embedded MMD runs one process,
 * so an in-process bus is enough; a scaled-out deployment sets MMD_REDIS_URL and gets the Redis
 * bus (redis-bus.ts). Delivery here is best-effort: the sync hub fills any gap from the database,
 * so a lost publish only delays an event, never loses it.
 */
export interface PublishedEvent {
  id: number;
  conversation_id: string | null;
  target_account_id: string | null;
  type: string;
  seq: number | null;
  payload: string;
  created_at: number;
  /** Only members whose current stay began at or before this cursor see it (null: all). */
  members_joined_by?: number | null;
}

export interface EventBus {
  publish(events: PublishedEvent[]): void;
  subscribe(handler: (events: PublishedEvent[]) => void): () => void;
  /**
   * Ephemeral messages to every process (typing indicators, "close this device's sockets"):
   * never stored, never replayed; each process's handlers for `topic` get `message`, this one's too.
   */
  signal(topic: string, message: string): void;
  onSignal(topic: string, handler: (message: string) => void): () => void;
  /** Handlers run when this process may have missed publishes (the bus reconnected). */
  onResync(handler: () => void): () => void;
  /**
   * How often the sync hub reads the database for events nobody published to it. With the local
   * bus that poll is how one process sees another's writes (1 s); with Redis it is a safety net.
   */
  readonly pollMs: number;
  close(): Promise<void>;
}

/** The handler sets a bus keeps, delivering in this process; the Redis bus builds on it. */
export function createLocalEventBus(options: { pollMs?: number } = {}): EventBus & {
  /** Hands events or a signal to this process's handlers only (what arrived from elsewhere). */
  deliver(events: PublishedEvent[]): void;
  deliverSignal(topic: string, message: string): void;
  resync(): void;
} {
  const handlers = new Set<(events: PublishedEvent[]) => void>();
  const signals = new Map<string, Set<(message: string) => void>>();
  const resyncs = new Set<() => void>();
  const deliver = (events: PublishedEvent[]) => {
    if (events.length === 0) return;
    for (const handler of handlers) handler(events);
  };
  const deliverSignal = (topic: string, message: string) => {
    for (const handler of signals.get(topic) ?? []) handler(message);
  };
  return {
    pollMs: options.pollMs ?? 1000,
    deliver,
    deliverSignal,
    resync() {
      for (const handler of resyncs) handler();
    },
    publish: deliver,
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    signal: deliverSignal,
    onSignal(topic, handler) {
      let set = signals.get(topic);
      if (!set) {
        set = new Set();
        signals.set(topic, set);
      }
      set.add(handler);
      return () => set.delete(handler);
    },
    onResync(handler) {
      resyncs.add(handler);
      return () => resyncs.delete(handler);
    },
    async close() {
      handlers.clear();
      signals.clear();
      resyncs.clear();
    },
  };
}

export { createRedisEventBus } from './redis-bus.ts';
