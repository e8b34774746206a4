/**
 * Savepoints in a write transaction: what a failed step wrote, events included, is undone and
 * never published; the steps around it commit. A campaign batch relies on this to fail one
 * recipient (a block, say) without losing the others' messages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../platform/db/index.ts';
import type { PublishedEvent } from '../platform/pubsub/index.ts';
import { createEventWriter } from './write.ts';

const POSTGRES_URL = process.env.MMD_TEST_POSTGRES_URL;

async function dropSchema(schema: string) {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`a failed savepoint undoes its writes and its events; the rest commits and publishes [${dialect}]`, { skip: dialect === 'postgres' && !POSTGRES_URL ? 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' : false }, async () => {
    const schema = `sp_${process.pid}_${Date.now().toString(36)}`;
    const db = dialect === 'sqlite' ? openDatabase({ sqlitePath: ':memory:' }) : openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: schema });
    const published: PublishedEvent[] = [];
    const bus = { publish: (events: PublishedEvent[]) => void published.push(...events), subscribe: () => () => {}, close: async () => {} };
    try {
      await db.migrate();
      const write = createEventWriter(db, bus);
      const receipt = (account: string) => ({ type: 'receipt.updated' as const, conversationId: null, targetAccountId: account, data: { account_id: account, delivered_seq: 1, read_seq: 1 }, at: 1 });
      const outcome = await write(async (tx, emit, savepoint) => {
        const results: string[] = [];
        for (const account of ['acc_a', 'acc_b', 'acc_c']) {
          try {
            await savepoint(async () => {
              await emit(receipt(account));
              await tx.insertInto('server_secrets').values({ name: `secret-${account}`, value: 'v' }).execute();
              // The second step fails after writing: a duplicate key on PostgreSQL aborts the
              // whole transaction unless the savepoint takes it back.
              if (account === 'acc_b') await tx.insertInto('server_secrets').values({ name: `secret-${account}`, value: 'again' }).execute();
            });
            results.push(`${account}: ok`);
          } catch {
            results.push(`${account}: refused`);
          }
        }
        return results;
      });
      assert.deepEqual(outcome, ['acc_a: ok', 'acc_b: refused', 'acc_c: ok']);
      const secrets = (await db.db.selectFrom('server_secrets').select('name').where('name', 'like', 'secret-%').orderBy('name').execute()).map((r) => r.name);
      assert.deepEqual(secrets, ['secret-acc_a', 'secret-acc_c']);
      const stored = await db.db.selectFrom('events').select(['target_account_id']).where('type', '=', 'receipt.updated').orderBy('id').execute();
      assert.deepEqual(
        stored.map((e) => e.target_account_id),
        ['acc_a', 'acc_c'],
      );
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        published.map((e) => e.target_account_id),
        ['acc_a', 'acc_c'],
        'the refused step’s event is never published',
      );
    } finally {
      await db.close();
      if (dialect === 'postgres') await dropSchema(schema);
    }
  });
}

/**
 * emit.many: a campaign batch's events in a few statements. They get consecutive cursors in the
 * order given, every tap sees each one in the transaction, and they publish after commit, or
 * never when the transaction rolls back.
 */
for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`many events at once: cursors in order, each one tapped, published after commit, never after a rollback [${dialect}]`, { skip: dialect === 'postgres' && !POSTGRES_URL ? 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' : false }, async () => {
    const schema = `many_${process.pid}_${Date.now().toString(36)}`;
    const db = dialect === 'sqlite' ? openDatabase({ sqlitePath: ':memory:' }) : openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: schema });
    const published: PublishedEvent[] = [];
    const bus = { publish: (events: PublishedEvent[]) => void published.push(...events), subscribe: () => () => {}, close: async () => {} };
    const tapped: { cursor: number; account: string | null }[] = [];
    try {
      await db.migrate();
      const write = createEventWriter(db, bus, [
        async (_tx, { stored }) => {
          tapped.push({ cursor: stored.id, account: stored.target_account_id });
        },
      ]);
      // More than one statement's worth (250), so the cursors continue across statements.
      const accounts = Array.from({ length: 600 }, (_, i) => `acc_${String(i).padStart(4, '0')}`);
      const receipt = (account: string) => ({ type: 'receipt.updated' as const, conversationId: null, targetAccountId: account, data: { account_id: account, delivered_seq: 1, read_seq: 1 }, at: 7 });
      const stored = await write(async (_tx, emit) => {
        assert.ok(emit.many, 'the writer emits in bulk');
        const one = await emit(receipt('acc_first'));
        const rest = await emit.many(accounts.map(receipt));
        return [one, ...rest];
      });
      const cursors = stored.map((e) => e.id);
      assert.deepEqual(
        cursors,
        cursors.map((_, i) => cursors[0]! + i),
        'consecutive cursors, in the order given',
      );
      assert.deepEqual(
        stored.map((e) => e.target_account_id),
        ['acc_first', ...accounts],
      );
      assert.deepEqual(
        tapped.map((t) => t.cursor),
        cursors,
        'every event tapped once, in order',
      );
      const rows = await db.db.selectFrom('events').select(['id', 'target_account_id', 'payload', 'created_at']).orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => [Number(r.id), r.target_account_id]),
        stored.map((e) => [e.id, e.target_account_id]),
      );
      assert.equal(JSON.parse(rows[5]!.payload).account_id, accounts[4]);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        published.map((e) => e.id),
        cursors,
        'published after commit',
      );
      // A transaction that fails after emitting: nothing stays, nothing is published.
      published.length = 0;
      await assert.rejects(
        write(async (_tx, emit) => {
          await emit.many!(accounts.slice(0, 10).map(receipt));
          throw new Error('the batch fails');
        }),
        /the batch fails/,
      );
      await new Promise((r) => setImmediate(r));
      assert.equal(published.length, 0);
      assert.equal((await db.db.selectFrom('events').select('id').execute()).length, stored.length);
    } finally {
      await db.close();
      if (dialect === 'postgres') await dropSchema(schema);
    }
  });
}

test('writers sharing a group commit: a failing one\'s events are neither stored nor published; the others\' are published only after the shared COMMIT [sqlite]', async () => {
  const db = openDatabase({ sqlitePath: ':memory:' });
  const published: PublishedEvent[] = [];
  let committed = false;
  const bus = {
    publish: (events: PublishedEvent[]) => {
      assert.ok(committed, 'published only after the COMMIT returned');
      published.push(...events);
    },
    subscribe: () => () => {},
    close: async () => {},
  };
  try {
    await db.migrate();
    db.observeCommits(() => {
      committed = true;
    });
    const write = createEventWriter(db, bus);
    const receipt = (account: string) => ({ type: 'receipt.updated' as const, conversationId: null, targetAccountId: account, data: { account_id: account, delivered_seq: 1, read_seq: 1 }, at: 1 });
    const outcomes = await Promise.allSettled(
      ['acc_a', 'acc_b', 'acc_c', 'acc_d'].map((account) =>
        write(async (_tx, emit) => {
          await emit(receipt(account));
          if (account === 'acc_c') throw new Error(`refused ${account}`);
          return account;
        }),
      ),
    );
    assert.deepEqual(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : String((o.reason as Error).message))), ['acc_a', 'acc_b', 'refused acc_c', 'acc_d']);
    const stored = await db.db.selectFrom('events').select(['target_account_id']).orderBy('id').execute();
    assert.deepEqual(stored.map((e) => e.target_account_id), ['acc_a', 'acc_b', 'acc_d']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(published.map((e) => e.target_account_id), ['acc_a', 'acc_b', 'acc_d']);
  } finally {
    await db.close();
  }
});
