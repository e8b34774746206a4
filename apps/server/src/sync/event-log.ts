/**
 * The event log: one row per event, whatever the audience size. A post to a 200,000-member
 * channel writes one message row and one event row; who sees an event is decided when it is read
 * (membership windows), not by writing a copy per member.
 */
import type { EventType } from '@mmd/contracts';
import { sql } from 'kysely';
import type { Tx } from '../platform/db/index.ts';
import type { PublishedEvent } from '../platform/pubsub/index.ts';
import type { Database } from '../platform/db/index.ts';

export type StoredEvent = PublishedEvent;

export interface NewEvent {
  type: EventType;
  conversationId: string | null;
  targetAccountId?: string | null;
  seq?: number | null;
  data: unknown;
  at: number;
}

/** Appends an event inside a write transaction and returns it with its cursor. */
export async function appendEvent(tx: Tx, event: NewEvent): Promise<StoredEvent> {
  const payload = JSON.stringify(event.data);
  const row = await tx
    .insertInto('events')
    .values({
      conversation_id: event.conversationId,
      target_account_id: event.targetAccountId ?? null,
      type: event.type,
      seq: event.seq ?? null,
      payload,
      created_at: event.at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return {
    id: Number(row.id),
    conversation_id: event.conversationId,
    target_account_id: event.targetAccountId ?? null,
    type: event.type,
    seq: event.seq ?? null,
    payload,
    created_at: event.at,
  };
}

/**
 * The event as clients see it, serialised once: the same string goes to every socket, and the
 * payload (already JSON) is spliced in rather than parsed and re-encoded.
 */
export function eventJson(e: StoredEvent): string {
  return `{"cursor":${e.id},"type":"${e.type}","conversation_id":${e.conversation_id === null ? 'null' : JSON.stringify(e.conversation_id)},"at":${e.created_at},"data":${e.payload}}`;
}

/**
 * Events one account may see after `cursor`, oldest first: those of conversations during its
 * membership window, and those addressed to it alone.
 */
export async function eventsVisibleTo(
  db: Database['db'] | Tx,
  options: { accountId: string; after: number; upTo?: number; limit: number; types?: EventType[] },
): Promise<StoredEvent[]> {
  const { accountId, after, limit } = options;
  const upTo = options.upTo ?? Number.MAX_SAFE_INTEGER;
  const typeFilter = options.types ? sql`and e.type in (${sql.join(options.types)})` : sql``;
  const rows = await sql<StoredEvent>`
    select * from (
      select e.* from members m
        join events e on e.conversation_id = m.conversation_id
      where m.account_id = ${accountId}
        and e.id > ${after} and e.id <= ${upTo}
        and e.id >= m.joined_cursor
        and (m.left_cursor is null or e.id <= m.left_cursor)
        ${typeFilter}
      union
      select e.* from events e
      where e.target_account_id = ${accountId} and e.id > ${after} and e.id <= ${upTo}
        ${typeFilter}
    ) visible
    order by id
    limit ${limit}`.execute(db);
  return rows.rows.map(normalise);
}

/** Integer columns as numbers, whatever the driver handed back. */
function normalise(r: StoredEvent): StoredEvent {
  return { ...r, id: Number(r.id), seq: r.seq === null ? null : Number(r.seq), created_at: Number(r.created_at) };
}

/** The newest cursor in the log (0 when empty). */
export async function latestCursor(db: Database['db'] | Tx): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
  return Number(row?.max ?? 0);
}

/** Events with cursors in (after, before), used to fill a gap in live delivery. */
export async function eventsBetween(db: Database['db'], after: number, before: number): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('id', '>', after)
    .where('id', '<', before)
    .orderBy('id')
    .limit(10_000)
    .execute();
  return rows.map((r) => normalise({ ...r, id: Number(r.id) }));
}
