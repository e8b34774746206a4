/**
 * Who holds a live connection on which process, in Redis: presence's "online" across a cluster
 * (profiles/presence.ts). One sorted set per account (`<prefix>online:<account>`), one member per
 * process that holds a connection of that person, scored with the time that process last vouched
 * for it. A process vouches when the first connection opens and at every heartbeat, and withdraws
 * when its last one closes; a process killed without withdrawing stops vouching, so its members
 * go stale after `ttlMs` and nobody is shown online because of it. Each set expires a day after
 * its last write: the newest score is the "last seen" of someone whose process died with them.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What presence needs from the shared store; see above. */
export interface OnlineRegistry {
  /** This process holds connections of `accountIds` as of `now`. */
  vouch(accountIds: readonly string[], now: number): Promise<void>;
  /** This process holds none of `accountIds` any more. */
  withdraw(accountIds: readonly string[]): Promise<void>;
  /** Per account asked: the newest time any process vouched for it, and whether that is within ttlMs of `now` (absent: never, or over a day ago). */
  read(accountIds: readonly string[], now: number): Promise<Map<string, { online: boolean; lastVouched: number }>>;
  close(): void;
}

const KEEP_MS = 24 * 3600_000;

export function createRedisOnline(options: { redis: Redis; prefix: string; ttlMs: number }): OnlineRegistry {
  const node = randomBytes(8).toString('hex');
  const key = (accountId: string) => `${options.prefix}online:${accountId}`;
  // Commands fail fast with Redis away (no offline queue): presence is told of the failure and
  // answers from what it knows locally rather than holding a request.
  const client = options.redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000 });
  client.on('error', () => {});
  return {
    async vouch(accountIds, now) {
      for (let i = 0; i < accountIds.length; i += 500) {
        const batch = client.pipeline();
        for (const id of accountIds.slice(i, i + 500)) batch.zadd(key(id), now, node).pexpire(key(id), KEEP_MS);
        await batch.exec();
      }
    },
    async withdraw(accountIds) {
      for (let i = 0; i < accountIds.length; i += 500) {
        const batch = client.pipeline();
        for (const id of accountIds.slice(i, i + 500)) batch.zrem(key(id), node);
        await batch.exec();
      }
    },
    async read(accountIds, now) {
      const out = new Map<string, { online: boolean; lastVouched: number }>();
      if (accountIds.length === 0) return out;
      const batch = client.pipeline();
      // The newest score only: who vouched last, and when.
      for (const id of accountIds) batch.zrevrange(key(id), 0, 0, 'WITHSCORES');
      const results = (await batch.exec()) ?? [];
      results.forEach(([err, value], i) => {
        if (err) throw err;
        const pair = value as string[];
        if (pair.length < 2) return;
        const lastVouched = Number(pair[1]);
        out.set(accountIds[i]!, { online: lastVouched > now - options.ttlMs, lastVouched });
      });
      return out;
    },
    close() {
      client.disconnect();
    },
  };
}
