/**
 * The Redis connection of a scaled-out MMD (MMD_REDIS_URL): one client per process for the event
 * bus's publishes, shared rate limits and (in the worker) job queues; each of those that needs a
 * connection of its own (a subscriber, a blocking queue reader) duplicates it.
 */
import { Redis } from 'ioredis';

export type { Redis };

/**
 * Opens a client. `maxRetriesPerRequest: null` keeps commands queued while Redis reconnects
 * instead of failing them after 20 tries (BullMQ requires it); callers that must not wait (rate
 * limits) bound their own commands.
 */
export function openRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, connectionName: 'mmd' });
}

/** The prefix of every key and channel of one MMD: MMDs sharing a Redis (one per schema) never meet. */
export function redisPrefix(schema: string): string {
  return `mmd:${schema}:`;
}
