/**
 * MMD's PostgreSQL driver (postgres-driver.ts): prepared queries run as named statements, parsed
 * once per connection; a statement sent with BEGIN runs inside the transaction, and when it fails
 * the connection is not left inside a broken transaction; a write transaction's first event takes
 * the watermark mark before its id, in the same statement (sync/event-log.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { appendEvent } from '../../sync/event-log.ts';
import { type Database, concurrentWrite, openDatabase } from './index.ts';
import { beginWith } from './postgres-driver.ts';
import { preparedQuery, statementName } from './prepared.ts';

const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;
const skip = POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set';

interface NotesDb {
  notes: { id: string; body: string };
}

async function withSchema(options: { migrate?: boolean; poolSize?: number }, body: (db: Database, k: Kysely<NotesDb>) => Promise<void>) {
  const schema = `pgdriver_${process.pid}_${Date.now().toString(36)}`;
  const db = openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: schema, pgPoolSize: options.poolSize ?? 2 });
  const k = db.db as unknown as Kysely<NotesDb>;
  try {
    if (options.migrate) await db.migrate();
    else await sql`create schema ${sql.id(schema)}`.execute(k);
    await sql`create table notes (id text primary key, body text not null)`.execute(k);
    await body(db, k);
  } finally {
    await sql`drop schema ${sql.id(schema)} cascade`.execute(k).catch(() => {});
    await db.close();
  }
}

const noteById = preparedQuery((db: Kysely<NotesDb>, p: { id: string }) => db.selectFrom('notes').select(['id', 'body']).where('id', '=', p.id));

test('a prepared query is kept prepared on the connection and answers each call with its own values', { skip }, () =>
  withSchema({ poolSize: 1 }, async (db, k) => {
    await k.insertInto('notes').values([{ id: 'a', body: 'alpha' }, { id: 'b', body: 'beta' }]).execute();
    // One connection (pool of one): the second call finds the statement prepared by the first.
    assert.deepEqual((await noteById(k, { id: 'a' })).rows, [{ id: 'a', body: 'alpha' }]);
    assert.deepEqual((await noteById(k, { id: 'b' })).rows, [{ id: 'b', body: 'beta' }]);
    await db.writeTransaction(async (tx) => {
      assert.deepEqual((await noteById(tx as unknown as Kysely<NotesDb>, { id: 'a' })).rows, [{ id: 'a', body: 'alpha' }]);
    });
    const compiled = k.selectFrom('notes').select(['id', 'body']).where('id', '=', 'x').compile();
    assert.equal(statementName(compiled), undefined, 'an ordinary query is not named');
    const held = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(k);
    const ours = held.rows.filter((r) => r.name.startsWith('mmd_'));
    assert.equal(ours.length, 1, `one named statement on the connection: ${JSON.stringify(held.rows)}`);
    assert.match(ours[0]!.statement, /from "notes" where "id" = \$1/);
  }),
);

test('a statement sent with BEGIN runs inside the transaction; when it fails, the connection comes back usable', { skip }, () =>
  withSchema({ poolSize: 1 }, async (db, k) => {
    await beginWith('select set_config(\'mmd.test\', \'inside\', true)', () =>
      db.db.transaction().execute(async (tx) => {
        const r = await sql<{ v: string }>`select current_setting('mmd.test', true) as v`.execute(tx);
        assert.equal(r.rows[0]!.v, 'inside', 'the statement ran in this transaction');
      }),
    );
    const after = await sql<{ v: string | null }>`select current_setting('mmd.test', true) as v`.execute(k);
    assert.ok(!after.rows[0]!.v, 'set locally: gone with the transaction');
    await assert.rejects(
      beginWith('select 1 / 0', () => db.db.transaction().execute(async () => 'never')),
      /division by zero/,
    );
    // The only connection of the pool is outside any transaction again: a write commits.
    await db.writeTransaction(async (tx) => {
      await (tx as unknown as Kysely<NotesDb>).insertInto('notes').values({ id: 'c', body: 'gamma' }).execute();
    });
    assert.equal((await k.selectFrom('notes').select('id').execute()).length, 1);
  }),
);

test("a transaction's first event takes the watermark mark before its cursor, in one statement; the writers' lock is held from BEGIN", { skip, timeout: 60_000 }, () =>
  withSchema({ migrate: true }, async (db) => {
    await concurrentWrite(() =>
      db.writeTransaction(async (tx) => {
        const before = await sql<{ n: number }>`select count(*)::int as n from pg_locks where pid = pg_backend_pid() and locktype = 'advisory' and objsubid = 2 and mode = 'ShareLock'`.execute(tx);
        assert.equal(before.rows[0]!.n, 1, "the writers' lock (shared for a send) is held before the first statement of the body");
        const stored = await appendEvent(tx, { type: 'profile.updated', conversationId: null, targetAccountId: 'acc_x', data: { n: 1 }, at: Date.now() } as never);
        const second = await appendEvent(tx, { type: 'profile.updated', conversationId: null, targetAccountId: 'acc_x', data: { n: 2 }, at: Date.now() } as never);
        const marks = await sql<{ mark: string }>`select (((classid::bigint << 32) | objid::bigint) & ${(2 ** 53 - 1).toString()}::bigint)::text as mark from pg_locks where pid = pg_backend_pid() and locktype = 'advisory' and objsubid = 1`.execute(tx);
        assert.equal(marks.rows.length, 1, 'one mark for the transaction, whatever its number of events');
        const mark = Number(marks.rows[0]!.mark);
        assert.ok(mark < stored.id && stored.id < second.id, `the mark ${mark} lies below the transaction's cursors ${stored.id}, ${second.id}`);
      }),
    );
  }),
);

test('only the first transaction opened under beginWith runs its statement', { skip }, () =>
  withSchema({ poolSize: 2 }, async (db) => {
    const setting = (tx: Kysely<unknown>) => sql<{ v: string | null }>`select current_setting('mmd.test', true) as v`.execute(tx).then((r) => r.rows[0]!.v);
    await beginWith("select set_config('mmd.test', 'first', true)", () =>
      db.db.transaction().execute(async (outer) => {
        assert.equal(await setting(outer as unknown as Kysely<unknown>), 'first');
        // Another transaction started from inside it (another connection) begins plainly.
        await db.db.transaction().execute(async (inner) => {
          assert.ok(!(await setting(inner as unknown as Kysely<unknown>)), 'the inner transaction did not run it');
        });
      }),
    );
  }),
);
