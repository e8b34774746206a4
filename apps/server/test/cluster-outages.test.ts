/**
 * A cluster's shared services failing under it, on loopback and bounded in time:
 *
 * - its Redis killed with SIGKILL and started again (a private redis-server on a spare port, never
 *   the shared one): live delivery resumes by itself and the events sent meanwhile arrive, in
 *   order, once each, read from the database; routes whose limits live in Redis refuse with 503
 *   while it is away rather than go unlimited;
 * - its PostgreSQL cut off (a TCP proxy in front of the shared server, closed or made silent):
 *   requests are answered at once, or within the connect timeout, with 503 problem+json `unavailable`,
 *   /readyz says not ready, and everything works again when it returns.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { SyncEvent } from '@mmd/sdk';
import { freePort, killHard } from './child-server.ts';
import { type ClusterNode, cuttableProxy, clusterSkipReason, startTestCluster } from './cluster-harness.ts';
import { POSTGRES_URL, eventually, rejectsWith, uniqueHandle } from './harness.ts';

const REDIS_SERVER = '/usr/bin/redis-server';
const skip = clusterSkipReason();

async function signUp(node: ClusterNode) {
  const handle = uniqueHandle();
  const created = await node.anonymous.createAccount({ handle, password: 'correct horse battery' });
  return { handle, token: created.token, accountId: created.account.id, on: (other: ClusterNode) => other.anonymous.as(created.token) };
}

const texts = (events: SyncEvent[]) => events.filter((e) => e.type === 'message.created').map((e) => (e.data as { text: string }).text);

/** A redis-server of this test's own: nothing on disk, loopback only. */
async function privateRedis(port: number): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await eventually('redis-server listening', async () => {
    try {
      const { Redis } = await import('ioredis');
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      await probe.connect();
      const pong = await probe.ping();
      probe.disconnect();
      return pong === 'PONG';
    } catch {
      return false;
    }
  }, 10_000);
  return child;
}

describe('Redis killed with SIGKILL and restarted', { skip: skip || (existsSync(REDIS_SERVER) ? false : `redis-server not found at ${REDIS_SERVER}`), timeout: 180_000 }, () => {
  test('live delivery resumes, nothing sent meanwhile is lost, and Redis-counted limits refuse while it is away', async (t) => {
    const port = await freePort();
    let redis = await privateRedis(port);
    const cluster = await startTestCluster();
    t.after(async () => {
      await cluster.close();
      await killHard(redis);
    });
    const redisUrl = `redis://127.0.0.1:${port}`;
    const a = await cluster.node({ redisUrl });
    const b = await cluster.node({ redisUrl });
    const alice = await signUp(a);
    const bob = await signUp(b);
    const chat = await alice.on(a).openDirect(bob.handle);
    const received: SyncEvent[] = [];
    const stream = bob.on(b).stream({ onEvent: (e) => received.push(e) });
    t.after(() => stream.close());
    await stream.ready;
    const first = await alice.on(a).send(chat.id, { text: 'before' });
    await eventually('live before the kill', () => texts(received).includes('before'), 3000);
    await eventually('the receipt written', async () => (await alice.on(a).receipts(first.id)).delivered === 1, 10_000);
    await new Promise((r) => setTimeout(r, 1500));

    await killHard(redis);
    // Sends need only the database: they succeed, and B's hub (polling once a minute) hears nothing…
    for (let i = 0; i < 10; i++) await alice.on(a).send(chat.id, { text: `during ${i}` });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(texts(received), ['before']);
    // …while a limit kept in Redis cannot be checked: refused, not skipped.
    await rejectsWith(b.anonymous.login({ handle: bob.handle, password: 'correct horse battery' }), 'unavailable', 503);

    redis = await privateRedis(port);
    await eventually('the gap filled from the database', () => texts(received).length >= 11, 15_000);
    await eventually('sign-in works again', async () => {
      try {
        await b.anonymous.login({ handle: bob.handle, password: 'correct horse battery' });
        return true;
      } catch {
        return false;
      }
    }, 10_000);
    await alice.on(a).send(chat.id, { text: 'after' });
    await eventually('live again', () => texts(received).includes('after'), 5000);
    assert.deepEqual(texts(received), ['before', ...Array.from({ length: 10 }, (_, i) => `during ${i}`), 'after']);
  });
});

describe('PostgreSQL unreachable', { skip, timeout: 180_000 }, () => {
  test('requests fail fast with 503 problem+json, /readyz says not ready, and all recovers when it returns', async (t) => {
    const cluster = await startTestCluster();
    const proxy = await cuttableProxy(POSTGRES_URL!);
    t.after(async () => {
      await cluster.close();
      await proxy.close();
    });
    const node = await cluster.node({ databaseUrl: proxy.url, config: { databaseConnectTimeoutMs: 1000 } });
    const alice = await signUp(node);
    const bob = await signUp(node);
    const chat = await alice.on(node).openDirect(bob.handle);
    await alice.on(node).send(chat.id, { text: 'before' });
    assert.equal((await fetch(`${node.url}/readyz`)).status, 200);

    /** The answer to a request while the database is away: how long it took, and what it said. */
    const refused = async (path: string, init: RequestInit = {}) => {
      const started = performance.now();
      const response = await fetch(`${node.url}${path}`, { ...init, headers: { authorization: `Bearer ${alice.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
      const ms = performance.now() - started;
      assert.equal(response.status, 503, path);
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = (await response.json()) as { code: string; status: number };
      assert.equal(problem.code, 'unavailable');
      assert.equal(problem.status, 503);
      return ms;
    };

    // Cut: connections refused. Reads, writes and readiness all answer 503 at once.
    proxy.cut();
    const cutTimes = [await refused('/v1/me'), await refused(`/v1/conversations/${chat.id}/messages`, { method: 'POST', body: JSON.stringify({ text: 'while cut' }) }), await refused('/readyz')];

    // Stalled: the database host answers nothing. Requests wait for the connect timeout (1 s), no longer.
    await proxy.restore();
    proxy.stall();
    const stallTimes = [await refused('/v1/me'), await refused('/readyz')];
    // A bound, not a speed claim: a request that waited on a silent database forever would never get here.
    for (const ms of [...cutTimes, ...stallTimes]) assert.ok(ms < 15_000, `answered in ${ms.toFixed(0)} ms`);
    t.diagnostic(`503 while cut: ${cutTimes.map((x) => x.toFixed(0)).join(', ')} ms; while stalled: ${stallTimes.map((x) => x.toFixed(0)).join(', ')} ms`);

    await proxy.restore();
    await eventually('ready again', async () => (await fetch(`${node.url}/readyz`)).status === 200, 15_000);
    assert.equal((await alice.on(node).me()).id, alice.accountId);
    await alice.on(node).send(chat.id, { text: 'after' });
    const history = await bob.on(node).history(chat.id);
    assert.deepEqual(history.messages.map((m) => m.text), ['before', 'after']);
  });
});
