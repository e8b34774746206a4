import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_AMPLIFICATION, type ShareRecord, detectNetworks } from './amplification.ts';

const DAY = 86_400_000;
const now = 1_800_000_000_000;
const old = (ids: string[]) => new Map(ids.map((id) => [id, now - 400 * DAY]));

test('one coincidence is not coordination: many people sharing the same viral picture within seconds are not a network', () => {
  const shares: ShareRecord[] = Array.from({ length: 40 }, (_, i) => ({
    sender: `p${i}`,
    cluster: 1,
    conversation: `c${i}`,
    at: now - 60_000 + i * 500,
  }));
  assert.deepEqual(detectNetworks(shares, old(shares.map((s) => s.sender))), []);
});

test('accounts co-sharing several different pictures within the window are one network, with their evidence', () => {
  const ring = ['a', 'b', 'c', 'd'];
  const shares: ShareRecord[] = [];
  for (let k = 0; k < 3; k++)
    ring.forEach((id, i) => {
      shares.push({
        sender: id,
        cluster: 10 + k,
        conversation: `${id}${k}`,
        at: now - (3 - k) * 3_600_000 + i * 2_000,
      });
    });
  // Someone who shared one of them at the same moment, once, stays out.
  shares.push({ sender: 'x', cluster: 10, conversation: 'x0', at: now - 3 * 3_600_000 + 1_000 });
  const [net, ...rest] = detectNetworks(shares, old([...ring, 'x']));
  assert.equal(rest.length, 0);
  assert.deepEqual(net!.accounts.map((a) => a.accountId).sort(), ring);
  assert.deepEqual(net!.clusters, [10, 11, 12]);
  assert.equal(net!.chats, 12);
  assert.equal(net!.young, 0);
});

test('co-sharing outside the window does not count, and pairs under the cluster threshold are not linked', () => {
  const shares: ShareRecord[] = [];
  for (let k = 0; k < 3; k++)
    ['a', 'b', 'c'].forEach((id, i) => {
      shares.push({
        sender: id,
        cluster: k,
        conversation: `${id}${k}`,
        at: now - k * 3_600_000 + i * (DEFAULT_AMPLIFICATION.windowMs + 1),
      });
    });
  assert.deepEqual(detectNetworks(shares, old(['a', 'b', 'c'])), []);
  const two: ShareRecord[] = [];
  for (let k = 0; k < DEFAULT_AMPLIFICATION.minClusters - 1; k++)
    ['a', 'b', 'c'].forEach((id, i) => {
      two.push({ sender: id, cluster: k, conversation: `${id}${k}`, at: now - k * 3_600_000 + i * 1_000 });
    });
  assert.deepEqual(detectNetworks(two, old(['a', 'b', 'c'])), []);
});

test('young accounts and machine-like timing are evidence, and lower the bar by one picture', () => {
  const ring = ['a', 'b', 'c'];
  const shares: ShareRecord[] = [];
  for (let k = 0; k < DEFAULT_AMPLIFICATION.minClusters - 1; k++)
    ring.forEach((id, i) => {
      // Each posts into 5 chats exactly 15 s apart: regular, like a script.
      for (let j = 0; j < 5; j++)
        shares.push({
          sender: id,
          cluster: k,
          conversation: `${id}${k}${j}`,
          at: now - (5 - k) * 3_600_000 + i * 1_000 + j * 15_000,
        });
    });
  const young = new Map(ring.map((id) => [id, now - 2 * DAY]));
  const [net] = detectNetworks(shares, young);
  assert.ok(net, 'two pictures suffice for young, scripted accounts');
  assert.equal(net.young, 3);
  assert.equal(net.machineLike, 3);
  assert.ok(net.accounts.every((a) => a.timingCv !== null && a.timingCv < DEFAULT_AMPLIFICATION.machineCv));
  assert.deepEqual(
    detectNetworks(shares, old(ring)).length,
    1,
    'machine-like timing alone also lowers the bar',
  );
});
