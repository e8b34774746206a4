/**
 * The limits services count themselves (platform/limits) are one count for the whole cluster when
 * Redis is configured: tries spread over two nodes reach the limit as they would on one. Each
 * limit is set to 3 here; 2 uses on node A and 1 on node B use it up on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ClusterNode, type TestCluster, clusterSkipReason, startTestCluster } from './cluster-harness.ts';
import { rejectsWith, uniqueHandle } from './harness.ts';

const skip = clusterSkipReason();

async function signUp(node: ClusterNode) {
  const handle = uniqueHandle();
  const created = await node.anonymous.createAccount({ handle, password: 'correct horse battery' });
  return { handle, token: created.token, accountId: created.account.id, on: (other: ClusterNode) => other.anonymous.as(created.token) };
}

describe('limits counted in Redis, across two nodes', { skip, timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  const config = { loginAddressRateLimit: 3, peopleSearchRateLimit: 3, searchRateLimit: 3, mediaUploadRateLimit: 3, profileEditsPerHour: 3 };
  before(async () => {
    cluster = await startTestCluster();
    a = await cluster.node({ config });
    b = await cluster.node({ config });
  });
  after(async () => cluster?.close());

  test('sign-in attempts per address: 3 spread over both nodes, the 4th is refused on either', async () => {
    // A different handle each time: the per-handle limit (a route limit, shared already) stays out of it.
    for (const node of [a, b, a]) await rejectsWith(node.anonymous.login({ handle: uniqueHandle(), password: 'wrong password here' }), 'invalid_credentials', 401);
    await rejectsWith(b.anonymous.login({ handle: uniqueHandle(), password: 'wrong password here' }), 'rate_limited', 429);
    await rejectsWith(a.anonymous.login({ handle: uniqueHandle(), password: 'wrong password here' }), 'rate_limited', 429);
  });

  test('people searches per account', async () => {
    const alice = await signUp(a);
    for (const node of [a, b, a]) await alice.on(node).profiles.search('someone');
    await rejectsWith(alice.on(b).profiles.search('someone'), 'rate_limited', 429);
    // Another account has its own window.
    const bob = await signUp(b);
    await bob.on(b).profiles.search('someone');
  });

  test('message searches per account', async () => {
    const alice = await signUp(a);
    for (const node of [b, a, b]) await alice.on(node).search({ q: 'hello' });
    await rejectsWith(alice.on(a).search({ q: 'hello' }), 'rate_limited', 429);
  });

  test('profile changes per account', async () => {
    const alice = await signUp(a);
    for (const [i, node] of [a, b, a].entries()) await alice.on(node).profiles.update({ display_name: `Alice ${i}` });
    await rejectsWith(alice.on(b).profiles.update({ display_name: 'Alice again' }), 'rate_limited', 429);
  });

  test('resumable uploads started per account', async () => {
    const alice = await signUp(a);
    const create = (node: ClusterNode) =>
      fetch(`${node.url}/v1/uploads`, {
        method: 'POST',
        headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${alice.token}`, 'upload-length': '1000', 'upload-metadata': `filename ${Buffer.from('x.bin').toString('base64')}` },
      });
    for (const node of [a, b, a]) assert.equal((await create(node)).status, 201);
    const refused = await create(b);
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { code: string }).code, 'rate_limited');
  });
});
