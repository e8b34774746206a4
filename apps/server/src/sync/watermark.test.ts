/**
 * PostgreSQL's event writers commit out of cursor order (no lock serialises them; see
 * platform/db/event-watermark.ts): readers advance only to the watermark. These tests hold one
 * transaction open on purpose and check what readers — a `/v1/updates` page, the `state` cursor,
 * the live hub — may see meanwhile.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import pg from 'pg';
import { type Database, concurrentWrite, openDatabase } from '../platform/db/index.ts';
import { createLocalEventBus } from '../platform/pubsub/index.ts';
import { type NewEvent, type StoredEvent, appendEvent, eventsVisibleTo, visibleCursor, visibleUpTo } from './event-log.ts';
import { createSyncHub } from './hub.ts';

const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;
const skip = POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set';
const ACCOUNT = 'acc_watermark';

/** An event addressed to ACCOUNT alone (no membership needed to read it). */
function event(n: string): NewEvent {
  return { type: 'profile.updated', conversationId: null, targetAccountId: ACCOUNT, data: { n }, at: Date.now() } as unknown as NewEvent;
}

/** What `/v1/updates` answers (sync/routes.ts): the account's events after `after`, up to the visible cursor. */
async function updatesPage(db: Database, after: number): Promise<number[]> {
  const events = await eventsVisibleTo(db.db, { accountId: ACCOUNT, after, upTo: await visibleUpTo(db), limit: 100 });
  return events.map((e) => e.id);
}

