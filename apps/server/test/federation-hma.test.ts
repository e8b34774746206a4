/**
 * The HMA-compatible exchange: a Hasher-Matcher-Actioner deployment fetches the banks offered to
 * it the way python-threatexchange's StopNCII client asks (GET <base>/FetchHashes with
 * x-functions-key and Ocp-Apim-Subscription-Key), page by page, resumes from its checkpoint, sees
 * a removed hash come back as Deleted, and never sees a bank that was not offered to it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FetchHashesReply, HashRecord } from '@mmd/contracts';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';
import { systemBank } from '../src/safety/store.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function fetchHashes(server: TestServer, auth: { id?: string; token?: string }, query: Record<string, string | number> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  const headers: Record<string, string> = {};
  if (auth.token !== undefined) headers['x-functions-key'] = auth.token;
  if (auth.id !== undefined) headers['Ocp-Apim-Subscription-Key'] = auth.id;
  return fetch(`${server.url}/v1/federation/hma/FetchHashes${qs ? `?${qs}` : ''}`, { headers });
}

/** What the StopNCII client does: pages until hasMoreRecords is false; the last nextSetTimestamp is its checkpoint. */
async function fetchAll(server: TestServer, auth: { id: string; token: string }, startTimestamp: number, pageSize = 800) {
  const records: HashRecord[] = [];
  let nextPageToken = '';
  let pages = 0;
  let checkpoint = startTimestamp;
  for (;;) {
    const answer = await fetchHashes(server, auth, { startTimestamp, pageSize, ...(nextPageToken ? { nextPageToken } : {}) });
    assert.equal(answer.status, 200, await answer.clone().text());
    const page = (await answer.json()) as FetchHashesReply;
    pages++;
    records.push(...page.hashRecords);
    checkpoint = page.nextSetTimestamp;
    if (!page.hasMoreRecords) break;
    assert.ok(page.nextPageToken, 'a page with more after it names the next');
    nextPageToken = page.nextPageToken;
  }
  // Later records replace earlier ones, as HMA applies them.
  const state = new Map(records.map((r) => [`${r.signalType} ${r.hashValue}`, r]));
  return { records, state, pages, checkpoint };
}

