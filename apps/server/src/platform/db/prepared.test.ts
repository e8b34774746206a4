/**
 * Prepared queries (prepared.ts): compiled once per database, each call runs with its own values,
 * in the caller's transaction, on SQLite and on PostgreSQL; a builder whose SQL would depend on a
 * value is refused instead of silently running the first call's shape.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { type Database, openDatabase } from './index.ts';
import { preparedQuery } from './prepared.ts';

const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;

interface NotesDb {
  notes: { id: string; body: string; rank: number | null };
}

async function withDatabase(dialect: 'sqlite' | 'postgres', body: (db: Database, k: Kysely<NotesDb>) => Promise<void>) {
  const schema = `prepared_${process.pid}_${Date.now().toString(36)}`;
  const db = dialect === 'sqlite' ? openDatabase({}) : openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: schema });
  const k = db.db as unknown as Kysely<NotesDb>;
  try {
    if (dialect === 'postgres') await sql`create schema ${sql.id(schema)}`.execute(k);
    await sql`create table notes (id text primary key, body text not null, rank integer)`.execute(k);
    await body(db, k);
  } finally {
    if (dialect === 'postgres') await sql`drop schema ${sql.id(schema)} cascade`.execute(k).catch(() => {});
    await db.close();
  }
}

const insertNote = preparedQuery((db: Kysely<NotesDb>, p: { id: string; body: string; rank: number | null }) =>
  db.insertInto('notes').values({ id: p.id, body: p.body, rank: p.rank }).returning('id'),
);
// A constant of the builder's own ('note') sits among the parameters, between the caller's.
const notesLike = preparedQuery((db: Kysely<NotesDb>, p: { min: number; id: string }) =>
  db.selectFrom('notes').select(['id', 'body']).where('rank', '>=', p.min).where('body', '!=', 'note').where('id', '!=', p.id).orderBy('id'),
);

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(
    `a prepared query runs with each call's values, on the handle and inside a transaction (${dialect})`,
    { skip: dialect === 'postgres' && !POSTGRES_URL ? 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' : false },
    async () => {
      await withDatabase(dialect, async (db, k) => {
        const first = await insertNote(k, { id: 'a', body: 'alpha', rank: 1 });
        assert.deepEqual(first.rows, [{ id: 'a' }]);
        await insertNote(k, { id: 'b', body: 'note', rank: 5 });
        await db.writeTransaction(async (tx) => {
          await insertNote(tx as unknown as Kysely<NotesDb>, { id: 'c', body: 'gamma', rank: null });
          await insertNote(tx as unknown as Kysely<NotesDb>, { id: 'd', body: 'delta', rank: 7 });
        });
        assert.deepEqual((await notesLike(k, { min: 1, id: 'zz' })).rows, [
          { id: 'a', body: 'alpha' },
          { id: 'd', body: 'delta' },
        ]);
        assert.deepEqual((await notesLike(k, { min: 2, id: 'd' })).rows, []);
        // A write that fails inside a transaction rolls back with it, like any other statement.
        await assert.rejects(
          db.writeTransaction(async (tx) => {
            await insertNote(tx as unknown as Kysely<NotesDb>, { id: 'e', body: 'epsilon', rank: 9 });
            await insertNote(tx as unknown as Kysely<NotesDb>, { id: 'a', body: 'duplicate', rank: 9 });
          }),
        );
        const ids = (await k.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => r.id);
        assert.deepEqual(ids, ['a', 'b', 'c', 'd']);
      });
    },
  );
}

test('a builder whose SQL would change with a value is refused at its first call', async () => {
  await withDatabase('sqlite', async (_db, k) => {
    const inLogic = preparedQuery((db: Kysely<NotesDb>, p: { all: boolean }) => (p.all ? db.selectFrom('notes').select('id') : db.selectFrom('notes').select('id').where('rank', '>', 0)));
    await assert.rejects(inLogic(k, { all: true }), /shapes the query/);
    const inside = preparedQuery((db: Kysely<NotesDb>, p: { prefix: string }) => db.selectFrom('notes').select('id').where('body', 'like', `${p.prefix}%`));
    await assert.rejects(inside(k, { prefix: 'al' }), /inside a larger value/);
  });
});
