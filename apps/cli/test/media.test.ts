/**
 * `mmd upload`, `mmd media` and `mmd send --media` against a real server (SQLite, media processed
 * by its in-process worker), each run as a child process with its own MMD_CONFIG_DIR.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MediaItem, Message } from '@mmd/sdk';
import sharp from 'sharp';
import { startTestServer, type TestServer, uniqueHandle } from '../../server/test/harness.ts';
import { run, tempDir } from './run-cli.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
const noData = existsSync(DATA) ? false : `shared test data not found at ${DATA}`;
const HOSTILE = path.resolve(import.meta.dirname, '../../../packages/media/test/hostile');

describe('mmd upload / media / send --media (online)', { skip: noData, concurrency: true }, () => {
  let server: TestServer;
  let alice: Awaited<ReturnType<typeof cliUser>>;
  /** A small real photo: the server processes it in well under a second. */
  const photo = path.join(noData ? '' : tempDir(), 'ladybird.jpg');

  /** A CLI user with a saved session, plus an SDK client on the same token for setup and checks. */
  async function cliUser(prefix: string) {
    const handle = uniqueHandle(prefix);
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir() };
    const created = await run(['account', 'create', handle, '--password', 'correct horse battery'], env);
    assert.equal(created.code, 0, created.stderr);
    const saved = JSON.parse(readFileSync(path.join(env.MMD_CONFIG_DIR, 'credentials.json'), 'utf8')) as {
      servers: Record<string, { token: string }>;
    };
    const client = server.anonymous.as(saved.servers[server.url]!.token);
    return { handle, client, mmd: (...args: string[]) => run(args, env) };
  }

  before(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
    await sharp(path.join(DATA, 'photos', 'LadyBird.jpg'))
      .resize(240)
      .jpeg()
      .toFile(photo);
    alice = await cliUser('alice');
  });
  after(async () => {
    await server?.close();
  });

  test('upload --wait --json prints the ready item with absolute rendition URLs that work', async () => {
    const r = await alice.mmd('upload', photo, '--wait', '--json');
    assert.equal(r.code, 0, r.stderr);
    const item = JSON.parse(r.stdout) as MediaItem;
    assert.deepEqual([item.status, item.kind, item.filename], ['ready', 'image', 'ladybird.jpg']);
    const thumb = item.renditions['thumbnail.jpg']?.url ?? '';
    assert.ok(thumb.startsWith(`${server.url}/v1/files/`), thumb);
    // Signed URLs need no token: what was printed can be fetched as is.
    const response = await fetch(thumb);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
  });

  test('upload prints the id and status; media ID shows kind, size, dimensions and renditions', async () => {
    const r = await alice.mmd('upload', photo);
    assert.equal(r.code, 0, r.stderr);
    const [, id] = r.stdout.match(/^(\S+) processing\n$/) ?? [];
    assert.ok(id, r.stdout);
    await alice.client.waitForMedia(id);
    const shown = await alice.mmd('media', id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^id\\s+${id}$`, 'm'));
    assert.match(shown.stdout, /^status\s+ready$/m);
    assert.match(shown.stdout, /^kind\s+image \(image\/jpeg\)$/m);
    assert.match(shown.stdout, /^size\s+\d+ bytes$/m);
    assert.match(shown.stdout, /^dimensions\s+240x\d+$/m);
    assert.match(shown.stdout, new RegExp(`^rendition preview\\.jpg\\s+${server.url}/v1/files/\\S+$`, 'm'));
  });

  test('upload --ai discloses AI; media shows the provenance labels read from content credentials', async () => {
    const r = await alice.mmd('upload', path.join(DATA, 'c2pa', 'CA.jpg'), '--ai', 'generated', '--wait');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^provenance\s+AI-generated; Edited; Content credentials: C2PA Test Signing Cert \(unverified signer\)$/m);
    const bad = await alice.mmd('upload', photo, '--ai', 'maybe');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /generated, partial/);
  });

  test('a file the server cannot process: upload --wait exits 1 with the reason and its code', async () => {
    const r = await alice.mmd('upload', path.join(HOSTILE, 'truncated.jpg'), '--wait');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^status\s+failed/m, 'the item is still printed');
    assert.match(r.stderr, /^error: media \S+ failed: .+ \(corrupt_file\)\n$/);
    const missing = await alice.mmd('upload', path.join(HOSTILE, 'no-such-file.jpg'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: cannot read .+: no such file \(not_found\)\n$/);
  });

  test('send --media attaches uploads, with or without a caption; nothing at all is a usage error', async () => {
    const bob = await server.signUp(uniqueHandle('bob'));
    const bytes = readFileSync(photo);
    const ids = await Promise.all([1, 2].map(async () => (await alice.client.upload(bytes)).id));
    // A message waits (pending) until its media are processed, and only a sent message lets the
    // recipient see them: wait here, so the check below does not race the worker.
    await Promise.all(ids.map((id) => alice.client.waitForMedia(id)));
    const album = await alice.mmd(
      'send',
      `@${bob.handle}`,
      'two views',
      '--media',
      ids[0]!,
      '--media',
      ids[1]!,
      '--json',
    );
    assert.equal(album.code, 0, album.stderr);
    const sent = JSON.parse(album.stdout) as Message;
    assert.equal(sent.text, 'two views');
    assert.deepEqual(
      sent.media.map((m) => m.id),
      ids,
    );
    const bare = await alice.mmd('send', `@${bob.handle}`, '--media', ids[0]!, '--json');
    assert.equal(bare.code, 0, bare.stderr);
    const photoOnly = JSON.parse(bare.stdout) as Message;
    assert.deepEqual([photoOnly.text, photoOnly.media.map((m) => m.id)], [null, [ids[0]]]);
    // The recipient can open the attached item: it really went with the message.
    const seen = await bob.client.waitForMedia(ids[1]!);
    assert.equal(seen.status, 'ready');
    // Held (here: as a hold bank leaves it): no number is printed, since it has none yet.
    const heldId = (await alice.client.upload(bytes)).id;
    await alice.client.waitForMedia(heldId);
    await server.db.db.updateTable('media').set({ status: 'held' }).where('id', '=', heldId).execute();
    const held = await alice.mmd('send', `@${bob.handle}`, 'wait for it', '--media', heldId);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /^held \S+ in \S+: it goes out, and takes its number, once its media is ready\n$/);
    const empty = await alice.mmd('send', `@${bob.handle}`);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /nothing to send/);
  });
});