onEachDatabase('federation: HMA-compatible exchange', (dialect) => {
  let server: TestServer;
  let admin: User;
  let mod: User;
  let now = Date.now();
  const pdqs = Array.from({ length: 5 }, () => hex(32));
  const md5s = Array.from({ length: 2 }, () => hex(16));
  const secret = hex(32);
  let offered: string;
  let second: string;
  let hidden: string;
  let consumer: { id: string; token: string };
  let checkpoint = 0;

  before(async () => {
    server = await startTestServer({ dialect, clock: () => now });
    [admin, mod] = await Promise.all([signUpModerator(server, 'admin'), signUpModerator(server)]);
    offered = (await mod.client.createBank({ name: 'NCII confirmed', category: 'ncii', action: 'block' })).id;
    second = (await mod.client.createBank({ name: 'Deepfakes', category: 'deepfake', action: 'hold' })).id;
    hidden = (await mod.client.createBank({ name: 'Internal only', category: 'other', action: 'hold' })).id;
    await mod.client.addSignals(offered, [...pdqs.map((value) => ({ type: 'pdq' as const, value })), ...md5s.map((value) => ({ type: 'md5' as const, value }))]);
    await mod.client.addSignals(hidden, [{ type: 'pdq', value: secret }]);
    const created = await admin.client.createHmaConsumer({ name: 'Partner HMA', bank_ids: [offered, second] });
    consumer = { id: created.consumer.id, token: created.token };
  });
  after(() => server?.close());

  test('an HMA fetches every offered hash page by page, mapped to StopNCII signal types and tagged with the category', async () => {
    const all = await fetchAll(server, consumer, 0, 3);
    assert.equal(all.pages, 3);
    assert.equal(all.state.size, 7);
    for (const value of pdqs) {
      const record = all.state.get(`ImagePDQ ${value}`);
      assert.equal(record?.hashStatus, 'Active');
      assert.deepEqual(record?.caseNumbers, { [offered]: 'Active' });
      assert.deepEqual(record?.CSPFeedbacks.map((f) => [f.feedbackValue, f.tags]), [['Blocked', ['category:ncii', 'bank:NCII confirmed']]]);
    }
    for (const value of md5s) assert.equal(all.state.get(`VideoMD5 ${value}`)?.hashStatus, 'Active');
    checkpoint = all.checkpoint;
    assert.equal(checkpoint, Math.floor(now / 1000));
    const listed = await admin.client.hmaConsumers();
    assert.equal(listed.fetch_path, '/v1/federation/hma');
    assert.equal(listed.consumers[0]?.last_fetch_at, now);
  });

  test('a bank not offered to the consumer never appears', async () => {
    const all = await fetchAll(server, consumer, 0);
    assert.equal(all.state.has(`ImagePDQ ${secret}`), false);
    assert.ok(all.records.every((r) => !Object.keys(r.caseNumbers).includes(hidden)));
  });

  test('resuming from the checkpoint returns only what changed since', async () => {
    // The checkpoint's own second is read inclusively: a poll in a later second sends it once more
    // and moves the checkpoint on; after that, nothing comes again until something changes.
    now += 60_000;
    const repeat = await fetchAll(server, consumer, checkpoint);
    assert.equal(repeat.state.size, 7);
    assert.equal(repeat.checkpoint, Math.floor(now / 1000));
    now += 60_000;
    const quiet = await fetchAll(server, consumer, repeat.checkpoint);
    assert.equal(quiet.records.length, 0);
    assert.equal(quiet.checkpoint, Math.floor(now / 1000));

    now += 60_000;
    const fresh = hex(32);
    await mod.client.addSignals(second, [{ type: 'pdq', value: fresh }]);
    const resumed = await fetchAll(server, consumer, quiet.checkpoint);
    assert.deepEqual(resumed.records.map((r) => r.hashValue), [fresh]);
    assert.deepEqual(resumed.records[0]?.CSPFeedbacks[0]?.tags, ['category:deepfake', 'bank:Deepfakes']);
    // A consumer that stopped mid-way resumes from the page's checkpoint and misses nothing.
    const firstPage = (await (await fetchHashes(server, consumer, { startTimestamp: 0, pageSize: 2 })).json()) as FetchHashesReply;
    assert.equal(firstPage.hasMoreRecords, true);
    const rest = await fetchAll(server, consumer, firstPage.nextSetTimestamp);
    assert.equal(new Set([...firstPage.hashRecords, ...rest.records].map((r) => r.hashValue)).size, 8);
    now += 60_000;
    checkpoint = (await fetchAll(server, consumer, resumed.checkpoint)).checkpoint;
  });

  test('a hash taken out of the offered banks comes back once as Deleted; one another offered bank holds stays Active', async () => {
    const removedValue = pdqs[0]!;
    const sharedValue = pdqs[1]!;
    await mod.client.addSignals(second, [{ type: 'pdq', value: sharedValue }]);
    const before = await fetchAll(server, consumer, checkpoint);
    assert.deepEqual(before.state.get(`ImagePDQ ${sharedValue}`)?.caseNumbers, { [offered]: 'Active', [second]: 'Active' });
    checkpoint = before.checkpoint;

    now += 60_000;
    const ids = await signalIds(server, offered);
    await mod.client.removeSignal(offered, ids.get(removedValue)!);
    await mod.client.removeSignal(offered, ids.get(sharedValue)!);
    const after = await fetchAll(server, consumer, checkpoint);
    const removed = after.state.get(`ImagePDQ ${removedValue}`);
    assert.equal(removed?.hashStatus, 'Deleted');
    assert.deepEqual(removed?.caseNumbers, { [offered]: 'Deleted' });
    assert.deepEqual(removed?.CSPFeedbacks.map((f) => f.feedbackValue), ['Deleted']);
    const stillHeld = after.state.get(`ImagePDQ ${sharedValue}`);
    assert.equal(stillHeld?.hashStatus, 'Active');
    assert.deepEqual(stillHeld?.caseNumbers, { [offered]: 'Deleted', [second]: 'Active' });
    // A full fetch from the start agrees: the removed hash is Deleted, the rest as they are.
    const full = await fetchAll(server, consumer, 0);
    assert.equal(full.state.get(`ImagePDQ ${removedValue}`)?.hashStatus, 'Deleted');
    assert.equal(full.state.get(`ImagePDQ ${pdqs[2]!}`)?.hashStatus, 'Active');
  });

  test('taking a bank away from the consumer hides its changes; disabling it refuses its fetches', async () => {
    await admin.client.updateHmaConsumer(consumer.id, { bank_ids: [second] });
    now += 60_000;
    await mod.client.addSignals(offered, [{ type: 'md5', value: hex(16) }]);
    const resumed = await fetchAll(server, consumer, checkpoint);
    assert.ok(resumed.records.every((r) => !(offered in r.caseNumbers)));
    await admin.client.updateHmaConsumer(consumer.id, { status: 'disabled' });
    const refused = await fetchHashes(server, consumer);
    assert.equal(refused.status, 401);
    await admin.client.updateHmaConsumer(consumer.id, { status: 'active', bank_ids: [offered, second] });
  });

  test('denials: no token, a wrong token, an unknown consumer, a bad page token; consumers are for admins; only real, local banks', async () => {
    for (const auth of [{}, { id: consumer.id }, { token: consumer.token }, { id: consumer.id, token: `${consumer.token}x` }, { id: 'hma_nobody', token: consumer.token }]) {
      const answer = await fetchHashes(server, auth);
      assert.equal(answer.status, 401, JSON.stringify(auth));
      assert.match(String(answer.headers.get('content-type')), /^application\/problem\+json/);
      assert.equal(((await answer.json()) as { code: string }).code, 'unauthenticated');
    }
    const badToken = await fetchHashes(server, consumer, { nextPageToken: 'abc' });
    assert.equal(badToken.status, 400);
    const badSize = await fetchHashes(server, consumer, { pageSize: 5000 });
    assert.equal(badSize.status, 400);

    await rejectsWith(server.anonymous.hmaConsumers(), 'unauthenticated', 401);
    await rejectsWith(mod.client.hmaConsumers(), 'forbidden', 403);
    await rejectsWith(mod.client.createHmaConsumer({ name: 'x', bank_ids: [offered] }), 'forbidden', 403);
    await rejectsWith(admin.client.createHmaConsumer({ name: 'x', bank_ids: ['bank_missing'] }), 'validation_failed', 400);
    await rejectsWith(admin.client.createHmaConsumer({ name: 'x', bank_ids: [] }), 'validation_failed', 400);
    await rejectsWith(admin.client.updateHmaConsumer('hma_missing', { status: 'disabled' }), 'not_found', 404);
    // A federation peer's bank is not offered onwards.
    const peerBank = await server.services.safety.peerBanks.bankFor({ peerId: 'peer_x', peerName: 'X', category: 'other', action: 'hold' });
    await rejectsWith(admin.client.createHmaConsumer({ name: 'x', bank_ids: [peerBank] }), 'validation_failed', 400);
    // Nor the protection bank: victims' claims no moderator has confirmed.
    const protectBank = await systemBank(server.db.db, 'protect', Date.now());
    await rejectsWith(admin.client.createHmaConsumer({ name: 'x', bank_ids: [protectBank.id] }), 'validation_failed', 400);
    // Removing a signal is for moderators, and only of a signal in that bank.
    await rejectsWith(server.anonymous.removeSignal(offered, 1), 'unauthenticated', 401);
    await rejectsWith(mod.client.removeSignal(hidden, 999_999), 'not_found', 404);
  });
});

