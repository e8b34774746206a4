/**
 * Presence across a cluster (Redis): someone connected to one node is shown online to people on
 * another; closing a stream on one node does not hide someone still connected to another; closing
 * the last one is seen everywhere; and a node killed with SIGKILL, which withdraws nothing, stops
 * vouching for its people, who go offline three heartbeats later.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MmdClient } from '@mmd/sdk';
import { freePort, killHard, spawnServer, waitReady } from './child-server.ts';
import { type ClusterNode, REDIS_URL, type TestCluster, clusterSkipReason, startTestCluster } from './cluster-harness.ts';
import { POSTGRES_URL, eventually, uniqueHandle } from './harness.ts';

const skip = clusterSkipReason();
// Long enough that a busy test machine still beats in time (3 beats: 3 s).
const HEARTBEAT_MS = 1000;

async function signUp(node: ClusterNode) {
  const handle = uniqueHandle();
  const created = await node.anonymous.createAccount({ handle, password: 'correct horse battery' });
  return { handle, token: created.token, accountId: created.account.id, on: (other: ClusterNode | MmdClient) => (other instanceof MmdClient ? other : other.anonymous).as(created.token) };
}

describe('presence across two nodes', { skip, timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  // A third node in a child process, to be killed: started once the schema is migrated, and
  // waited for only when needed (starting a server under tsx on a busy machine takes a while).
  let child: ChildProcess | null = null;
  let childUrl = '';
  before(async () => {
    cluster = await startTestCluster();
    a = await cluster.node({ config: { presenceHeartbeatMs: HEARTBEAT_MS } });
    b = await cluster.node({ config: { presenceHeartbeatMs: HEARTBEAT_MS } });
    const port = await freePort();
    childUrl = `http://127.0.0.1:${port}`;
    child = spawnServer({
      MMD_PORT: String(port),
      MMD_ROLES: 'api',
      MMD_DATABASE_URL: POSTGRES_URL!,
      MMD_DATABASE_SCHEMA: cluster.schema,
      MMD_REDIS_URL: REDIS_URL!,
      MMD_PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      MMD_DATA_DIR: path.join(cluster.dir, 'killed'),
    });
  });
  after(async () => {
    if (child) await killHard(child);
    await cluster?.close();
  });

  test('online on node A is seen on node B, and going offline on A is too', async (t) => {
    const alice = await signUp(b);
    const bob = await signUp(a);
    const presence = async () => (await alice.on(b).profiles.presence([bob.accountId]))[0]!;
    assert.deepEqual(await presence(), { account_id: bob.accountId, online: false, last_seen_at: null });

    const onA = bob.on(a).stream({ onEvent: () => {} });
    t.after(() => onA.close());
    await onA.ready;
    await eventually('bob online, seen from B', async () => (await presence()).online === true, 5000);
    // Several heartbeats later he still is (node A keeps vouching).
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    assert.equal((await presence()).online, true);

    // Connected on B as well; closing A's stream leaves him online through B.
    const onB = bob.on(b).stream({ onEvent: () => {} });
    t.after(() => onB.close());
    await onB.ready;
    onA.close();
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    assert.equal((await alice.on(a).profiles.presence([bob.accountId]))[0]!.online, true, 'still online through node B, seen from A');

    const before = Date.now();
    onB.close();
    const seen = await eventually('bob offline, seen from A', async () => {
      const p = (await alice.on(a).profiles.presence([bob.accountId]))[0]!;
      return p.online === false ? p : null;
    }, 5000);
    assert.ok(seen.last_seen_at !== null && seen.last_seen_at >= before - 1000, 'last seen when his last stream closed');
  });

  test('the people of a node killed with SIGKILL go offline three heartbeats later', async (t) => {
    const url = childUrl;
    await waitReady(url);
    const alice = await signUp(a);
    const carol = await signUp(a);
    const stream = carol.on(new MmdClient({ baseUrl: url })).stream({ onEvent: () => {} });
    t.after(() => stream.close());
    await stream.ready;
    const presence = async () => (await alice.on(a).profiles.presence([carol.accountId]))[0]!;
    await eventually('carol online through the child node', async () => (await presence()).online === true, 5000);
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    assert.equal((await presence()).online, true, 'the child keeps vouching while it lives');

    const killedAt = Date.now();
    await killHard(child!);
    const seen = await eventually('carol offline once the child stopped vouching', async () => {
      const p = await presence();
      return p.online === false ? p : null;
    }, 10_000);
    // Last seen: the child's last heartbeat, shortly before it died.
    assert.ok(seen.last_seen_at !== null && seen.last_seen_at <= killedAt && seen.last_seen_at >= killedAt - 3 * HEARTBEAT_MS - 1000);
  });
});
