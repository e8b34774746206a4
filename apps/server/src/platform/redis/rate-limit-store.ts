/**
 * @fastify/rate-limit's counters in Redis, so every API process counts against one limit (a
 * client spreading its logins over the nodes behind a load balancer gets no more tries).
 *
 * The plugin's own Redis store would do, but a Redis error there becomes a 500; here it is a 503
 * `unavailable` problem, and the command fails fast instead of waiting for a reconnect: the
 * limited routes (logins, sign-ups, anonymous reports) fail closed rather than go unlimited.
 */
import { AppError } from '../../errors.ts';
import type { Redis } from 'ioredis';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

// One round trip: count the hit, start the window on the first one, and say how long is left.
const HIT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}`;

interface HitCommand {
  mmdRateLimitHit(key: string, windowMs: number): Promise<[number, number]>;
}

/** A store class for @fastify/rate-limit's `store` option, over `redis`, keys under `prefix`. */
export function sharedRateLimitStore(redis: Redis, prefix: string) {
  // A connection of its own that never queues: with Redis away a hit fails at once.
  const client = redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 });
  client.on('error', () => {});
  client.defineCommand('mmdRateLimitHit', { numberOfKeys: 1, lua: HIT });
  const hits = client as unknown as HitCommand;

  class SharedRateLimitStore {
    readonly key: string;
    /** The plugin constructs the store with its own options (unused here); child() names a route's key prefix. */
    constructor(_pluginOptions?: unknown, key = `${prefix}rl:`) {
      this.key = key;
    }

    incr(id: string, callback: Callback, timeWindow: number) {
      hits.mmdRateLimitHit(this.key + id, timeWindow).then(
        ([current, ttl]) => callback(null, { current, ttl }),
        () => callback(new AppError('unavailable', 'rate limits cannot be checked right now; retry shortly')),
      );
    }

    /** A route's own limit: its counters under its method and path, as the plugin's stores do. */
    child(routeOptions: object) {
      const { routeInfo } = routeOptions as { routeInfo: { method: string; url: string } };
      return new SharedRateLimitStore(null, `${this.key}${routeInfo.method}${routeInfo.url}-`);
    }
  }
  return { Store: SharedRateLimitStore, close: () => client.disconnect() };
}
