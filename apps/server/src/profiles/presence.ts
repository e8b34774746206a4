/**
 * Presence: a person is online while one of their devices holds a live event stream
 * (`GET /v1/stream`), and "last seen" is when the last one closed. This process knows its own
 * sockets at once; other API processes learn it one of two ways:
 *
 * - with Redis (a cluster: `online`, platform/redis/online.ts), each process vouches in Redis for
 *   the people connected to it when their first stream opens and at every heartbeat, and withdraws
 *   when their last one closes. Someone is online while any process's word is fresher than 3
 *   heartbeats: one node closing a stream does not hide a person still connected to another, and
 *   a killed node's people go offline 3 heartbeats after its last one. Nothing is written to the
 *   database but "last seen" when a person's last stream on a process closes;
 * - without it, through the `presence` table, where each process re-asserts its online people
 *   every heartbeat (online_until = now + 3 heartbeats), so across processes "online" may lag by
 *   up to a heartbeat (and a stream closing on one process hides the person until another's next
 *   heartbeat).
 *
 * Who sees it follows the `last_seen` privacy setting both ways, as WhatsApp does: the viewer sees
 * someone's presence only if that person shares it with the viewer *and* the viewer shares theirs
 * with that person (hiding yours hides everyone's from you). Blocks hide it both ways too.
 */
import type { Presence } from '@mmd/contracts';
import { accountsByIds, blockedBy, privacySettingsOf } from '../accounts/index.ts';
import { directWriting } from '../conversations/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { OnlineRegistry } from '../platform/redis/online.ts';
import { visibleTo } from './service.ts';

const HEARTBEAT_MS = 30_000;

export interface PresenceDeps {
  db: Database;
  clock: () => number;
  log: { warn(o: object, m: string): void };
  heartbeatMs?: number;
  /** Where processes share who is online on them (Redis); without it, the `presence` table. */
  online?: OnlineRegistry | null;
}

export function createPresence(deps: PresenceDeps) {
  const { db, clock } = deps;
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  const shared = deps.online ?? null;
  /** Account → open streams in this process. */
  const open = new Map<string, number>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let stopped = false;

  async function record(accountIds: readonly string[], onlineUntil: number | null) {
    const at = clock();
    for (let i = 0; i < accountIds.length; i += 500) {
      const rows = accountIds.slice(i, i + 500).map((account_id) => ({ account_id, last_seen_at: at, online_until: onlineUntil }));
      await db.db
        .insertInto('presence')
        .values(rows)
        .onConflict((oc) => oc.column('account_id').doUpdateSet((eb) => ({ last_seen_at: eb.ref('excluded.last_seen_at'), online_until: eb.ref('excluded.online_until') })))
        .execute();
    }
  }

  const quietly = (what: string, p: Promise<unknown>) => p.catch((err: unknown) => deps.log.warn({ err }, `presence: ${what} failed`));

  return {
    /** A stream opened; call the returned function when it closes. */
    connect(accountId: string): () => void {
      if (stopped) return () => {};
      const count = (open.get(accountId) ?? 0) + 1;
      open.set(accountId, count);
      if (count === 1) void quietly('connect', shared ? shared.vouch([accountId], clock()) : record([accountId], clock() + 3 * heartbeatMs));
      let done = false;
      return () => {
        if (done || stopped) return;
        done = true;
        const left = (open.get(accountId) ?? 1) - 1;
        if (left > 0) {
          open.set(accountId, left);
          return;
        }
        open.delete(accountId);
        // The close time is written before the word is withdrawn: a reader who sees them offline
        // also sees when they left, never the older last-seen of their connect. A stream opened
        // again meanwhile has vouched anew, so then nothing is withdrawn.
        const written = quietly('disconnect', record([accountId], null));
        if (shared) void written.then(() => (open.has(accountId) ? undefined : quietly('withdraw', shared.withdraw([accountId]))));
      };
    },

    /** Starts the heartbeat that tells other processes who is online here. */
    start() {
      timer = setInterval(() => {
        const ids = [...open.keys()];
        void quietly('heartbeat', shared ? shared.vouch(ids, clock()) : record(ids, clock() + 3 * heartbeatMs));
      }, heartbeatMs);
      timer.unref();
    },

    /** Stops the heartbeat and marks everyone online here as last seen now (the server is stopping). */
    async stop() {
      if (timer) clearInterval(timer);
      stopped = true;
      const ids = [...open.keys()];
      open.clear();
      await quietly('stop', record(ids, null));
      if (shared) await quietly('withdraw', shared.withdraw(ids));
    },

    /** Presence of up to 100 accounts as `viewerId` may see it, in the order asked (unknown ids: hidden). */
    async of(viewerId: string, accountIds: readonly string[]): Promise<Presence[]> {
      const ids = [...new Set(accountIds)];
      // Theirs shown to me (accounts that exist: an unknown id reads like a hidden one)…
      const known = [...(await accountsByIds(db.db, ids)).keys()];
      const shownToMe = [...(await visibleTo(db.db, viewerId, known, 'last_seen'))].filter((id) => id !== viewerId);
      // …and mine shown to them (my one setting, my blocks), else I see none of theirs.
      const mySetting = (await privacySettingsOf(db.db, [viewerId])).get(viewerId)?.last_seen ?? 'everyone';
      const iBlocked = await blockedBy(db.db, viewerId, shownToMe);
      const contacts = mySetting === 'contacts' ? (await directWriting(db.db, viewerId, shownToMe)).iWroteTo : new Set<string>();
      const both = new Set(shownToMe.filter((id) => !iBlocked.has(id) && (mySetting === 'everyone' || (mySetting === 'contacts' && contacts.has(id)))));
      if (ids.includes(viewerId)) both.add(viewerId);
      const rows = both.size === 0 ? [] : await db.db.selectFrom('presence').selectAll().where('account_id', 'in', [...both]).execute();
      const byId = new Map(rows.map((r) => [r.account_id, r]));
      const now = clock();
      // With Redis away, what this process holds is all it can vouch for.
      const vouched =
        shared && both.size > 0
          ? await shared.read([...both], now).catch((err: unknown) => {
              deps.log.warn({ err }, 'presence: Redis read failed');
              return new Map<string, { online: boolean; lastVouched: number }>();
            })
          : null;
      return ids.map((id) => {
        if (!both.has(id)) return { account_id: id, online: null, last_seen_at: null };
        const row = byId.get(id);
        const word = vouched?.get(id);
        const online = open.has(id) || (vouched ? word?.online === true : row?.online_until !== null && row?.online_until !== undefined && Number(row.online_until) > now);
        // Last seen: the last close written here, or the last word of a process that died with them.
        const lastSeen = Math.max(row ? Number(row.last_seen_at) : -1, word?.lastVouched ?? -1);
        return { account_id: id, online, last_seen_at: online ? now : lastSeen >= 0 ? lastSeen : null };
      });
    },
  };
}

export type PresenceService = ReturnType<typeof createPresence>;
