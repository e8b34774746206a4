/**
 * Kysely's PostgreSQL driver, with two changes that cut round trips and parsing on the write path
 * (bench:pg-throughput, docs/benchmarks.md):
 *
 * - Queries built by `prepared()` (prepared.ts) run as named prepared statements: node-postgres
 *   parses a name once per connection and afterwards sends only Bind/Execute, so PostgreSQL no
 *   longer parses and plans the send's statements afresh each time (a plan is cached per
 *   connection; after five runs PostgreSQL may keep a generic one, as for any prepared statement).
 *   The names are fixed by the SQL text, and the set of such texts is fixed by the code, so the
 *   statements a connection keeps stay few.
 * - A transaction may ask for one statement to run together with its BEGIN (`beginWith`), in the
 *   same simple-protocol message: the writers' lock costs no round trip of its own.
 *
 * Everything else behaves as Kysely's PostgresDriver (kysely/dist/esm/dialect/postgres).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import type pg from 'pg';
import { statementName } from './prepared.ts';

/** A statement the next BEGIN of this async context sends with it; taken by that BEGIN alone. */
const beginExtras = new AsyncLocalStorage<{ sql: string | null }>();

/**
 * Runs `fn`, whose first transaction sends `extraSql` (one statement, no parameters) in the same
 * message as its BEGIN. Only that first BEGIN takes it: a transaction `fn` opens later on another
 * connection does not run it again.
 */
export function beginWith<T>(extraSql: string, fn: () => Promise<T>): Promise<T> {
  return beginExtras.run({ sql: extraSql }, fn);
}

class StatementsConnection implements DatabaseConnection {
  /** Set when the connection may be left inside a transaction: the pool must not reuse it. */
  broken = false;
  constructor(readonly client: pg.PoolClient) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const name = statementName(compiled);
    const values = [...compiled.parameters];
    let result: pg.QueryResult;
    try {
      result = name ? await this.client.query({ name, text: compiled.sql, values }) : await this.client.query(compiled.sql, values);
    } catch (err) {
      // A table this named statement reads changed shape under it (a migration by a newer node
      // during an upgrade): PostgreSQL refuses the prepared form until it is prepared again, and
      // node-postgres would keep using it. The pool drops this connection, so its next holder
      // prepares afresh; the statement's caller fails once.
      if (name && (err as { code?: string }).code === '0A000') this.broken = true;
      throw err;
    }
    const { command, rowCount, rows } = result;
    return {
      numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(rowCount ?? 0) : undefined,
      rows: (rows ?? []) as R[],
    };
  }

  // biome-ignore lint/correctness/useYield: MMD never streams results (no cursor configured), as with Kysely's driver without one.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not configured for PostgreSQL');
  }
}

export class StatementsPostgresDriver implements Driver {
  #pool: pg.Pool | undefined;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const pool = this.#pool;
    if (!pool) throw new Error('driver has already been destroyed');
    return new StatementsConnection(await pool.connect());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let begin = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      begin = 'start transaction';
      if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) begin += ` ${settings.accessMode}`;
    }
    const extra = beginExtras.getStore();
    const extraSql = extra?.sql ?? null;
    if (extra) extra.sql = null;
    if (extraSql === null) {
      await connection.executeQuery(CompiledQuery.raw(begin));
      return;
    }
    const conn = connection as StatementsConnection;
    try {
      // One simple-protocol message, two statements: BEGIN then the extra one, in that order.
      await conn.client.query(`${begin}; ${extraSql}`);
    } catch (err) {
      // BEGIN may have run and the extra statement failed: Kysely rolls back only a transaction
      // whose BEGIN returned, so end this one here (or drop the connection if that fails too).
      await conn.client.query('rollback').catch(() => {
        conn.broken = true;
      });
      throw err;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${quoteIdent(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdent(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const conn = connection as StatementsConnection;
    conn.client.release(conn.broken || undefined);
  }

  async destroy(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
