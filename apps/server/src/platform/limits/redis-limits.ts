/**
 * The limiter interface (index.ts) counted in Redis: one key per limit and key
 * (`<prefix>lim:<name>:<key>`), INCR with the window as its expiry, in one round trip. Every node
 * of a cluster counts against the same windows.
 *
 * Commands go over a connection of their own that never queues them: with Redis away a hit
 * fails at once (AppError `unavailable`, 503) instead of holding the request until Redis returns.
 */
import type { Redis } from 'ioredis';
import { AppError } from '../../errors.ts';
import type { Limiter, Limits } from './index.ts';

// Count the hit, start the window on the first one, and say how long is left of it.
const HIT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}`;

interface HitCommand {
  mmdLimitHit(key: string, windowMs: number): Promise<[number, number]>;
}

export function createRedisLimits(options: { redis: Redis; prefix: string }): Limits {
  const client = options.redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 });
  client.on('error', () => {});
  client.defineCommand('mmdLimitHit', { numberOfKeys: 1, lua: HIT });
  const hits = client as unknown as HitCommand;
  return {
    limiter({ name, max, windowMs }): Limiter {
      const base = `${options.prefix}lim:${name}:`;
      return {
        async hit(key) {
          let current: number;
          let ttl: number;
          try {
            [current, ttl] = await hits.mmdLimitHit(base + key, windowMs);
          } catch {
            throw new AppError('unavailable', 'limits cannot be checked right now; retry shortly', { headers: { 'retry-after': '1' } });
          }
          return current > max ? Math.max(1, ttl) : 0;
        },
      };
    },
    close() {
      client.disconnect();
    },
  };
}
