/**
 * Device sessions resolved recently, so a request does not read its token's row every time (on a
 * send that read was one statement in ten). Safe only where every change to what it holds is seen:
 *
 * - changes made by this process (a device signed out, a role granted, an account suspended) call
 *   `forgetAll` once they are written, before their caller is answered; a lookup already reading
 *   the database when that happens does not store its (maybe older) row;
 * - changes made by another process (`mmd account role` on the same SQLite file) move the
 *   database's `othersWroteMark`, and the whole cache is dropped at the next lookup;
 * - where another process's writes cannot be seen cheaply (PostgreSQL: other nodes), the mark is
 *   null and nothing is cached.
 *
 * An entry is used for at most a minute after the device was last seen: then the row is read
 * again and `last_seen_at` touched, as without the cache.
 */
import type { Database } from '../platform/db/index.ts';
import type { Principal } from './service.ts';

const MAX_ENTRIES = 100_000;
/** How often `last_seen_at` is written, and so how long an entry is used. */
export const TOUCH_EVERY_MS = 60_000;

interface Entry {
  principal: Principal;
  lastSeenAt: number;
  mark: number;
}

export function createSessionCache(db: Pick<Database, 'othersWroteMark'>, clock: () => number) {
  const entries = new Map<string, Entry>();
  // Bumped by forgetAll: a lookup that began before a forget must not store what it read.
  let generation = 0;
  return {
    get(tokenHash: string): Principal | undefined {
      const entry = entries.get(tokenHash);
      if (!entry) return undefined;
      const mark = db.othersWroteMark();
      if (mark === null || mark !== entry.mark) {
        entries.clear();
        return undefined;
      }
      if (clock() - entry.lastSeenAt > TOUCH_EVERY_MS) {
        entries.delete(tokenHash);
        return undefined;
      }
      return entry.principal;
    },
    /** Call before reading the row; pass the result to `set` with what was read. */
    begin(): { generation: number; mark: number | null } {
      return { generation, mark: db.othersWroteMark() };
    },
    set(tokenHash: string, started: { generation: number; mark: number | null }, principal: Principal, lastSeenAt: number) {
      if (started.mark === null || started.generation !== generation) return;
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(tokenHash, { principal, lastSeenAt, mark: started.mark });
    },
    forgetAll() {
      generation += 1;
      entries.clear();
    },
  };
}
