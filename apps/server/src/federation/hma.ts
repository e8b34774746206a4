/**
 * The HMA-compatible exchange: a Hasher-Matcher-Actioner deployment fetches the banks an operator
 * offers it, incrementally, without MMD pushing anything.
 *
 * HMA has no exchange of its own for fetching from another HMA or MMD; what an HMA operator can
 * point anywhere is python-threatexchange's StopNCII exchange (its credentials take a
 * `base_url_override`), so this answers StopNCII's `FetchHashes` as that client asks it:
 * `GET <base>/FetchHashes?startTimestamp=&pageSize=&nextPageToken=` with the headers
 * `x-functions-key` (the consumer's token) and `Ocp-Apim-Subscription-Key` (its id). Records are
 * the current state of one hash ("a later record replaces an earlier one"); a hash no offered bank
 * holds any more comes back once as `hashStatus: "Deleted"`.
 *
 * Changes are found by comparison: each fetch's first page compares the offered banks' PDQ and
 * MD5 signals with what the exchange saw last time (`federation_hma_known`) and writes each
 * difference to a log; consumers read the log from their checkpoint (Unix seconds, inclusive) and
 * page through it by its sequence number. Safety is only read, through its public functions.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CreateHmaConsumerBody, FetchHashesReply, HashRecord, HmaConsumer, UpdateHmaConsumerBody } from '@mmd/contracts';
import { AppError, notFound } from '../errors.ts';
import type { Database } from '../platform/db/index.ts';
import type { AuditInput, ExchangeReads } from '../safety/index.ts';
import type { FederationHmaConsumersTable } from './schema.ts';

export const HMA_BASE_PATH = '/v1/federation/hma';
export const HMA_FETCH_PATH = `${HMA_BASE_PATH}/FetchHashes`;

type ConsumerRow = FederationHmaConsumersTable;
const CHUNK = 400;
const NOT_ALLOWED = 'a valid x-functions-key and Ocp-Apim-Subscription-Key are needed';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function toConsumer(row: ConsumerRow): HmaConsumer {
  return {
    id: row.id,
    name: row.name,
    bank_ids: JSON.parse(row.bank_ids) as string[],
    status: row.status,
    last_fetch_at: row.last_fetch_at === null ? null : Number(row.last_fetch_at),
    created_at: Number(row.created_at),
  };
}

export function createHmaExchange(deps: {
  db: Database;
  clock: () => number;
  exchange: ExchangeReads;
  /** Names this instance in each record's feedback (`source`). */
  sourceName: string;
  audit: (entry: Omit<AuditInput, 'at'>) => Promise<void>;
}) {
  const { db, clock, exchange } = deps;

  async function load(id: string): Promise<ConsumerRow> {
    const row = await db.db.selectFrom('federation_hma_consumers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('HMA consumer');
    return row;
  }

  /** Bank ids an operator may offer: existing banks, none of them a federation peer's. */
  async function checkedBanks(ids: readonly string[]): Promise<string[]> {
    const banks = await exchange.banks(ids);
    const errors: { path: string; message: string }[] = [];
    ids.forEach((id, i) => {
      const bank = banks.find((b) => b.id === id);
      if (!bank) errors.push({ path: `/bank_ids/${i}`, message: 'no such bank' });
      else if (bank.fromPeer) errors.push({ path: `/bank_ids/${i}`, message: "a peer's bank is not offered onwards" });
      else if (bank.unconfirmed) errors.push({ path: `/bank_ids/${i}`, message: 'the protection bank holds claims no moderator confirmed: it is not offered' });
    });
    if (errors.length) throw new AppError('validation_failed', 'these banks cannot be offered', { errors });
    return [...ids];
  }

  /** Writes every difference between the banks' signals now and what the exchange saw last. */
  async function sync(bankIds: string[]) {
    const current = await exchange.signals(bankIds);
    await db.writeTransaction(async (tx) => {
      const known = await tx.selectFrom('federation_hma_known').select('signal_id').where('bank_id', 'in', bankIds).execute();
      const knownIds = new Set(known.map((k) => Number(k.signal_id)));
      const currentIds = new Set(current.map((s) => s.id));
      const added = current.filter((s) => !knownIds.has(s.id));
      const gone = [...knownIds].filter((id) => !currentIds.has(id));
      if (added.length === 0 && gone.length === 0) return;
      // Checkpoints are seconds, read inclusively: a change is never stamped before an earlier one.
      const last = await tx.selectFrom('federation_hma_log').select((eb) => eb.fn.max('changed_at').as('t')).executeTakeFirst();
      const changedAt = Math.max(Math.floor(clock() / 1000), Number(last?.t ?? 0));
      const log: { bank_id: string; type: string; value: string; changed_at: number }[] = [];
      for (let i = 0; i < added.length; i += CHUNK) {
        const rows = added.slice(i, i + CHUNK).map((s) => ({ signal_id: s.id, bank_id: s.bankId, type: s.type, value: s.value }));
        // Two fetches comparing at once: only the one whose insert lands logs the change.
        const inserted = await tx.insertInto('federation_hma_known').values(rows).onConflict((oc) => oc.column('signal_id').doNothing()).returning(['bank_id', 'type', 'value']).execute();
        for (const r of inserted) log.push({ bank_id: r.bank_id, type: r.type, value: r.value, changed_at: changedAt });
      }
      for (let i = 0; i < gone.length; i += CHUNK) {
        const deleted = await tx.deleteFrom('federation_hma_known').where('signal_id', 'in', gone.slice(i, i + CHUNK)).returning(['bank_id', 'type', 'value']).execute();
        for (const r of deleted) log.push({ bank_id: r.bank_id, type: r.type, value: r.value, changed_at: changedAt });
      }
      for (let i = 0; i < log.length; i += CHUNK) await tx.insertInto('federation_hma_log').values(log.slice(i, i + CHUNK)).execute();
    });
  }

  return {
    async create(actorId: string, body: CreateHmaConsumerBody): Promise<{ consumer: HmaConsumer; token: string }> {
      const bankIds = await checkedBanks(body.bank_ids);
      const token = `mmdhma_${randomBytes(24).toString('base64url')}`;
      const now = clock();
      const row: ConsumerRow = {
        id: `hma_${randomBytes(9).toString('base64url')}`,
        name: body.name,
        token_hash: sha256(token),
        bank_ids: JSON.stringify(bankIds),
        status: 'active',
        last_fetch_at: null,
        created_by: actorId,
        created_at: now,
        updated_at: now,
      };
      await db.db.insertInto('federation_hma_consumers').values(row).execute();
      await deps.audit({ actorId, action: 'federation.hma_consumer', detail: { consumer: row.id, change: 'created', banks: bankIds } });
      return { consumer: toConsumer(row), token };
    },

    async list(): Promise<HmaConsumer[]> {
      const rows = await db.db.selectFrom('federation_hma_consumers').selectAll().orderBy('created_at').execute();
      return rows.map(toConsumer);
    },

    async update(actorId: string, id: string, body: UpdateHmaConsumerBody): Promise<HmaConsumer> {
      await load(id);
      const bankIds = body.bank_ids ? await checkedBanks(body.bank_ids) : undefined;
      await db.db
        .updateTable('federation_hma_consumers')
        .set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(bankIds ? { bank_ids: JSON.stringify(bankIds) } : {}),
          ...(body.status !== undefined ? { status: body.status } : {}),
          updated_at: clock(),
        })
        .where('id', '=', id)
        .execute();
      await deps.audit({ actorId, action: 'federation.hma_consumer', detail: { consumer: id, change: 'updated', fields: Object.keys(body) } });
      return toConsumer(await load(id));
    },

    /**
     * The consumer a request names, if its token is right and it is active. Every refusal reads
     * the same (`unauthenticated`), so a stranger learns nothing of which ids exist.
     */
    async authenticate(headers: Record<string, string | string[] | undefined>): Promise<ConsumerRow> {
      const id = headers['ocp-apim-subscription-key'];
      const token = headers['x-functions-key'];
      if (typeof id !== 'string' || typeof token !== 'string' || id.length > 64 || token.length > 200) throw new AppError('unauthenticated', NOT_ALLOWED);
      const row = await db.db.selectFrom('federation_hma_consumers').selectAll().where('id', '=', id).executeTakeFirst();
      const given = Buffer.from(sha256(token), 'hex');
      const expected = Buffer.from(row?.token_hash ?? sha256(`absent:${id}`), 'hex');
      if (!row || !timingSafeEqual(given, expected) || row.status !== 'active') throw new AppError('unauthenticated', NOT_ALLOWED);
      return row;
    },

    /** One page of FetchHashes for a consumer. */
    async fetch(consumer: ConsumerRow, q: { startTimestamp: number; pageSize: number; nextPageToken?: string }): Promise<FetchHashesReply> {
      const bankIds = JSON.parse(consumer.bank_ids) as string[];
      const banks = new Map((await exchange.banks(bankIds)).map((b) => [b.id, b]));
      const offered = bankIds.filter((id) => banks.has(id));
      const after = q.nextPageToken === undefined ? null : Number(q.nextPageToken);
      if (after !== null && !Number.isSafeInteger(after)) throw new AppError('validation_failed', 'nextPageToken is not one this server gave', { errors: [{ path: '/nextPageToken', message: 'unknown token' }] });
      // Read before the comparison: a change it logs is stamped this second or later.
      const fetchedAt = Math.floor(clock() / 1000);
      // A new fetch looks for changes first; the pages after it read the same log on.
      if (after === null && offered.length > 0) await sync(offered);
      await db.db.updateTable('federation_hma_consumers').set({ last_fetch_at: clock() }).where('id', '=', consumer.id).execute();
      let floor = q.startTimestamp;
      if (offered.length === 0) return { count: 0, nextPageToken: null, nextSetTimestamp: floor, hasMoreRecords: false, hashRecords: [] };

      let query = db.db.selectFrom('federation_hma_log').selectAll().where('bank_id', 'in', offered).orderBy('seq').limit(q.pageSize + 1);
      if (after !== null) {
        query = query.where('seq', '>', after);
        const mark = await db.db.selectFrom('federation_hma_log').select('changed_at').where('seq', '=', after).executeTakeFirst();
        if (mark) floor = Math.max(floor, Number(mark.changed_at));
      } else {
        query = query.where('changed_at', '>=', q.startTimestamp);
      }
      const rows = await query.execute();
      const page = rows.slice(0, q.pageSize);
      const hasMore = rows.length > q.pageSize;

      // The latest change of each hash in the page; its record says what holds now.
      const latest = new Map<string, { type: string; value: string; changedAt: number; banks: Set<string> }>();
      for (const r of page) {
        const key = `${r.type} ${r.value}`;
        const entry = latest.get(key) ?? { type: r.type, value: r.value, changedAt: 0, banks: new Set<string>() };
        entry.changedAt = Math.max(entry.changedAt, Number(r.changed_at));
        entry.banks.add(r.bank_id);
        latest.set(key, entry);
      }
      const live = new Map<string, { id: number; bankId: string }[]>();
      for (const type of ['pdq', 'md5'] as const) {
        const values = [...latest.values()].filter((e) => e.type === type).map((e) => e.value);
        for (let i = 0; i < values.length; i += CHUNK) {
          const found = await db.db
            .selectFrom('federation_hma_known')
            .select(['signal_id', 'bank_id', 'value'])
            .where('type', '=', type)
            .where('value', 'in', values.slice(i, i + CHUNK))
            .where('bank_id', 'in', offered)
            .execute();
          for (const f of found) {
            const key = `${type} ${f.value}`;
            live.set(key, [...(live.get(key) ?? []), { id: Number(f.signal_id), bankId: f.bank_id }]);
          }
        }
      }
      const records: HashRecord[] = [...latest.entries()].map(([key, e]) => {
        const holders = live.get(key) ?? [];
        const caseNumbers: Record<string, 'Active' | 'Deleted'> = {};
        for (const b of e.banks) caseNumbers[b] = 'Deleted';
        for (const h of holders) caseNumbers[h.bankId] = 'Active';
        const holding = [...new Set(holders.map((h) => h.bankId))].map((id) => banks.get(id)!);
        return {
          lastModtimestamp: e.changedAt,
          signalType: e.type === 'pdq' ? ('ImagePDQ' as const) : ('VideoMD5' as const),
          hashValue: e.value,
          hashStatus: holders.length > 0 ? ('Active' as const) : ('Deleted' as const),
          caseNumbers,
          CSPFeedbacks:
            holders.length > 0
              ? holding.map((b) => ({ source: deps.sourceName, feedbackValue: 'Blocked' as const, tags: [`category:${b.category}`, `bank:${b.name}`] }))
              : [{ source: deps.sourceName, feedbackValue: 'Deleted' as const, tags: [] }],
        };
      });
      const lastChange = page.length ? Number(page[page.length - 1]!.changed_at) : floor;
      // Mid-way, the checkpoint is the last change read (inclusive: its second comes again on a
      // resume). At the end it is now: every later change is stamped now or later (stamps never go
      // back), so a consumer is not sent the same batch on each poll.
      const checkpointAt = hasMore ? lastChange : Math.max(lastChange, fetchedAt);
      return {
        count: records.length,
        nextPageToken: hasMore ? String(page[page.length - 1]!.seq) : null,
        nextSetTimestamp: Math.max(floor, checkpointAt),
        hasMoreRecords: hasMore,
        hashRecords: records,
      };
    },
  };
}

export type HmaExchange = ReturnType<typeof createHmaExchange>;
