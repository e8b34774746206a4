/**
 * The event log: one row per event, whatever the audience size. A post to a 200,000-member
 * channel writes one message row and one event row; who sees an event is decided when it is read
 * (membership windows), not by writing a copy per member.
 */
import type { EventPayloads, EventType } from '@mmd/contracts';
import { type RawBuilder, sql } from 'kysely';
import { type Database, type Tx, eventMarkExpression, markEventWrite, prepared, withEventMark } from '../platform/db/index.ts';
import type { PublishedEvent } from '../platform/pubsub/index.ts';

export type StoredEvent = PublishedEvent;

/** An event of type `K` to append; its `data` is that type's payload (contracts' EventPayloads). */
export interface NewEventOf<K extends EventType> {
  type: K;
  conversationId: string | null;
  targetAccountId?: string | null;
  seq?: number | null;
  /** Only members whose current stay began at or before this cursor receive it (see EventsTable). */
  membersJoinedBy?: number | null;
  data: EventPayloads[K];
  at: number;
}
/** Any event to append: checking `type` fixes the shape of `data`. */
export type NewEvent = { [K in EventType]: NewEventOf<K> }[EventType];

type EventRow = { conversation_id: string | null; target_account_id: string | null; type: string; seq: number | null; payload: string; created_at: number; members_joined_by: number | null; message_id: string | null };

// Prepared once: every write that anyone sees appends one.
const insertEvent = prepared(
  (db, p: EventRow) =>
    db
      .insertInto('events')
      .values({
        conversation_id: p.conversation_id,
        target_account_id: p.target_account_id,
        type: p.type,
        seq: p.seq,
        payload: p.payload,
        created_at: p.created_at,
        members_joined_by: p.members_joined_by,
        message_id: p.message_id,
      })
      .returning('id'),
);

/**
 * The same insert on PostgreSQL for a write transaction's first event: it first marks the
 * transaction in flight (platform/db's watermark mark), then takes its id, in one statement. The
 * mark is a CTE the insert selects its row from: a CTE with a volatile function is never inlined,
 * so its row (and the lock) exists before the projection above it evaluates the id's nextval.
 * The parameters are cast because a SELECT list gives them no column type to infer.
 */
const insertEventMarking = prepared((db, p: EventRow) =>
  db
    .with('mark', (d) => d.selectNoFrom(sql.raw<unknown>(eventMarkExpression(db)).as('m')))
    .insertInto('events')
    .columns(['conversation_id', 'target_account_id', 'type', 'seq', 'payload', 'created_at', 'members_joined_by', 'message_id'])
    .expression((eb) =>
      eb
        .selectFrom('mark')
        .select([
          sql<string | null>`cast(${p.conversation_id} as text)`.as('conversation_id'),
          sql<string | null>`cast(${p.target_account_id} as text)`.as('target_account_id'),
          sql<string>`cast(${p.type} as text)`.as('type'),
          sql<number | null>`cast(${p.seq} as bigint)`.as('seq'),
          sql<string>`cast(${p.payload} as text)`.as('payload'),
          sql<number>`cast(${p.created_at} as bigint)`.as('created_at'),
          sql<number | null>`cast(${p.members_joined_by} as bigint)`.as('members_joined_by'),
          sql<string | null>`cast(${p.message_id} as text)`.as('message_id'),
        ]),
    )
    .returning('id'),
);

/** Appends an event inside a write transaction and returns it with its cursor. */
export async function appendEvent(tx: Tx, event: NewEvent): Promise<StoredEvent> {
  const payload = JSON.stringify(event.data);
  const values: EventRow = {
    conversation_id: event.conversationId,
    target_account_id: event.targetAccountId ?? null,
    type: event.type,
    seq: event.seq ?? null,
    payload,
    created_at: event.at,
    members_joined_by: event.membersJoinedBy ?? null,
    message_id: event.type === 'message.created' || event.type === 'message.edited' ? event.data.id : null,
  };
  // Readers must not pass the id while this transaction is open: the transaction's first event
  // write takes the watermark mark before its id, in the same statement (platform/db).
  const [row] = (await withEventMark(tx, (marking) => (marking ? insertEventMarking : insertEvent)(tx, values))).rows;
  if (!row) throw new Error('appendEvent: the insert returned no cursor');
  const { message_id: _messageId, ...stored } = values;
  return { id: Number(row.id), ...stored };
}

/** Events appended by one statement: eight parameters each, well under both databases' limits. */
const EVENTS_PER_STATEMENT = 250;