async function withSchema(fn: (db: Database, schema: string) => Promise<void>): Promise<void> {
  const schema = `wm_${process.pid}_${Date.now().toString(36)}`;
  const db = openDatabase({ databaseUrl: POSTGRES_URL!, pgSchema: schema });
  try {
    await db.migrate();
    await fn(db, schema);
  } finally {
    await db.close();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

/** A write transaction that appends one event, reports its cursor, and commits when told. */
function heldWrite(db: Database, n: string) {
  let commit: () => void = () => {};
  const release = new Promise<void>((r) => (commit = r));
  let taken: (id: number) => void = () => {};
  const cursor = new Promise<number>((r) => (taken = r));
  const done = concurrentWrite(() => db.writeTransaction(async (tx) => {
    const stored = await appendEvent(tx, event(n));
    taken(stored.id);
    await release;
    return stored.id;
  }));
  return { cursor, commit, done };
}

test(
  'a reader between two commits out of cursor order does not pass the smaller cursor, and gets both after',
  { skip, timeout: 60_000 },
  () =>
    withSchema(async (db) => {
      const bus = createLocalEventBus({ pollMs: 60_000 });
      const hub = createSyncHub({ db, bus, pollMs: 60_000 });
      await hub.start();
      const live: number[] = [];
      const attached = await hub.attach({ accountId: ACCOUNT, send: (e: StoredEvent) => live.push(e.id), close: () => {} }, 0);
      const first = heldWrite(db, 'smaller');
      let second: ReturnType<typeof heldWrite> | null = null;
      try {
        const a = await first.cursor;
        // Started once the first holds its cursor, so it takes the larger one.
        second = heldWrite(db, 'larger');
        const b = await second.cursor;
        assert.ok(a < b, `the held transaction took the smaller cursor (${a} < ${b})`);
        second.commit();
        await second.done;
        // The hazard is real: the larger cursor is committed, the smaller is not.
        const committed = await db.db.selectFrom('events').select('id').where('target_account_id', '=', ACCOUNT).execute();
        assert.deepEqual(committed.map((r) => Number(r.id)), [b], 'only the larger cursor is committed so far');
        bus.publish([{ id: b, conversation_id: null, target_account_id: ACCOUNT, type: 'profile.updated', seq: null, payload: '{"n":"larger"}', created_at: Date.now(), members_joined_by: null }]);

        // Readers between the two commits stop below the smaller cursor.
        const w = await visibleCursor(db);
        assert.ok(w < a, `the visible cursor ${w} stays below the open transaction's ${a}`);
        assert.deepEqual(await updatesPage(db, 0), [], 'an updates page does not hand out the larger cursor yet');
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(live, [], 'the hub does not deliver the larger cursor live yet');

        first.commit();
        await first.done;
        // Published after its commit, as the event writer does; the hub then dispatches both, in order.
        bus.publish([{ id: a, conversation_id: null, target_account_id: ACCOUNT, type: 'profile.updated', seq: null, payload: '{"n":"smaller"}', created_at: Date.now(), members_joined_by: null }]);
        assert.ok((await visibleCursor(db)) >= b, 'the visible cursor reaches the larger cursor once both committed');
        assert.deepEqual(await updatesPage(db, 0), [a, b], 'an updates page now has both, in cursor order');
        for (let i = 0; i < 200 && live.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(live, [a, b], 'the hub delivers both live, the smaller first');
      } finally {
        // A failed assertion must not leave a transaction open (closing the pool would wait for it).
        first.commit();
        second?.commit();
        await Promise.allSettled([first.done, second?.done]);
        attached.detach();
        await hub.stop();
      }
    }),
);

test(
  'a transaction rolled back below others holds readers only until it ends',
  { skip, timeout: 60_000 },
  () =>
    withSchema(async (db) => {
      const failed = concurrentWrite(() => db.writeTransaction(async (tx) => {
        await appendEvent(tx, event('rolled back'));
        throw new Error('rolled back on purpose');
      }));
      await assert.rejects(failed, /on purpose/);
      const kept = heldWrite(db, 'kept');
      const k = await kept.cursor;
      kept.commit();
      await kept.done;
      assert.ok((await visibleCursor(db)) >= k);
      assert.deepEqual(await updatesPage(db, 0), [k], 'the hole left by the rollback is skipped');
    }),
);

test(
  "a process killed (SIGKILL) with an event transaction open: the others' visible cursor moves on once PostgreSQL aborts it",
  { skip, timeout: 120_000 },
  () =>
    withSchema(async (db, schema) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./watermark-child.ts', import.meta.url)), POSTGRES_URL!, schema], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const [line] = (await once(child.stdout!, 'data')) as [Buffer];
        const orphan = Number(line.toString().trim());
        assert.ok(orphan > 0, `the child took cursor ${orphan}`);
        const after = heldWrite(db, 'after the orphan');
        const c = await after.cursor;
        after.commit();
        await after.done;
        assert.ok(c > orphan);
        assert.ok((await visibleCursor(db)) < orphan, 'while the child lives, readers wait below its open transaction');
        assert.deepEqual(await updatesPage(db, 0), []);

        const killedAt = Date.now();
        child.kill('SIGKILL');
        let w = 0;
        while (Date.now() - killedAt < 10_000) {
          w = await visibleCursor(db);
          if (w >= c) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const seconds = (Date.now() - killedAt) / 1000;
        assert.ok(w >= c, `the visible cursor passed ${c} within 10 s of the kill (it is ${w})`);
        assert.deepEqual(await updatesPage(db, 0), [c], "the killed process's event never appears; the later one does");
        console.log(`# visible cursor moved on ${seconds.toFixed(3)} s after SIGKILL`);
      } finally {
        child.kill('SIGKILL');
      }
    }),
);

test(
  'sends (concurrentWrite) run side by side, every other write transaction waits for them and holds them off',
  { skip, timeout: 60_000 },
  () =>
    withSchema(async (db) => {
      const order: string[] = [];
      // Two concurrent writes both hold their transaction open at once: neither waits for the other.
      const one = heldWrite(db, 'send 1');
      const two = heldWrite(db, 'send 2');
      await Promise.all([one.cursor, two.cursor]);
      // An ordinary write (not audited for concurrency) starts only once both have committed.
      const plain = db.writeTransaction(async (tx) => {
        order.push('plain started');
        await appendEvent(tx, event('plain'));
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([...order], [], 'the ordinary write waits while sends are open');
      one.commit();
      await one.done;
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual([...order], [], 'it still waits for the second send');
      two.commit();
      await two.done;
      await plain;
      assert.deepEqual([...order], ['plain started']);

      // And a send waits for an ordinary write that is open.
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      let entered: () => void = () => {};
      const inside = new Promise<void>((r) => (entered = r));
      const exclusive = db.writeTransaction(async (tx) => {
        await appendEvent(tx, event('exclusive'));
        entered();
        await gate;
        order.push('exclusive committed');
      });
      await inside;
      const send = heldWrite(db, 'send 3');
      const started = send.cursor.then(() => order.push('send started'));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([...order], ['plain started'], 'the send has not started while the ordinary write is open');
      release();
      await exclusive;
      await started;
      send.commit();
      await send.done;
      assert.deepEqual([...order], ['plain started', 'exclusive committed', 'send started']);
    }),
);
