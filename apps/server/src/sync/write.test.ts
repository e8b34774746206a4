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
      if (dialect === 'postgres') {
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      }
    }
  });
}
