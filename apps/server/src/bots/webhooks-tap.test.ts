/**
 * The webhook tap over a batch (emit.many, a campaign's events): the same deliveries as one event
 * at a time, with the active webhooks read once for the batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../platform/db/index.ts';
import { type EventTap, createEventWriter } from '../sync/index.ts';
import { createWebhooks } from './webhooks.ts';

test('a batch of events makes the same webhook deliveries as the events one by one', async () => {
  const db = openDatabase({ sqlitePath: ':memory:' });
  try {
    await db.migrate();
    for (const id of ['acc_bot', 'acc_other']) {
      await db.db.insertInto('accounts').values({ id, handle: id, handle_key: id, password_hash: 'x', kind: id === 'acc_bot' ? 'bot' : 'person', role: 'user', created_at: 1 } as never).execute();
    }
    await db.db.insertInto('webhooks').values({ id: 'whk_1', account_id: 'acc_bot', url: 'https://example.com/hook', events: null, secret: 'whsec_x', kind: 'standard', purpose: null, status: 'active', created_at: 1 } as never).execute();
    const bus = { publish: () => {}, subscribe: () => () => {}, close: async () => {} };
    const taps: EventTap[] = [];
    const write = createEventWriter(db, bus, taps);
    const webhooks = createWebhooks({
      db,
      write,
      clock: () => 1_000,
      config: { allowPrivate: false, timeoutMs: 1000, perReceiverConcurrency: 1, retryBaseMs: 1000, retryMaxDelayMs: 1000, retryWindowMs: 1000, disableAfterMs: 1000, maxPerAccount: 5 },
      enqueue: async () => {},
      ownerOf: async () => null,
    });
    taps.push(webhooks.tap);
    assert.ok(webhooks.tap.many, 'the webhook tap reads its webhooks once per batch');
    // To the bot (a delivery each, but not its own receipt), to someone else (none).
    const receipt = (to: string, by: string) => ({ type: 'receipt.updated' as const, conversationId: null, targetAccountId: to, data: { account_id: by, delivered_seq: 1, read_seq: 1 }, at: 5 });
    const batch = [receipt('acc_bot', 'acc_other'), receipt('acc_other', 'acc_bot'), receipt('acc_bot', 'acc_bot'), receipt('acc_bot', 'acc_other')];
    const deliveries = async () => (await db.db.selectFrom('webhook_deliveries').select(['webhook_id', 'event_type', 'body']).orderBy('cursor').execute()).map((d) => ({ ...d, body: JSON.parse(d.body).data.data }));
    const one = await write(async (_tx, emit) => {
      const out = [];
      for (const e of batch) out.push(await emit(e));
      return out;
    });
    const singly = await deliveries();
    await db.db.deleteFrom('webhook_deliveries').execute();
    const many = await write(async (_tx, emit) => emit.many!(batch));
    const together = await deliveries();
    assert.equal(singly.length, 2, 'two events reach the bot, its own receipt does not');
    assert.deepEqual(together, singly);
    // Each names its own event's cursor.
    const cursors = await db.db.selectFrom('webhook_deliveries').select('cursor').orderBy('cursor').execute();
    assert.deepEqual(
      cursors.map((c) => Number(c.cursor)),
      [many[0]!.id, many[3]!.id],
    );
    assert.notDeepEqual(
      one.map((e) => e.id),
      many.map((e) => e.id),
    );
  } finally {
    await db.close();
  }
});
