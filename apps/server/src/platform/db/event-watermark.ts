/**
 * PostgreSQL's event stream without a cluster-wide lock: writers take event ids concurrently, and
 * readers advance cursors only to a visibility watermark W, below which every id handed out is
 * committed or rolled back for good.
 *
 * Why a watermark: `events.id` comes from a sequence. If transaction A takes 10 and B takes 11
 * and B commits first, a reader that saw 11 and moved its cursor past 10 would never see 10.
 *
 * How W is known (Synapse's MultiWriterIdGenerator keeps such positions in a table written by
 * each process; here PostgreSQL's own lock table carries them, so a dead process needs no
 * detection: its positions vanish with its transactions):
 *
 * - A write transaction, before it takes its first event id, takes a transaction-scoped *shared*
 *   advisory lock whose key carries the sequence's current value S (the "in-flight" mark). Every
 *   id it takes afterwards is above S. Shared locks never wait for each other, so writers do not
 *   queue; the lock goes away at COMMIT or ROLLBACK — and when PostgreSQL aborts the transaction
 *   of a process that died (kill -9, a lost host: the session ends, the transaction aborts).
 * - A reader reads the sequence's value first, then the marks still held:
 *   W = min(sequence value, smallest mark). Ids up to a mark are not its writer's; ids up to
 *   the sequence value without a mark below them are finished. The order matters: a writer whose
 *   id is at or below the sequence value read took its mark before that id, so before the reader
 *   looked at the marks.
 * - PostgreSQL makes a transaction visible before it releases its locks, so once a mark is gone
 *   the rows it covered are visible to any snapshot taken afterwards.
 *
 * The key: advisory locks are per database, and MMDs in other schemas of the same database have
 * their own sequences. A mark is one int8 key, (schema tag << 53) | S: ten bits of the schema's
 * hash above the 53 bits a cursor may use (cursors stay below 2^53, JSON's exact integers). Two
 * schemas with the same tag only make each other's W more cautious, never wrong.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

const CURSOR_BITS = 53n;

/** Ten bits of the schema's hash: the mark's top bits (the sign bit stays 0). */
export function schemaTag(schema: string): number {
  return createHash('sha256').update(`events:${schema}`).digest().readUInt16BE(0) & 0x3ff;
}

export interface EventWatermark {
  /** SQL (no parameters) a write transaction runs before taking its first event id. */
  readonly markSql: string;
  /**
   * The same mark as an SQL expression (no parameters), for a statement that takes it and then
   * its first event id (event-log.ts: a CTE the insert selects from, so one round trip).
   */
  readonly markExpression: string;
  /**
   * The watermark: every event id at or below it is committed (visible to any snapshot taken
   * after this resolves) or will never be. Concurrent callers share one read; a caller never
   * gets a value read before it called.
   */
  read(): Promise<number>;
}

export function createEventWatermark(options: { pool: pg.Pool; schema: string }): EventWatermark {
  const tag = schemaTag(options.schema);
  // The unqualified name resolves through the search path to this MMD's schema; bigserial's
  // sequence for events.id is named events_id_seq.
  const seq = `${quoteIdent(options.schema)}.events_id_seq`;
  // The value the next nextval is above (is_called is false right after setval(…, false) or creation).
  const seqValue = `select last_value - (case when is_called then 0 else 1 end) as v from ${seq}`;
  const markExpression = `pg_advisory_xact_lock_shared((${tag}::bigint << ${CURSOR_BITS}) | (${seqValue}))`;
  const markSql = `select ${markExpression}`;
  // Two statements in one round trip, run in this order (see the header): the sequence, then the marks.
  const readSql = `${seqValue}; select min(((classid::bigint << 32) | objid::bigint) & ${(1n << CURSOR_BITS) - 1n}) as m from pg_locks where locktype = 'advisory' and objsubid = 1 and database = (select oid from pg_database where datname = current_database()) and (classid::bigint >> ${CURSOR_BITS - 32n}) = ${tag}`;

  let running: Promise<number> | null = null;
  let queued: Promise<number> | null = null;
  async function readOnce(): Promise<number> {
    const results = (await options.pool.query(readSql)) as unknown as pg.QueryResult[];
    const v = Number(results[0]!.rows[0]!.v);
    const m = results[1]!.rows[0]!.m;
    return m === null || m === undefined ? v : Math.min(v, Number(m));
  }
  return {
    markSql,
    markExpression,
    read() {
      // One read in flight, at most one waiting behind it: callers arriving during a read join
      // the next one, which starts after they called.
      if (!running) {
        running = readOnce().finally(() => {
          running = null;
        });
        return running;
      }
      if (!queued) {
        queued = running
          .catch(() => undefined)
          .then(() => {
            queued = null;
            running = readOnce().finally(() => {
              running = null;
            });
            return running;
          });
      }
      return queued;
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