/** Signal ids of a bank by value (read from the database: no endpoint lists a bank's signals). */
async function signalIds(server: TestServer, bankId: string): Promise<Map<string, number>> {
  const rows = await server.db.db.selectFrom('safety_signals').select(['id', 'value']).where('bank_id', '=', bankId).execute();
  return new Map(rows.map((r) => [r.value, Number(r.id)]));
}

describe('federation: HMA exchange rate limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite', config: { federationHmaFetchesPerMinute: 3 } });
  });
  after(() => server?.close());

  test('a consumer polling faster than its limit gets 429; another consumer is not starved by it', async () => {
    const admin = await signUpModerator(server, 'admin');
    const bank = (await admin.client.createBank({ name: 'Offered', category: 'other', action: 'hold' })).id;
    const one = await admin.client.createHmaConsumer({ name: 'One', bank_ids: [bank] });
    const two = await admin.client.createHmaConsumer({ name: 'Two', bank_ids: [bank] });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetchHashes(server, { id: one.consumer.id, token: one.token })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal((await fetchHashes(server, { id: two.consumer.id, token: two.token })).status, 200);
    // A stranger making up a consumer id per request gets no fresh allowance from it: the address
    // is counted before any token is checked (4× a consumer's limit, 12 here; 5 used above).
    const strangers: number[] = [];
    for (let i = 0; i < 8; i++) strangers.push((await fetchHashes(server, { id: `hmc_madeup${i}`, token: 'x'.repeat(40) })).status);
    assert.deepEqual(strangers, [401, 401, 401, 401, 401, 401, 401, 429]);
  });
});
