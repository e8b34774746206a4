/**
 * Near-duplicate clusters of uploads (safety/clusters.ts), what issue 12's spread counting rests
 * on: an exact re-upload, a re-encode, a crop and a greyscale copy of a photo join the cluster of
 * the first upload, whoever uploads them; a different photo starts its own.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';
import { crop, greyscale, noData, reencode, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

onEachDatabase('safety: near-duplicate clusters', (dialect) => {
  let server: TestServer;
  let people: User[];
  before(async () => {
    server = await startTestServer({ dialect });
    people = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp()]);
  });
  after(() => server.close());

  test('copies of a photo join the first upload’s cluster, whoever uploads them; another photo has its own', { skip: noData }, async () => {
    const meadow = await smallPhoto('GreenMeadow.jpg', 800);
    const first = await uploadAndWait(people[0]!.client, meadow);
    assert.equal(first.status, 'ready');
    const copies = [
      await uploadAndWait(people[1]!.client, meadow, 'same-bytes.jpg'),
      await uploadAndWait(people[2]!.client, await reencode(meadow, 50), 'reencoded.jpg'),
      await uploadAndWait(people[3]!.client, await crop(meadow, 0.2), 'cropped.jpg'),
      await uploadAndWait(people[1]!.client, await greyscale(meadow), 'grey.jpg'),
    ];
    const other = await uploadAndWait(people[2]!.client, await smallPhoto('Elephants.jpg', 800), 'other.jpg');
    const otherCopy = await uploadAndWait(people[0]!.client, await reencode(await smallPhoto('Elephants.jpg', 800), 60), 'other-again.jpg');
    const clusters = await server.services.safety.clustersOf([first.id, ...copies.map((c) => c.id), other.id, otherCopy.id]);
    const meadowCluster = clusters.get(first.id);
    assert.ok(meadowCluster !== undefined, 'the first upload has a cluster');
    for (const [i, c] of copies.entries()) assert.equal(clusters.get(c.id), meadowCluster, `copy ${i} (${['same bytes', 're-encoded', 'cropped 20 %', 'greyscale'][i]}) joined the first upload's cluster`);
    assert.notEqual(clusters.get(other.id), meadowCluster, 'a different photo is not in it');
    assert.equal(clusters.get(otherCopy.id), clusters.get(other.id), 'and has its own, which its copy joins');
    // A media id never screened has none.
    assert.equal((await server.services.safety.clustersOf(['med_unknown'])).size, 0);
  });
});
