/**
 * What federation's HMA-compatible exchange reads of safety: the banks an operator offers, and
 * their live signals of the types an HMA fetcher can use (PDQ and MD5). Read-only; federation
 * keeps its own change log by comparing what it saw last time with what is here now.
 */
import type { Database } from '../platform/db/index.ts';
import { PEER_SOURCE } from './store.ts';

export interface ExchangeBank {
  id: string;
  name: string;
  category: string;
  /** A bank of what a federation peer shared: never offered onwards. */
  fromPeer: boolean;
  /** The bank of victims' own protection claims, which no moderator has confirmed: never offered. */
  unconfirmed: boolean;
}

export interface ExchangeSignal {
  id: number;
  bankId: string;
  type: 'pdq' | 'md5';
  value: string;
}

export function createExchangeReads(db: Database) {
  return {
    async banks(ids: readonly string[]): Promise<ExchangeBank[]> {
      if (ids.length === 0) return [];
      const rows = await db.db.selectFrom('safety_banks').select(['id', 'name', 'category', 'source', 'system']).where('id', 'in', [...ids]).execute();
      return rows.map((r) => ({ id: r.id, name: r.name, category: r.category, fromPeer: (r.source ?? '').startsWith(PEER_SOURCE), unconfirmed: r.system === 'protect' }));
    },
    /** Every live PDQ and MD5 signal of these banks, by id. */
    async signals(bankIds: readonly string[]): Promise<ExchangeSignal[]> {
      if (bankIds.length === 0) return [];
      const rows = await db.db
        .selectFrom('safety_signals')
        .select(['id', 'bank_id', 'type', 'value'])
        .where('bank_id', 'in', [...bankIds])
        .where('type', 'in', ['pdq', 'md5'])
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ id: Number(r.id), bankId: r.bank_id, type: r.type as 'pdq' | 'md5', value: r.value }));
    },
  };
}

export type ExchangeReads = ReturnType<typeof createExchangeReads>;
