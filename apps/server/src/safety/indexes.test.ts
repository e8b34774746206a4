/**
 * Each process's bank index follows the database by id: signals added and removals logged. A
 * process told of a change on the bus reads it at once; one that missed the announcement reads
 * it at its next refresh (the one every screening makes), so nothing depends on the bus.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../platform/db/index.ts';
import { createLocalEventBus } from '../platform/pubsub/index.ts';
import { createSafetyIndexes } from './indexes.ts';
import { insertSignals, removeSignals } from './store.ts';

const PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

async function until(what: string, check: () => boolean) {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
}

test('an announced bank change reaches a listening index at once; one that missed it catches up at its next refresh', async (t) => {
  const db = openDatabase({ sqlitePath: ':memory:' });
  t.after(() => db.close());
  await db.migrate();
  await db.db.insertInto('safety_banks').values({ id: 'bnk_1', name: 'b', category: 'other', source: null, action: 'block', pdq_threshold: 31, system: null, trusted: 0, created_by: null, created_at: 0 }).execute();
  const bus = createLocalEventBus();
  const writer = createSafetyIndexes(db, { bus });
  const listening = createSafetyIndexes(db, { bus });
  const deaf = createSafetyIndexes(db);
  t.after(() => {
    for (const index of [writer, listening, deaf]) index.close();
  });
  await Promise.all([writer.refresh(), listening.refresh(), deaf.refresh()]);

  const [signal] = await db.writeTransaction((tx) => insertSignals(tx, { bankId: 'bnk_1', signals: [{ type: 'pdq', value: PDQ, label: null, origin: 'paste' }], createdBy: null, now: 1 }));
  writer.announce();
  await until('the listening index read the new signal', () => listening.banks.has(signal!.id));
  assert.equal(deaf.banks.has(signal!.id), false, 'no announcement, no read yet');
  await deaf.refresh();
  assert.equal(deaf.banks.has(signal!.id), true);

  await db.writeTransaction((tx) => removeSignals(tx, { bankId: 'bnk_1', ids: [signal!.id], now: 2 }));
  writer.announce();
  await until('the listening index dropped it', () => !listening.banks.has(signal!.id));
  assert.equal(deaf.banks.has(signal!.id), true);
  await deaf.refresh();
  assert.equal(deaf.banks.has(signal!.id), false, 'the removal log is the record');

  // A process starting now loads neither the removed signal nor the removals before it.
  const late = createSafetyIndexes(db);
  await late.refresh();
  assert.equal(late.stats().signals, 0);
});

test('removing signals logs only those that were there', async (t) => {
  const db = openDatabase({ sqlitePath: ':memory:' });
  t.after(() => db.close());
  await db.migrate();
  await db.db.insertInto('safety_banks').values({ id: 'bnk_1', name: 'b', category: 'other', source: null, action: 'block', pdq_threshold: 31, system: null, trusted: 0, created_by: null, created_at: 0 }).execute();
  const added = await db.writeTransaction((tx) => insertSignals(tx, { bankId: 'bnk_1', signals: [{ type: 'md5', value: '0'.repeat(32), label: null, origin: 'paste' }, { type: 'md5', value: '1'.repeat(32), label: null, origin: 'peer' }], createdBy: null, now: 1 }));
  const removed = await db.writeTransaction((tx) => removeSignals(tx, { ids: [...added.map((s) => s.id), 9999], origin: 'peer', now: 2 }));
  assert.deepEqual(removed, [added[1]!.id]);
  const log = await db.db.selectFrom('safety_signal_removals').select('signal_id').execute();
  assert.deepEqual(log.map((r) => Number(r.signal_id)), [added[1]!.id]);
});
