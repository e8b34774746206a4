/**
 * Signed media links: short-lived, bound to the viewer they were issued to, dead as soon as that
 * viewer loses access, and never written whole to the request log.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { MediaItem } from '@mmd/sdk';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';

/** A small real JPEG made on the spot (a gradient), different each call. */
async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 48 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + seed * 31) % 256;
  return sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
}

onEachDatabase('signed media links', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let seed = 0;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, bob, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
  });
  after(() => server.close());

  /** Alice sends a fresh photo to a new group with Bob and Carol; returns each one's view of it. */
  async function sharedPhoto() {
    const group = await alice.client.createConversation({ kind: 'group', title: 'photos', members: [bob.handle, carol.handle] });
    const { id } = await alice.client.upload(await picture(++seed), { filename: 'p.jpg' });
    await alice.client.waitForMedia(id);
    const message = await alice.client.send(group.id, { text: 'look', media: [id] });
    const link = async (user: User) => {
      const item: MediaItem = await user.client.media(id);
      return item.renditions['preview.jpg']!.url;
    };
    return { group, id, message, bobUrl: await link(bob), carolUrl: await link(carol), aliceUrl: await link(alice) };
  }

  const status = async (url: string) => (await server.anonymous.fetchFile(url)).status;

  test('links last minutes, not hours (the default is 10 minutes)', async () => {
    const { id } = await alice.client.upload(await picture(++seed));
    const item = await alice.client.waitForMedia(id);
    const left = item.expires_at! - Date.now();
    assert.ok(left > 0 && left <= 10 * 60 * 1000, `expires in ${left} ms`);
  });

  test("a link is bound to its viewer: another viewer's id in it breaks the signature", async () => {
    const { bobUrl } = await sharedPhoto();
    assert.equal(await status(bobUrl), 200);
    const swapped = bobUrl.replace(bob.accountId, carol.accountId);
    assert.notEqual(swapped, bobUrl);
    assert.equal(await status(swapped), 403);
  });

  test("a member who leaves, or is removed, loses their links at once; the others' keep working", async () => {
    const { group, bobUrl, carolUrl, aliceUrl } = await sharedPhoto();
    assert.equal(await status(bobUrl), 200);
    await bob.client.removeMember(group.id, bob.accountId);
    assert.equal(await status(bobUrl), 404, 'left: the link is dead');
    await alice.client.removeMember(group.id, carol.accountId);
    assert.equal(await status(carolUrl), 404, 'removed: the link is dead');
    assert.equal(await status(aliceUrl), 200, "the uploader's link still works");
  });

  test('deleting the message kills the links of everyone who only saw it there', async () => {
    const { message, bobUrl, aliceUrl } = await sharedPhoto();
    assert.equal(await status(bobUrl), 200);
    await alice.client.deleteMessage(message.id);
    assert.equal(await status(bobUrl), 404);
    // The uploader still owns the item.
    assert.equal(await status(aliceUrl), 200);
  });
});

test('the request log never holds a whole signed link, a bearer token or a stream token', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const server = await startTestServer({ dialect: 'sqlite', logger: { level: 'info', stream: sink } });
  t.after(() => server.close());
  const alice = await server.signUp();
  const { id } = await alice.client.upload(await picture(99));
  const item = await alice.client.waitForMedia(id);
  const url = item.renditions['preview.jpg']!.url;
  const signature = /\/v1\/files\/[^/]+\/[^/]+\/\d+\/([^/]+)\//.exec(url)![1]!;
  assert.equal((await server.anonymous.fetchFile(url)).status, 200);
  // Browsers put the stream's token in the query string.
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream?token=${alice.token}`);
    ws.on('message', () => {
      ws.close();
      resolve();
    });
    ws.on('error', reject);
  });
  const log = lines.join('');
  assert.ok(log.includes('/v1/files/'), 'the request was logged');
  assert.ok(log.includes('[redacted]'), 'with its signature masked');
  assert.ok(!log.includes(signature), 'the signature is not in the log');
  assert.ok(log.includes('/v1/stream?token=[redacted]'), 'the stream request was logged, masked');
  assert.ok(!log.includes(alice.token.slice(6)), 'no token in the log');
});
