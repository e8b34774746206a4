/**
 * Upload abuse, through the real server: resumable (tus) uploads meet the same per-type size
 * gate as single uploads and expire when abandoned; uploads are rate-limited per account; a
 * malformed multipart body is the client's mistake (400), and uploaded HTML/SVG are served
 * sandboxed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import {
  type TestServer,
  type User,
  eventually,
  onEachDatabase,
  rejectsWith,
  startTestServer,
} from './harness.ts';

const MB = 1024 * 1024;

/** A real JPEG (so the first bytes say "image/jpeg") padded to `size` bytes. */
async function jpegOfSize(size: number): Promise<Buffer> {
  const jpeg = await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 120, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  return Buffer.concat([jpeg, Buffer.alloc(size - jpeg.length)]);
}

/** The tus protocol by hand, so each request's answer can be checked. */
function tus(server: TestServer, user: User) {
  const base = { 'tus-resumable': '1.0.0', authorization: `Bearer ${user.token}` };
  return {
    async create(length: number, filename = 'x.bin') {
      const response = await fetch(`${server.url}/v1/uploads`, {
        method: 'POST',
        headers: {
          ...base,
          'upload-length': String(length),
          'upload-metadata': `filename ${Buffer.from(filename).toString('base64')}`,
        },
      });
      return { response, location: response.headers.get('location') };
    },
    patch(location: string, offset: number, bytes: Buffer) {
      return fetch(new URL(location, server.url), {
        method: 'PATCH',
        headers: {
          ...base,
          'upload-offset': String(offset),
          'content-type': 'application/offset+octet-stream',
        },
        body: new Uint8Array(bytes),
      });
    },
    head(location: string) {
      return fetch(new URL(location, server.url), { method: 'HEAD', headers: base });
    },
  };
}

/** What the database holds of an upload: its row and its parts' blob keys. */
async function stored(server: TestServer, location: string) {
  const id = location.split('/').pop()!;
  const row = await server.db.db.selectFrom('resumable_uploads').select('id').where('id', '=', id).executeTakeFirst();
  const parts = await server.db.db.selectFrom('resumable_upload_parts').select('blob_key').where('upload_id', '=', id).execute();
  return { row: row ?? null, keys: parts.map((p) => p.blob_key) };
}

onEachDatabase('resumable uploads keep the per-type limits', (dialect) => {
  let server: TestServer;
  before(async () => {
    // The default limits: 30 MB for images, far more for video and documents.
    server = await startTestServer({ dialect, config: { mediaResumableExpiryMs: 1000 } });
  });
  after(() => server.close());

  test('a 31 MB JPEG is refused as soon as its first bytes arrive, and nothing of it is kept', async () => {
    const user = await server.signUp();
    const bytes = await jpegOfSize(31 * MB);
    const client = tus(server, user);
    const { response, location } = await client.create(bytes.length, 'big.jpg');
    assert.equal(response.status, 201, 'the declared length is within the largest (video) limit');
    const refused = await client.patch(location!, 0, bytes.subarray(0, 64 * 1024));
    assert.equal(refused.status, 413);
    assert.equal(((await refused.json()) as { code: string }).code, 'upload_too_large');
    assert.equal((await client.head(location!)).status, 404, 'the refused upload cannot be resumed');
    assert.deepEqual(await stored(server, location!), { row: null, keys: [] }, 'nothing of it is kept');
  });

  test('the type is sniffed from stored bytes when the first chunk is only a sliver', async () => {
    const user = await server.signUp();
    const bytes = await jpegOfSize(31 * MB);
    const client = tus(server, user);
    const { location } = await client.create(bytes.length, 'big.jpg');
    assert.equal(
      (await client.patch(location!, 0, bytes.subarray(0, 2))).status,
      204,
      'two bytes say nothing yet',
    );
    const refused = await client.patch(location!, 2, bytes.subarray(2, 64 * 1024));
    assert.equal(refused.status, 413);
    assert.equal((await client.head(location!)).status, 404);
  });

  test('a JPEG within the limit still uploads by tus and becomes a photo', async () => {
    const user = await server.signUp();
    const bytes = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const client = tus(server, user);
    const { location } = await client.create(bytes.length, 'small.jpg');
    const done = await client.patch(location!, 0, bytes);
    assert.equal(done.status, 204);
    const id = done.headers.get('mmd-media-id');
    assert.match(id ?? '', /^med_/);
    const item = await user.client.waitForMedia(id!);
    assert.equal(item.status, 'ready', item.reason ?? '');
  });

  test('an abandoned upload expires: the sweep deletes its bytes and it cannot be resumed', async () => {
    const user = await server.signUp();
    const client = tus(server, user);
    const { location } = await client.create(5 * MB, 'abandoned.bin');
    assert.equal((await client.patch(location!, 0, Buffer.alloc(64 * 1024, 1))).status, 204);
    const live = await stored(server, location!);
    assert.equal(live.keys.length, 1);
    assert.ok(await server.services.blobs.exists(live.keys[0]!), 'bytes stored while the upload is live');
    await new Promise((r) => setTimeout(r, 1100));
    await server.services.resumable.sweepExpired();
    assert.equal(await server.services.blobs.exists(live.keys[0]!), false, 'bytes deleted by the sweep');
    assert.deepEqual(await stored(server, location!), { row: null, keys: [] }, 'state deleted by the sweep');
    assert.equal((await client.patch(location!, 64 * 1024, Buffer.alloc(1024))).status, 404);
  });
});

