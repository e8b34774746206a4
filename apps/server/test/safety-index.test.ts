/**
 * Several processes, one database: another process's near-duplicate indexes (built here beside
 * the server's own, on the same database) pick up bank signals and stored uploads added through
 * the server, and never report an item the server has taken down.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeRobust } from '../src/safety/hash-codec.ts';
import { createSafetyIndexes } from '../src/safety/indexes.ts';
import { createMatcher } from '../src/safety/matcher.ts';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';
import { browserHashes, crop, noData, signUpModerator, smallPhoto, uploadAndWait, uploadQueryHashes } from './safety-fixtures.ts';

onEachDatabase('safety: indexes across processes', (dialect) => {
  let server: TestServer;
  let alice: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, mod] = await Promise.all([server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  test('a second process sees new signals and uploads on its next look-up, and drops taken-down items', { skip: noData }, async () => {
    const other = createSafetyIndexes(server.db);
    const matcher = createMatcher({ db: server.db, indexes: other });
    await other.refresh();
    const before = other.stats();

    // 1000 px wide: a crop's anchored regions must spread over the picture, which a 640 px crop is too small for.
    const image = await smallPhoto('YellowFlower.jpg', 1000);
    const query = await uploadQueryHashes(await crop(image, 0.2));
    const probe = { sha256: '0'.repeat(64), md5: '0'.repeat(32), image: { query: decodeRobust(query) } };
    assert.deepEqual(await matcher.matchBanks(probe), []);
    const bank = await mod.client.createBank({ name: 'elsewhere', category: 'other', action: 'hold' });
    await mod.client.addSignalsFromFile(bank.id, image);
    // The crop is found through this process's own index, refreshed by the look-up itself.
    const found = await matcher.matchBanks(probe);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.bank_id, bank.id);
    assert.ok(other.stats().signals > before.signals);

    const item = await uploadAndWait(alice.client, await smallPhoto('Wood.jpg'));
    const reference = await browserHashes(await smallPhoto('Wood.jpg'));
    const seed = { images: [{ reference: decodeRobust(reference.robust), threshold: 31 }] };
    assert.deepEqual([...(await matcher.findCopies(seed)).keys()], [item.id]);
    await mod.client.takedown({ media_id: item.id, reason: 'test' });
    assert.deepEqual([...(await matcher.findCopies(seed)).keys()], [], 'a removed item is never reported, even by a stale index');
    assert.equal(other.stats().media, before.media, 'and the stale entry is dropped');
  });
});
