/**
 * The cluster `npm run cluster` starts (HAProxy → two API nodes and a worker, on PostgreSQL,
 * Redis and an S3 store) loses nothing when an API node dies: SDK clients stream through HAProxy
 * while a burst of sends goes through it too, one API node is killed with SIGKILL mid-burst, and
 * every message whose send was acknowledged reaches every client exactly once after it reconnects.
 * Skipped, saying why, without PostgreSQL, Redis or HAProxy.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MmdClient, MmdError, type SyncEvent } from '@mmd/sdk';
import pg from 'pg';
import { HAPROXY, startCluster } from '../../../scripts/cluster.ts';
import { REDIS_URL, clusterSkipReason } from './cluster-harness.ts';
import { POSTGRES_URL, eventually, uniqueHandle } from './harness.ts';

const skip = clusterSkipReason() || (existsSync(HAPROXY) ? false : `cluster fault test not run: HAProxy is not installed at ${HAPROXY}`);

test('kill -9 of an API node mid-burst: every acknowledged message reaches every streaming client once', { skip, timeout: 400_000 }, async (t) => {
  const schema = `fault_${process.pid}_${Date.now().toString(36)}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-fault-'));
  const cluster = await startCluster({
    databaseUrl: POSTGRES_URL!,
    schema,
    redisUrl: REDIS_URL!,
    port: 0,
    dir,
    stdio: 'ignore',
    env: { MMD_ARGON2_MEMORY_KIB: '1024', MMD_ARGON2_ITERATIONS: '1', MMD_SIGNUP_RATE_LIMIT: '100000', MMD_JOB_LEASE_MS: '2000' },
  });
  t.after(async () => {
    await cluster.stop();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const anonymous = new MmdClient({ baseUrl: cluster.url });
  const account = async () => {
    const handle = uniqueHandle('fault');
    const created = await anonymous.createAccount({ handle, password: 'correct horse battery' });
    return { handle, client: anonymous.as(created.token) };
  };
  const alice = await account();
  const readers = await Promise.all(Array.from({ length: 4 }, account));
  const group = await alice.client.createConversation({ kind: 'group', title: 'fault', members: readers.map((r) => r.handle) });

  // Four streams through HAProxy (least connections: both nodes get some), each counting what it
  // receives by message id.
  const seen = readers.map(() => new Map<string, number>());
  let dropped = 0;
  const streams = readers.map((r, i) =>
    r.client.stream({
      onDisconnect: () => {
        dropped += 1;
      },
      onEvent: (e: SyncEvent) => {
        if (e.type !== 'message.created') return;
        const id = (e.data as { id: string }).id;
        seen[i]!.set(id, (seen[i]!.get(id) ?? 0) + 1);
      },
    }),
  );
  t.after(() => {
    for (const s of streams) s.close();
  });
  await Promise.all(streams.map((s) => s.ready));

  const total = 240;
  const acknowledged = new Set<string>();
  let next = 0;
  let failures = 0;
  // The node to kill holds at least one of the streams (HAProxy chose where they went): asked of
  // each API node's own /metrics (loopback, no forwarding header: allowed without a token).
  const websocketsOn = async (port: number) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^mmd_websockets_open (\d+)/m.exec(text)?.[1] ?? 0);
  };
  const apiNodes = cluster.nodes.filter((n) => n.port !== null);
  const open = await eventually('the streams are counted on the nodes', async () => {
    const counts = await Promise.all(apiNodes.map((n) => websocketsOn(n.port!)));
    return counts.reduce((a, b) => a + b, 0) >= streams.length ? counts : null;
  });
  const victim = apiNodes[open.indexOf(Math.max(...open))]!;
  t.diagnostic(`streams per API node: ${apiNodes.map((n, i) => `${n.name} ${open[i]}`).join(', ')}; killing ${victim.name}`);
  const sender = async () => {
    while (next < total) {
      const i = next++;
      if (i === 80) victim.child.kill('SIGKILL');
      try {
        const m = await alice.client.send(group.id, { text: `burst ${i}`, idempotency_key: `burst-${i}` });
        acknowledged.add(m.id);
      } catch (err) {
        // In flight on the killed node: the connection drops, or HAProxy answers 502/503.
        assert.ok(err instanceof MmdError && [0, 502, 503, 504].includes(err.status), `only the dead node's failures expected, got ${err}`);
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
  assert.ok(acknowledged.size >= 100, `most sends acknowledged (${acknowledged.size}, ${failures} failed)`);
  await eventually('a stream on the killed node dropped', () => dropped > 0, 30_000);

  for (const [i, received] of seen.entries()) {
    await eventually(`reader ${i} has every acknowledged message`, () => [...acknowledged].every((id) => received.has(id)), 60_000);
    const repeated = [...received].filter(([, n]) => n > 1);
    assert.deepEqual(repeated, [], `reader ${i} received each message once`);
  }
  t.diagnostic(`${acknowledged.size} sends acknowledged, ${failures} failed with the node, ${dropped} streams reconnected; every acknowledged message reached the 4 readers once each`);
});