/**
 * Appends many events inside a write transaction, a multi-row insert per 250, and returns them
 * with their cursors in the order given. A multi-row insert takes its rows' ids in the order of
 * its rows (consecutive on SQLite; on PostgreSQL other writers' ids may fall between), so the
 * returned rows sorted by id match what was asked; each is checked.
 */
export async function appendEvents(tx: Tx, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  if (events.length > 0) await markEventWrite(tx);
  const out: StoredEvent[] = [];
  for (let i = 0; i < events.length; i += EVENTS_PER_STATEMENT) {
    const part = events.slice(i, i + EVENTS_PER_STATEMENT);
    const values = part.map((event) => ({
      conversation_id: event.conversationId,
      target_account_id: event.targetAccountId ?? null,
      type: event.type,
      seq: event.seq ?? null,
      payload: JSON.stringify(event.data),
      created_at: event.at,
      members_joined_by: event.membersJoinedBy ?? null,
      message_id: event.type === 'message.created' || event.type === 'message.edited' ? event.data.id : null,
    }));
    const rows = await tx.insertInto('events').values(values).returning(['id', 'conversation_id', 'type']).execute();
    const ordered = rows.map((r) => ({ ...r, id: Number(r.id) })).sort((a, b) => a.id - b.id);
    if (ordered.length !== part.length) throw new Error(`appendEvents: ${part.length} events written, ${ordered.length} returned`);
    ordered.forEach((r, k) => {
      const v = values[k]!;
      if (r.conversation_id !== v.conversation_id || r.type !== v.type) throw new Error('appendEvents: cursors came back out of order');
      out.push({ id: r.id, conversation_id: v.conversation_id, target_account_id: v.target_account_id, type: v.type, seq: v.seq, payload: v.payload, created_at: v.created_at, members_joined_by: v.members_joined_by });
    });
  }
  return out;
}

/**
 * The event as clients see it, serialised once: the same string goes to every socket, and the
 * payload (already JSON) is spliced in rather than parsed and re-encoded.
 */
export function eventJson(e: StoredEvent): string {
  return `{"cursor":${e.id},"type":"${e.type}","conversation_id":${e.conversation_id === null ? 'null' : JSON.stringify(e.conversation_id)},"at":${e.created_at},"data":${e.payload}}`;
}

/** Sources read by one statement: each adds four parameters, well under both databases' limits. */
const SOURCES_PER_STATEMENT = 200;

/**
 * Events one account may see after `cursor`, oldest first: those of conversations during its
 * membership window, and those addressed to it alone. An event with both a conversation and a
 * target (a channel subscriber's own join or leave) is for the target only.
 *
 * Each source (a membership window, or the events addressed to the account) is read through its
 * own index in cursor order and stops after `limit` rows; the ids are merged here and the page's
 * rows fetched by primary key. A page therefore costs O(sources × limit) index steps whatever the
 * backlog. (One query joining memberships to events and sorting the union read every event after
 * the cursor for every page: 153 ms a page at a 200,000-event backlog, quadratic over a catch-up.)
 */
/**
 * One membership window's events, through `events_by_conversation`. The "not addressed to one
 * account" test is written so that no index can serve it: as `target_account_id is null`, SQLite
 * read it as an equality on `events_by_target` and scanned every untargeted event in the cursor
 * range, for every window (98 ms a window at a 200,000-event log; ten thousand sockets connecting
 * after a campaign took minutes). Exported for the test that checks the plan.
 */
export function conversationSource(w: { conversationId: string; from: number; to: number; joinedCursor: number; limit: number }): RawBuilder<unknown> {
  // A released held message skips members who joined after it was written.
  return sql`select id from (select id from events where conversation_id = ${w.conversationId} and id > ${w.from} and id <= ${w.to} and coalesce(target_account_id, '') = '' and (members_joined_by is null or members_joined_by >= ${w.joinedCursor}) order by id limit ${w.limit}) s`;
}

