/**
 * Budget adaptation cannot be used to make the server transcode and store without end: budgets
 * round down to tiers and accept lists to a canonical set (so near-identical requests share one
 * copy), each item keeps a bounded number of copies (oldest evicted), and each account may ask
 * only so often.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('budget adaptation limits', (dialect) => {
  let server: TestServer;
  let alice: User;
  let id: string;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: { mediaAdaptCopiesPerItem: 2, mediaAdaptRateLimit: 8 },
    });
    alice = await server.signUp();
    // Noise, so the JPEG is big enough that every budget below means a different encode.
    const noise = Buffer.alloc(1200 * 900 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const photo = await sharp(noise, { raw: { width: 1200, height: 900, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    id = (await alice.client.upload(photo, { filename: 'noise.jpg' })).id;
    const item = await alice.client.waitForMedia(id);
    assert.equal(item.status, 'ready', item.reason ?? '');
  });
  after(() => server.close());

  const copies = async () => {
    const row = await server.db.db
      .selectFrom('media')
      .select('adapted')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return JSON.parse(row.adapted ?? '[]') as string[];
  };

  test('near-identical requests share one stored copy, and the budget is still met', async () => {
    const a = await alice.client.adapt(id, { maxBytes: 307_200, accept: ['image/jpeg'] });
    const b = await alice.client.adapt(id, { maxBytes: 307_201, accept: [' IMAGE/JPEG ', 'image/jpeg'] });
    assert.ok(a.bytes.length <= 300_000, `${a.bytes.length} bytes fit the 300,000 B tier`);
    assert.deepEqual(b.bytes, a.bytes);
    assert.equal((await copies()).length, 1, 'one copy for both');
  });

  test('an item keeps at most the configured number of copies; the oldest is deleted', async () => {
    const before = await copies();
    await alice.client.adapt(id, { maxBytes: 100_000, accept: ['image/jpeg'] });
    await alice.client.adapt(id, { maxBytes: 30_000, accept: ['image/jpeg'] });
    const after = await copies();
    assert.equal(after.length, 2);
    assert.ok(!after.includes(before[0]!), 'the oldest copy was evicted');
    assert.equal(await server.services.blobs.exists(before[0]!), false, 'and its bytes deleted');
  });

  test('unknown accept parameters are refused rather than cached as new variants', async () => {
    await rejectsWith(
      alice.client.adapt(id, { maxBytes: 100_000, accept: ['image/jpeg;nonce=1'] }),
      'validation_failed',
      400,
    );
  });

  test('an account that asks too often gets 429', async () => {
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      await alice.client
        .adapt(id, { maxBytes: 100_000, accept: ['image/jpeg'] })
        .catch((err: { code?: string }) => {
          if (err.code === 'rate_limited') refused++;
          else throw err;
        });
    }
    assert.ok(refused > 0, 'refused once past the limit');
    const bob = await server.signUp();
    await rejectsWith(bob.client.adapt(id, { maxBytes: 100_000 }), 'not_found', 404);
  });
});
