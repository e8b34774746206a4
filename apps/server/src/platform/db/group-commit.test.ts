/**
 * Group commit on SQLite (group-commit.ts): writes that arrive together share one COMMIT, a write
 * that fails inside a group fails alone with its own error, and nobody is answered before the
 * shared COMMIT has made their write visible to other connections.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { type Database, openDatabase } from './index.ts';

async function withSqlite(body: (db: Database, file: string) => Promise<void>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-group-commit-'));
  const file = path.join(dir, 'db.sqlite');
  const db = openDatabase({ sqlitePath: file });
  try {
    await sql`create table notes (id integer primary key, body text not null unique)`.execute(db.db);
    await body(db, file);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bodies(db: Database) {
  const rows = await sql<{ body: string }>`select body from notes order by id`.execute(db.db);
  return rows.rows.map((r) => r.body);
}

test('writes that arrive together share one commit', async () => {
  await withSqlite(async (db) => {
    const commits: number[] = [];
    db.observeCommits((s) => commits.push(s));
    const writes = Array.from({ length: 20 }, (_, i) =>
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values (${`n${i}`})`.execute(tx);
        return i;
      }),
    );
    assert.deepEqual(await Promise.all(writes), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(commits.length, 1, 'twenty writes issued in one tick, one COMMIT');
    assert.equal((await bodies(db)).length, 20);
  });
});

test('a write that fails inside a group fails alone, with its own error, and the others commit', async () => {
  await withSqlite(async (db) => {
    await sql`insert into notes (body) values ('taken')`.execute(db.db);
    const refusal = new Error('refused by its own check');
    const outcomes = await Promise.allSettled([
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('a')`.execute(tx);
      }),
      // Writes a row, then throws: the row must not survive.
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('half-done')`.execute(tx);
        throw refusal;
      }),
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('b')`.execute(tx);
      }),
      // A statement SQLite refuses (unique constraint) after one it accepted.
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('also-half-done')`.execute(tx);
        await sql`insert into notes (body) values ('taken')`.execute(tx);
      }),
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('c')`.execute(tx);
      }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    assert.equal((outcomes[1] as PromiseRejectedResult).reason, refusal, 'the caller gets its own error');
    assert.equal(((outcomes[3] as PromiseRejectedResult).reason as { code?: string }).code, 'SQLITE_CONSTRAINT_UNIQUE');
    assert.deepEqual(await bodies(db), ['taken', 'a', 'b', 'c']);
  });
});

test('a failing first write of a group fails alone; the writes queued behind it still commit', async () => {
  await withSqlite(async (db) => {
    const outcomes = await Promise.allSettled([
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('first')`.execute(tx);
        throw new Error('no');
      }),
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('second')`.execute(tx);
      }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled']);
    assert.deepEqual(await bodies(db), ['second']);
  });
});

test('a write nesting savepoints of its own inside a group rolls back only what it asked to', async () => {
  await withSqlite(async (db) => {
    const results = await Promise.all([
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('x')`.execute(tx);
      }),
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('kept')`.execute(tx);
        await sql`savepoint inner_one`.execute(tx);
        await sql`insert into notes (body) values ('undone')`.execute(tx);
        await sql`rollback to savepoint inner_one`.execute(tx);
        await sql`release savepoint inner_one`.execute(tx);
        return 'ok';
      }),
    ]);
    assert.equal(results[1], 'ok');
    assert.deepEqual(await bodies(db), ['x', 'kept']);
  });
});

test('every caller is answered only after the shared COMMIT: another connection already sees its write', async () => {
  await withSqlite(async (db, file) => {
    const other = new BetterSqlite3(file, { readonly: true });
    try {
      const seenByOther: boolean[] = [];
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          db
            .writeTransaction(async (tx) => {
              await sql`insert into notes (body) values (${`w${i}`})`.execute(tx);
            })
            .then(() => {
              seenByOther.push(other.prepare('select 1 from notes where body = ?').get(`w${i}`) !== undefined);
            }),
        ),
      );
      assert.deepEqual(seenByOther, Array(10).fill(true));
    } finally {
      other.close();
    }
  });
});

test('when the shared COMMIT fails, every write of the group fails and none is written', async () => {
  await withSqlite(async (db) => {
    // A deferred foreign key is checked at COMMIT: one write's dangling reference fails them all.
    await sql`create table parents (id integer primary key)`.execute(db.db);
    await sql`create table children (id integer primary key, parent_id integer references parents(id) deferrable initially deferred)`.execute(db.db);
    const outcomes = await Promise.allSettled([
      db.writeTransaction(async (tx) => {
        await sql`insert into notes (body) values ('innocent')`.execute(tx);
      }),
      db.writeTransaction(async (tx) => {
        await sql`insert into children (parent_id) values (42)`.execute(tx);
      }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
    assert.deepEqual(await bodies(db), []);
    // The next group is unaffected.
    await db.writeTransaction(async (tx) => {
      await sql`insert into notes (body) values ('later')`.execute(tx);
    });
    assert.deepEqual(await bodies(db), ['later']);
  });
});
