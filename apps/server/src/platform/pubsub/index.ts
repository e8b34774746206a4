/**
 * How committed events reach every API process's live connections. Embedded MMD runs one process,
 * so an in-process bus is enough; a scaled-out deployment swaps in a Redis-backed one. Delivery
 * here is best-effort: the sync hub fills any gap from the database, so a lost publish only
 * delays an event, never loses it.
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
  close(): Promise<void>;
}

export function createLocalEventBus(): EventBus {
  const handlers = new Set<(events: PublishedEvent[]) => void>();
  return {
    publish(events) {
      if (events.length === 0) return;
      for (const handler of handlers) handler(events);
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async close() {
      handlers.clear();
    },
  };
}
