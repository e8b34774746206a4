import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Ack, createAckBatcher } from './acks.ts';

const quiet = { warn() {} };

test('acknowledgements in one interval become one write, with the highest cursor per account', async () => {
  const writes: Ack[][] = [];
  const acks = createAckBatcher({ write: async (batch) => void writes.push(batch), intervalMs: 20, log: quiet });
  for (let i = 1; i <= 1000; i++) acks.add(`acc_${i % 3}`, i);
  acks.add('acc_1', 5); // an old cursor arriving late does not lower the mark
  await acks.addAndWait('acc_9', 7);
  assert.equal(writes.length, 1);
  assert.deepEqual(
    writes[0]!.sort((a, b) => a.accountId.localeCompare(b.accountId)),
    [
      { accountId: 'acc_0', cursor: 999 },
      { accountId: 'acc_1', cursor: 1000 },
      { accountId: 'acc_2', cursor: 998 },
      { accountId: 'acc_9', cursor: 7 },
    ],
  );
  await acks.stop();
});

test('a failed write is retried with the acknowledgements that came after it; stop writes what is pending', async () => {
  const writes: Ack[][] = [];
  let fail = true;
  const acks = createAckBatcher({
    write: async (batch) => {
      if (fail) throw new Error('database unavailable');
      writes.push(batch);
    },
    intervalMs: 20,
    log: quiet,
  });
  await assert.rejects(acks.addAndWait('acc_a', 10), /unavailable/);
  fail = false;
  acks.add('acc_b', 3);
  await acks.flush();
  assert.deepEqual(writes, [[{ accountId: 'acc_a', cursor: 10 }, { accountId: 'acc_b', cursor: 3 }]]);
  acks.add('acc_a', 12);
  await acks.stop();
  assert.deepEqual(writes.at(-1), [{ accountId: 'acc_a', cursor: 12 }]);
});

test('a burst starts its write once maxPending accounts are waiting, without waiting for the interval', async () => {
  const writes: Ack[][] = [];
  // An interval far beyond the test's life: only the size trigger can write.
  const acks = createAckBatcher({ write: async (batch) => void writes.push(batch), intervalMs: 60_000, maxPending: 100, log: quiet });
  for (let i = 0; i < 99; i++) acks.add(`acc_${i}`, 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(writes.length, 0, 'under the threshold, acknowledgements wait for the interval');
  const written = acks.addAndWait('acc_99', 1);
  await written;
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.length, 100);
  // Repeats of an account already pending do not count twice.
  for (let i = 0; i < 150; i++) acks.add('acc_again', i);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(writes.length, 1);
  await acks.stop();
  assert.deepEqual(writes.at(-1), [{ accountId: 'acc_again', cursor: 149 }]);
});
