/**
 * Two API nodes on one PostgreSQL schema and one Redis act as one MMD: what is sent on one reaches
 * streams on the other through Redis (their database polls are a minute apart, so nothing here
 * arrives by polling), typing and rate limits are shared, a revoked device loses its sockets on
 * every node, and when Redis goes away and comes back nothing is lost: the gap is read from the
 * database when the bus reconnects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SyncEvent } from '@mmd/sdk';
import { type ClusterNode, REDIS_URL, type TestCluster, clusterSkipReason, cuttableProxy, startTestCluster } from './cluster-harness.ts';
import { eventually, rejectsWith, uniqueHandle } from './harness.ts';

const skip = clusterSkipReason();

async function signUp(node: ClusterNode) {
  const handle = uniqueHandle();
  const created = await node.anonymous.createAccount({ handle, password: 'correct horse battery' });
  return { handle, token: created.token, accountId: created.account.id, on: (other: ClusterNode) => other.anonymous.as(created.token) };
}

function texts(events: SyncEvent[]) {
  return events.filter((e) => e.type === 'message.created').map((e) => (e.data as { text: string }).text);
}

describe('a cluster of two API nodes on PostgreSQL and Redis', { skip, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  before(async () => {
    cluster = await startTestCluster();
    a = await cluster.node({ config: { loginRateLimit: 4 } });
    b = await cluster.node({ config: { loginRateLimit: 4 } });
  });
  after(async () => cluster?.close());

  test('a message sent on node A reaches a stream on node B at once, in order, once each', async (t) => {
    const alice = await signUp(a);
    const bob = await signUp(b);
    const chat = await alice.on(a).openDirect(bob.handle);
    const received: SyncEvent[] = [];
    const arrivedAt = new Map<string, number>();
    const stream = bob.on(b).stream({
      onEvent: (e) => {
        received.push(e);
        if (e.type === 'message.created') arrivedAt.set((e.data as { text: string }).text, performance.now());
      },
    });
    t.after(() => stream.close());
    await stream.ready;
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const sentAt = performance.now();
      await alice.on(a).send(chat.id, { text: `hello ${i}` });
      // Node B polls its database once a minute here: an arrival within 2 s came through Redis.
      await eventually(`hello ${i} on node B`, () => arrivedAt.has(`hello ${i}`), 2000);
      latencies.push(arrivedAt.get(`hello ${i}`)! - sentAt);
    }
    assert.deepEqual(texts(received), Array.from({ length: 30 }, (_, i) => `hello ${i}`));
    latencies.sort((x, y) => x - y);
    t.diagnostic(`send on A (until answered) → event on B's stream: p50 ${latencies[15]!.toFixed(1)} ms, max ${latencies[29]!.toFixed(1)} ms over 30 sends`);
  });

  test('typing on node A shows on node B', async (t) => {
    const alice = await signUp(a);
    const bob = await signUp(b);
    const chat = await alice.on(a).openDirect(bob.handle);
    const seen: { account_id: string }[] = [];
    const bobStream = bob.on(b).stream({ onEvent: () => {}, onTyping: (typing) => seen.push(typing) });
    const aliceStream = alice.on(a).stream({ onEvent: () => {} });
    t.after(() => {
      bobStream.close();
      aliceStream.close();
    });
    await Promise.all([bobStream.ready, aliceStream.ready]);
    aliceStream.typing(chat.id);
    await eventually('typing on node B', () => seen.find((x) => x.account_id === alice.accountId), 2000);
  });

  test('login attempts are counted across nodes', async () => {
    const carol = await signUp(a);
    // The limit is 4 per handle and address per window: 2 wrong tries on each node use it up.
    for (const node of [a, b, a, b]) await rejectsWith(node.anonymous.login({ handle: carol.handle, password: 'wrong password here' }), 'invalid_credentials', 401);
    await rejectsWith(a.anonymous.login({ handle: carol.handle, password: 'correct horse battery' }), 'rate_limited', 429);
    await rejectsWith(b.anonymous.login({ handle: carol.handle, password: 'correct horse battery' }), 'rate_limited', 429);
  });

  test('signing a device out on node A closes its stream on node B', async (t) => {
    const dave = await signUp(a);
    const errors: string[] = [];
    const stream = dave.on(b).stream({ onEvent: () => {}, onError: (e) => errors.push(e.code) });
    t.after(() => stream.close());
    await stream.ready;
    const [device] = await dave.on(a).devices();
    await dave.on(a).revokeDevice(device!.id);
    await eventually('stream on B closed', () => errors.includes('device_revoked'), 3000);
  });
});

describe('a node whose Redis goes away and comes back', { skip, timeout: 120_000 }, () => {
  test('misses nothing: the events published meanwhile are read from the database on reconnect', async (t) => {
    const cluster = await startTestCluster();
    const proxy = await cuttableProxy(REDIS_URL!);
    t.after(async () => {
      await cluster.close();
      await proxy.close();
    });
    const a = await cluster.node();
    const b = await cluster.node({ redisUrl: proxy.url });
    const alice = await signUp(a);
    const bob = await signUp(b);
    const chat = await alice.on(a).openDirect(bob.handle);
    const received: SyncEvent[] = [];
    const stream = bob.on(b).stream({ onEvent: (e) => received.push(e) });
    t.after(() => stream.close());
    await stream.ready;
    const before = await alice.on(a).send(chat.id, { text: 'before' });
    await eventually('live before the cut', () => texts(received).includes('before'), 2000);
    // Bob's acknowledgement of it becomes a receipt event written on node B, which would make B
    // read the log anyway: let it be written (and B's hub see it) before cutting.
    await eventually('the receipt written', async () => (await alice.on(a).receipts(before.id)).delivered === 1, 10_000);
    // The bus asks B's hub for a second read a second after its subscriber became ready (a publish
    // racing the subscription): let that one pass too, or it would read the cut's sends itself.
    await new Promise((r) => setTimeout(r, 1500));

    proxy.cut();
    for (let i = 0; i < 10; i++) await alice.on(a).send(chat.id, { text: `during ${i}` });
    // Node B heard none of them (its poll is a minute away) …
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(texts(received), ['before']);
    // … and once Redis is back it reads them from the database, in order, once each.
    await proxy.restore();
    await eventually('the gap filled', () => texts(received).length >= 11, 10_000);
    await alice.on(a).send(chat.id, { text: 'after' });
    await eventually('live again', () => texts(received).includes('after'), 3000);
    assert.deepEqual(texts(received), ['before', ...Array.from({ length: 10 }, (_, i) => `during ${i}`), 'after']);
  });
});