onEachDatabase('upload rate limits per account', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: { mediaUploadRateLimit: 3, mediaMaxProcessingPerAccount: 2 },
    });
  });
  after(() => server.close());
  const tiny = () =>
    sharp({ create: { width: 16, height: 16, channels: 3, background: '#884422' } })
      .png()
      .toBuffer();

  test('an account that uploads too much in the window gets 429 with Retry-After, by any upload route', async () => {
    const [heavy, other] = await Promise.all([server.signUp(), server.signUp()]);
    for (let i = 0; i < 3; i++) {
      const { id } = await heavy.client.upload(await tiny());
      await heavy.client.waitForMedia(id);
    }
    await rejectsWith(heavy.client.upload(await tiny()), 'rate_limited', 429);
    const raw = await fetch(`${server.url}/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${heavy.token}`, 'content-type': 'image/png' },
      body: new Uint8Array(await tiny()),
    });
    assert.equal(raw.status, 429);
    assert.ok(Number(raw.headers.get('retry-after')) > 0, 'Retry-After says when');
    const created = await tus(server, heavy).create(1000);
    assert.equal(created.response.status, 429, 'tus creations count too');
    // Someone else is not affected.
    const { id } = await other.client.upload(await tiny());
    assert.match(id, /^med_/);
  });

  test('an account with too many items still processing must wait for them', async () => {
    const user = await server.signUp();
    for (let i = 0; i < 2; i++) await user.client.waitForMedia((await user.client.upload(await tiny())).id);
    // As if both were still in the queue.
    await server.db.db
      .updateTable('media')
      .set({ status: 'processing' })
      .where('owner_id', '=', user.accountId)
      .execute();
    await rejectsWith(user.client.upload(await tiny()), 'rate_limited', 429);
    await server.db.db
      .updateTable('media')
      .set({ status: 'ready' })
      .where('owner_id', '=', user.accountId)
      .execute();
    await eventually('upload accepted again', async () => (await user.client.upload(await tiny())).id);
  });
});

onEachDatabase('malformed uploads and active content', (dialect) => {
  let server: TestServer;
  let user: User;
  before(async () => {
    server = await startTestServer({ dialect });
    user = await server.signUp();
  });
  after(() => server.close());

  for (const [name, contentType, body] of [
    [
      'no boundary',
      'multipart/form-data',
      '--x\r\ncontent-disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--x--',
    ],
    [
      'a body cut off mid-file',
      'multipart/form-data; boundary=x',
      '--x\r\ncontent-disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
    ],
    ['garbage', 'multipart/form-data; boundary=x', 'garbage garbage'],
  ] as const) {
    test(`malformed multipart (${name}) is a 400 problem, not a 500`, async () => {
      const response = await fetch(`${server.url}/v1/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType },
        body,
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(((await response.json()) as { code: string }).code, 'validation_failed');
    });
  }

  for (const [name, bytes] of [
    ['HTML', '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'],
    ['SVG', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'],
  ] as const) {
    test(`uploaded ${name} is served as a sandboxed attachment`, async () => {
      const { id } = await user.client.upload(Buffer.from(bytes), { filename: `page.${name.toLowerCase()}` });
      const item = await user.client.waitForMedia(id);
      assert.equal(item.status, 'ready', item.reason ?? '');
      const response = await user.client.fetchFile(item.renditions.file!.url);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-security-policy'), 'sandbox');
      assert.match(response.headers.get('content-disposition') ?? '', /^attachment/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    });
  }
});
