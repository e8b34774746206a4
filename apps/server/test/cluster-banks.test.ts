/**
 * A bank change made on one node is enforced by every node: a signal added through node A blocks
 * a matching upload screened by node B's worker, and once it is removed through A, B lets the
 * same picture through. B's index follows by the bus (the change is read, not the index rebuilt),
 * and its refresh before each screening is the database's guarantee if the bus missed it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ClusterNode, type TestCluster, clusterSkipReason, startTestCluster } from './cluster-harness.ts';
import { eventually, rejectsWith, uniqueHandle } from './harness.ts';
import { browserHashes, noData, reencode, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

const skip = clusterSkipReason() || noData;

async function setRole(node: ClusterNode, accountId: string, role: 'moderator') {
  await node.db.db.updateTable('accounts').set({ role }).where('id', '=', accountId).execute();
}

async function signUp(node: ClusterNode) {
  const handle = uniqueHandle();
  const created = await node.anonymous.createAccount({ handle, password: 'correct horse battery' });
  return { handle, token: created.token, accountId: created.account.id, on: (other: ClusterNode) => other.anonymous.as(created.token) };
}

describe('bank changes across two nodes', { skip, timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  before(async () => {
    cluster = await startTestCluster();
    // A answers API calls only; B screens uploads (its worker runs the media jobs).
    a = await cluster.node({ worker: false });
    b = await cluster.node();
  });
  after(async () => cluster?.close());

  test('a signal added on A blocks a matching upload on B; removed on A, B lets it through', async (t) => {
    const mod = await signUp(a);
    await setRole(a, mod.accountId, 'moderator');
    const alice = await signUp(b);
    const original = await smallPhoto('Aqua.jpg');
    const bank = await mod.on(a).createBank({ name: 'Cluster bank', category: 'other', action: 'block' });
    const { pdq } = await browserHashes(original);
    const indexB = b.services.safety.indexes;

    const addedAt = performance.now();
    const [signal] = (await mod.on(a).addSignals(bank.id, [{ type: 'pdq', value: pdq, label: 'aqua' }])).signals;
    assert.ok(signal);
    // B reads the new signal into its index because A announced it, before any upload asks.
    await eventually('the signal in B’s index', () => indexB.banks.has(signal.id), 5000);
    const followedIn = performance.now() - addedAt;

    const blocked = await uploadAndWait(alice.on(b), await reencode(original, 70), 'copy.jpg');
    assert.equal(blocked.status, 'failed');
    assert.equal(blocked.reason_code, 'blocked');

    const removedAt = performance.now();
    await mod.on(a).removeSignal(bank.id, signal.id);
    await eventually('the signal gone from B’s index', () => !indexB.banks.has(signal.id), 5000);
    const droppedIn = performance.now() - removedAt;

    const allowed = await uploadAndWait(alice.on(b), await reencode(original, 65), 'copy-again.jpg');
    assert.equal(allowed.status, 'ready', allowed.reason ?? '');
    t.diagnostic(`bank change on A → in B's index: added ${followedIn.toFixed(0)} ms, removed ${droppedIn.toFixed(0)} ms`);
  });

  test('removing a signal: moderators only, and only one that is in the bank', async () => {
    const mod = await signUp(a);
    const stranger = await signUp(a);
    await setRole(a, mod.accountId, 'moderator');
    const bank = await mod.on(a).createBank({ name: 'Another', category: 'other', action: 'hold' });
    const other = await mod.on(a).createBank({ name: 'Other', category: 'other', action: 'hold' });
    const [signal] = (await mod.on(a).addSignals(bank.id, [{ type: 'md5', value: 'b8ed4f8b2ec3c6f3e2b2a1dcd2e1a6f0' }])).signals;
    await rejectsWith(a.anonymous.removeSignal(bank.id, signal!.id), 'unauthenticated', 401);
    await rejectsWith(stranger.on(a).removeSignal(bank.id, signal!.id), 'forbidden', 403);
    await rejectsWith(mod.on(a).removeSignal(other.id, signal!.id), 'not_found', 404);
    await rejectsWith(mod.on(a).removeSignal('bnk_nope', signal!.id), 'not_found', 404);
    await mod.on(b).removeSignal(bank.id, signal!.id);
    await rejectsWith(mod.on(a).removeSignal(bank.id, signal!.id), 'not_found', 404);
    assert.equal((await mod.on(a).bank(bank.id)).signal_count, 0);
    const audit = await mod.on(a).audit({ action: 'signals.removed', actor: mod.accountId });
    assert.equal(audit.entries.length, 1);
  });
});