export async function eventsVisibleTo(
  db: Database['db'] | Tx,
  options: { accountId: string; after: number; upTo?: number; limit: number },
): Promise<StoredEvent[]> {
  const { accountId, after, limit } = options;
  const upTo = options.upTo ?? Number.MAX_SAFE_INTEGER;
  const windows = await db
    .selectFrom('members')
    .select(['conversation_id', 'joined_cursor', 'left_cursor'])
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('left_cursor', 'is', null), eb('left_cursor', '>', after)]))
    .execute();
  const sources: RawBuilder<unknown>[] = [];
  for (const w of windows) {
    // The window is [joined_cursor, left_cursor]: a member sees their own joining and removal.
    const from = Math.max(after, Number(w.joined_cursor) - 1);
    const to = w.left_cursor === null ? upTo : Math.min(upTo, Number(w.left_cursor));
    if (from >= to) continue;
    sources.push(conversationSource({ conversationId: w.conversation_id, from, to, joinedCursor: Number(w.joined_cursor), limit }));
  }
  sources.push(
    sql`select id from (select id from events where target_account_id = ${accountId} and id > ${after} and id <= ${upTo} order by id limit ${limit}) s`,
  );
  const ids = new Set<number>();
  for (let i = 0; i < sources.length; i += SOURCES_PER_STATEMENT) {
    const part = sources.slice(i, i + SOURCES_PER_STATEMENT);
    const rows = await sql<{ id: number }>`${sql.join(part, sql` union all `)}`.execute(db);
    for (const r of rows.rows) ids.add(Number(r.id));
  }
  if (ids.size === 0) return [];
  const page = [...ids].sort((a, b) => a - b).slice(0, limit);
  const rows = await db.selectFrom('events').selectAll().where('id', 'in', page).orderBy('id').execute();
  return rows.map((r) => normalise(r as StoredEvent));
}

/** Integer columns as numbers, whatever the driver handed back; the lookup column left out. */
function normalise(row: StoredEvent & { message_id?: string | null }): StoredEvent {
  const { message_id: _messageId, ...r } = row;
  const joinedBy = r.members_joined_by;
  return {
    ...r,
    id: Number(r.id),
    seq: r.seq === null ? null : Number(r.seq),
    created_at: Number(r.created_at),
    members_joined_by: joinedBy === null || joinedBy === undefined ? null : Number(joinedBy),
  };
}

/** Messages rewritten by one statement: two parameters each, well under both databases' limits. */
const MESSAGES_PER_STATEMENT = 100;

/**
 * Rewrites the `message.created` and `message.edited` events of these messages, inside the
 * caller's transaction, so their payloads carry `payloadFor(id)` (the deleted view) instead of
 * what was said. The events keep their cursors and audiences: a client catching up still sees
 * the message appear, then its deletion, and never its old content. Found through the
 * `message_id` column's index; a handful of statements whatever the number of events.
 */
export async function redactMessageEvents(
  tx: Tx,
  options: { messageIds: readonly string[]; payloadFor: (messageId: string) => EventPayloads['message.created'] },
): Promise<void> {
  for (let i = 0; i < options.messageIds.length; i += MESSAGES_PER_STATEMENT) {
    const part = options.messageIds.slice(i, i + MESSAGES_PER_STATEMENT);
    const cases = sql.join(
      part.map((id) => sql`when ${id} then ${JSON.stringify(options.payloadFor(id))}`),
      sql` `,
    );
    await tx
      .updateTable('events')
      .set({ payload: sql<string>`case message_id ${cases} else payload end` })
      .where('message_id', 'in', part)
      .where('type', 'in', ['message.created', 'message.edited'])
      .execute();
  }
}

/**
 * The newest cursor in the log (0 when empty). On PostgreSQL an event below it may still be in
 * flight: what advances a reader's cursor is `visibleCursor`; this one says how far the log has
 * numbered (a client's cursor beyond it was not issued by this log).
 */
export async function latestCursor(db: Database['db'] | Tx): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
  return Number(row?.max ?? 0);
}

/**
 * How far a reader may advance: every event at or below this cursor is committed and visible to a
 * read that starts after this resolves, or never will be (PostgreSQL's watermark, see
 * platform/db); on SQLite, whose writes become visible in cursor order, the newest cursor.
 */
export async function visibleCursor(db: Database): Promise<number> {
  return (await db.eventWatermark()) ?? (await latestCursor(db.db));
}

/** `visibleCursor` as the `upTo` of a read: undefined (no bound) on SQLite, no query spent. */
export async function visibleUpTo(db: Database): Promise<number | undefined> {
  return (await db.eventWatermark()) ?? undefined;
}

/**
 * The oldest `limit` events with cursors in (after, before), used to fill a gap in live delivery.
 * A gap can be larger than one page: callers read on from the last cursor until a page comes back short.
 */
export async function eventsBetween(db: Database['db'], options: { after: number; before: number; limit: number }): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('id', '>', options.after)
    .where('id', '<', options.before)
    .orderBy('id')
    .limit(options.limit)
    .execute();
  return rows.map((r) => normalise({ ...r, id: Number(r.id) }));
}
