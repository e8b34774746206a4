/**
 * Telegram's numeric ids for MMD's string ids. Bots keep ids as numbers (JavaScript bots as
 * doubles), so every number stays far below 2^53: user ids below 10^12, group and channel numbers
 * below 10^10 — a group's chat id is the number negated, a channel's is written as Telegram writes
 * them, -100 followed by the ten digits (-(10^12 + id)). A number is derived from a hash of the MMD id and kept in a table, so it
 * never changes; on the rare clash with a number already taken the next salt is tried.
 */
import { createHash } from 'node:crypto';
import type { Database, Tx } from '../platform/db/index.ts';

type Reader = Database['db'] | Tx;
const LIMITS = { user: 1_000_000_000_000, chat: 10_000_000_000 } as const;
const CHANNEL_BASE = 1_000_000_000_000;

function candidate(kind: 'user' | 'chat', mmdId: string, salt: number): number {
  const digest = createHash('sha256').update(`${salt}:${mmdId}`).digest();
  // 48 bits, folded below the kind's limit; 0 is not an id.
  return (digest.readUIntBE(0, 6) % (LIMITS[kind] - 1)) + 1;
}

export interface IdMap {
  /** The number for an account or a group/channel, assigned on first use. */
  numberOf(kind: 'user' | 'chat', mmdId: string): Promise<number>;
  /** The MMD id behind a number, or undefined when none was ever assigned. */
  idOf(kind: 'user' | 'chat', num: number): Promise<string | undefined>;
}

export function createIdMap(db: Database): IdMap {
  // Mappings never change once made: both directions are cached for the process's life (bounded).
  const forward = new Map<string, number>();
  const backward = new Map<string, string>();
  const remember = (kind: string, mmdId: string, num: number) => {
    if (forward.size > 100_000) {
      forward.clear();
      backward.clear();
    }
    forward.set(`${kind}:${mmdId}`, num);
    backward.set(`${kind}:${num}`, mmdId);
  };
  async function lookup(executor: Reader, kind: 'user' | 'chat', mmdId: string) {
    const row = await executor.selectFrom('telegram_ids').select('num').where('kind', '=', kind).where('mmd_id', '=', mmdId).executeTakeFirst();
    return row ? Number(row.num) : undefined;
  }
  return {
    async numberOf(kind, mmdId) {
      const cached = forward.get(`${kind}:${mmdId}`);
      if (cached !== undefined) return cached;
      let num = await lookup(db.db, kind, mmdId);
      for (let salt = 0; num === undefined && salt < 32; salt++) {
        await db.db
          .insertInto('telegram_ids')
          .values({ kind, mmd_id: mmdId, num: candidate(kind, mmdId, salt) })
          .onConflict((oc) => oc.doNothing())
          .execute();
        // Either this insert or a concurrent one for the same id won; a clash on the number leaves none.
        num = await lookup(db.db, kind, mmdId);
      }
      if (num === undefined) throw new Error(`no free Telegram id for ${kind} ${mmdId}`);
      remember(kind, mmdId, num);
      return num;
    },
    async idOf(kind, num) {
      const cached = backward.get(`${kind}:${num}`);
      if (cached !== undefined) return cached;
      if (!Number.isSafeInteger(num) || num <= 0 || num >= LIMITS[kind]) return undefined;
      const row = await db.db.selectFrom('telegram_ids').select('mmd_id').where('kind', '=', kind).where('num', '=', num).executeTakeFirst();
      if (row) remember(kind, row.mmd_id, num);
      return row?.mmd_id;
    },
  };
}

/** The chat id Telegram shows for a group (-id) or a channel (-100…id). */
export function chatIdFor(kind: 'group' | 'channel', num: number): number {
  return kind === 'channel' ? -(CHANNEL_BASE + num) : -num;
}

/** The stored number behind a negative chat id (a group's or a channel's), or undefined. */
export function chatNumFrom(chatId: number): number | undefined {
  if (!Number.isSafeInteger(chatId) || chatId >= 0) return undefined;
  const n = -chatId;
  return n > CHANNEL_BASE ? n - CHANNEL_BASE : n;
}
