/**
 * Fixed-window counters per key for the limits a route cannot declare to @fastify/rate-limit
 * (a request that must pass two limits, a limit checked deep in a service, a limit per account
 * known only after authentication). One interface, two places to count:
 *
 * - in this process's memory (the embedded default: one process, nothing else to ask);
 * - in Redis (MMD_REDIS_URL, redis-limits.ts), so every node of a cluster counts against the same
 *   window: a client spreading its tries over the nodes behind a load balancer gets no more.
 *
 * A window starts at a key's first hit and lasts `windowMs`; every hit counts (refused ones too,
 * which changes nothing in a fixed window: the key waits for the same end either way).
 */
import { createRedisLimits } from './redis-limits.ts';
import type { Redis } from 'ioredis';

export interface Limiter {
  /**
   * Counts one use by `key`; resolves to the milliseconds to wait when over the limit, else 0.
   * Rejects with AppError `unavailable` when the shared store cannot be reached: a limit that
   * cannot be checked refuses rather than lets everything through.
   */
  hit(key: string): Promise<number>;
}

export interface LimiterOptions {
  /** Names the counter (kebab-case, unique per limit): keys of different limits never meet. */
  name: string;
  max: number;
  windowMs: number;
  /** The in-memory store's clock (tests move it); Redis counts in its own time. */
  clock?: () => number;
}

export interface Limits {
  limiter(options: LimiterOptions): Limiter;
  close(): void;
}

/** Counters in this process's memory. */
export function createMemoryLimits(): Limits {
  return {
    limiter(options) {
      const { max, windowMs } = options;
      const clock = options.clock ?? Date.now;
      const windows = new Map<string, { start: number; count: number }>();
      let lastSweep = clock();
      return {
        async hit(key) {
          const now = clock();
          // Forget finished windows once per window, so a flood of new keys cannot grow memory for long.
          if (now - lastSweep >= windowMs) {
            for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
            lastSweep = now;
          }
          let w = windows.get(key);
          if (!w || now - w.start >= windowMs) {
            w = { start: now, count: 0 };
            windows.set(key, w);
          }
          w.count += 1;
          return w.count > max ? w.start + windowMs - now : 0;
        },
      };
    },
    close() {},
  };
}

/** The limits the deployment calls for: shared through Redis when there is one, else in memory. */
export function createLimits(redis?: { client: Redis; prefix: string } | null): Limits {
  return redis ? createRedisLimits({ redis: redis.client, prefix: redis.prefix }) : createMemoryLimits();
}

export { createRedisLimits };
