/**
 * The media engine through the API, with the real photos, video and audio in ../shared/data:
 * uploads (single request, multipart, resumable tus), processing to renditions, metadata
 * stripping, signed URLs with ranges and access control, albums that wait for their media,
 * budget adaptation, and the hostile-file corpus.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MmdClient, SyncEvent } from '@mmd/sdk';
import sharp from 'sharp';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
const HOSTILE = path.resolve(import.meta.dirname, '../../../packages/media/test/hostile');
const noData = existsSync(DATA) ? false : `shared test data not found at ${DATA}`;
function run(file: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000 }, (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}
const photo = (name: string) => readFileSync(path.join(DATA, 'photos', name));

/** A real photo carrying GPS and camera EXIF and an orientation tag (rotate 90° to display). */
async function photoWithPrivateMetadata(): Promise<Buffer> {
  return sharp(photo('LadyBird.jpg'))
    .resize(800, 600, { fit: 'fill' })
    .withMetadata({ orientation: 6 })
    .withExif({ IFD0: { Make: 'SpyCam', Model: 'Secret 3000' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' } })
    .jpeg()
    .toBuffer();
}

onEachDatabase('media', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let eve: User;
  before(async () => {
    server = await startTestServer({ dialect, config: { mediaMaxImageBytes: 20 * 1024 * 1024 } });
    [alice, bob, eve] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
  });
  after(() => server.close());

  async function fetchOk(client: MmdClient, url: string, headers: Record<string, string> = {}) {
    const response = await client.fetchFile(url, { headers });
    assert.ok(response.ok, `GET ${url} → ${response.status}`);
    return response;
  }

  test('a photo becomes stripped, oriented renditions in AVIF, WebP and JPEG, with a placeholder', { skip: noData }, async () => {
    const upload = await alice.client.upload(await photoWithPrivateMetadata(), { filename: 'holiday.jpg' });
    assert.equal(upload.status, 'processing');
    const item = await alice.client.waitForMedia(upload.id);
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'image');
    // Orientation 6 means the stored 800×600 pixels display as 600×800.
    assert.deepEqual([item.width, item.height], [600, 800]);
    assert.match(item.placeholder ?? '', /^data:image\//);
    for (const name of ['thumbnail.avif', 'thumbnail.webp', 'thumbnail.jpg', 'preview.avif', 'preview.webp', 'preview.jpg']) {
      assert.ok(item.renditions[name], `${name} rendition`);
    }
    const avif = await fetchOk(alice.client, item.renditions.preview!.url, { accept: 'image/avif,image/webp,*/*' });
    assert.equal(avif.headers.get('content-type'), 'image/avif');
    assert.equal(avif.headers.get('vary'), 'Accept');
    assert.match(avif.headers.get('cache-control') ?? '', /immutable/);
    const jpeg = await fetchOk(alice.client, item.renditions.preview!.url, { accept: 'image/jpeg' });
    assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
    const served = Buffer.from(await jpeg.arrayBuffer());
    const meta = await sharp(served).metadata();
    assert.equal(meta.exif, undefined, 'no EXIF (GPS, camera) in what is served');
    assert.ok(!served.includes(Buffer.from('SpyCam')), 'camera make gone');
    assert.ok((meta.height ?? 0) > (meta.width ?? 0), 'served upright');
  });

  test('multipart uploads work; a file too large for its type is refused while streaming', { skip: noData }, async () => {
    const form = new FormData();
    form.append('file', new Blob([photo('Garden.jpg')], { type: 'image/jpeg' }), 'garden.jpg');
    const response = await fetch(`${server.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    const item = await alice.client.waitForMedia(id);
    assert.equal(item.status, 'ready');
    assert.equal(item.filename, 'garden.jpg');
    const huge = Buffer.concat([photo('Elephants-large.jpg'), Buffer.alloc(6 * 1024 * 1024)]);
    await rejectsWith(alice.client.upload(huge), 'upload_too_large', 413);
  });

  test('only the uploader and members of a chat holding the item see it; signed URLs cannot be forged', { skip: noData }, async () => {
    const { id } = await alice.client.upload(photo('Aqua.jpg'));
    const item = await alice.client.waitForMedia(id);
    await rejectsWith(bob.client.media(id), 'not_found', 404);
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'look', media: [id] });
    const seenByBob = await bob.client.media(id);
    assert.equal(seenByBob.status, 'ready');
    await rejectsWith(eve.client.media(id), 'not_found', 404);
    await rejectsWith(eve.client.send((await eve.client.openDirect(alice.handle)).id, { media: [id] }), 'not_found', 404);
    const url = item.renditions['thumbnail.jpg']!.url;
    const forged = url.replace(/\/(\d+)\/([^/]+)\//, (_m, exp: string, sig: string) => `/${Number(exp) + 3600}/${sig}/`);
    assert.equal((await alice.client.fetchFile(forged)).status, 403);
    const otherItem = url.replace(id, 'med_someoneelse');
    assert.equal((await alice.client.fetchFile(otherItem)).status, 403);
  });

  test('renditions answer range requests', { skip: noData }, async () => {
    const { id } = await alice.client.upload(photo('Wood.jpg'));
    const item = await alice.client.waitForMedia(id);
    const url = item.renditions['preview.jpg']!.url;
    const whole = Buffer.from(await (await fetchOk(alice.client, url)).arrayBuffer());
    const part = await alice.client.fetchFile(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${whole.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(100, 200));
    const tail = await alice.client.fetchFile(url, { headers: { range: 'bytes=-10' } });
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), whole.subarray(whole.length - 10));
    const bad = await alice.client.fetchFile(url, { headers: { range: `bytes=${whole.length + 5}-` } });
    assert.equal(bad.status, 416);
  });

  test('an album is delivered only when all its media are ready, with every item', { skip: noData }, async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const events: SyncEvent[] = [];
    const stream = bob.client.stream({ onEvent: (e) => events.push(e) });
    await stream.ready;
    const ids = [];
    for (const name of ['Blinds.jpg', 'Dune.jpg', 'TwoWings.jpg']) ids.push((await alice.client.upload(photo(name))).id);
    const sent = await alice.client.send(chat.id, { text: 'album', media: ids });
    assert.equal(sent.media.length, 3);
    const created = await eventually('album delivered', () => events.find((e) => e.type === 'message.created' && (e.data as { id: string }).id === sent.id), 60_000);
    const data = created.data as { media: { id: string; status: string }[]; status: string };
    assert.deepEqual(data.media.map((m) => m.id), ids);
    assert.deepEqual(data.media.map((m) => m.status), ['ready', 'ready', 'ready']);
    assert.equal(data.status, 'sent');
    stream.close();
  });

  test('a message whose media fails is never delivered, and the sender is told', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const { id } = await alice.client.upload(Buffer.from('\xff\xd8\xff\xe0 this is not really a jpeg', 'latin1'));
    const sent = await alice.client.send(chat.id, { media: [id] });
    const failed = await alice.client.waitForMedia(id);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.reason, 'a reason is given');
    const updates = await alice.client.updates({ limit: 200 });
    assert.ok(updates.events.some((e) => e.type === 'message.failed' && (e.data as { message_id: string }).message_id === sent.id));
    const bobsView = await bob.client.history(chat.id);
    assert.ok(!bobsView.messages.some((m) => m.id === sent.id), 'the recipient never sees it');
  });

  test('a voice note gets Opus and AAC, its duration and waveform peaks', { skip: noData }, async () => {
    const { id } = await alice.client.upload(readFileSync(path.join(DATA, 'audio', 'Front_Left.wav')));
    const item = await alice.client.waitForMedia(id);
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'audio');
    assert.ok((item.duration ?? 0) > 0.5);
    assert.equal(item.waveform?.length, 64);
    assert.ok(item.waveform!.every((p) => p >= 0 && p <= 1));
    assert.match(item.renditions.opus!.mime, /audio\/(ogg|webm)/);
    assert.match(item.renditions.aac!.mime, /audio\/mp4/);
    const opus = await fetchOk(alice.client, item.renditions.opus!.url);
    assert.ok((await opus.arrayBuffer()).byteLength > 1000);
  });

  test('a video gets a poster, an MP4 and an HLS ladder that ffprobe reads back', { skip: noData, timeout: 180_000 }, async () => {
    const { id } = await alice.client.upload(readFileSync(path.join(DATA, 'video', 'city-night.mpg')), { filename: 'city.mpg' });
    const item = await alice.client.waitForMedia(id, { timeoutMs: 170_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'video');
    assert.ok(Math.abs((item.duration ?? 0) - 7.6) < 0.5, `duration ${item.duration}`);
    for (const name of ['poster', 'mp4', 'hls']) assert.ok(item.renditions[name], name);
    const master = await (await fetchOk(alice.client, item.renditions.hls!.url)).text();
    assert.match(master, /#EXTM3U/);
    assert.match(master, /#EXT-X-STREAM-INF/);
    const ffprobe = (await import('@mmd/media')).locateBinaries;
    const { ffprobe: probe } = await ffprobe();
    // Asynchronously: this process is also the server ffprobe is reading from.
    const result = await run(probe, ['-v', 'error', '-show_entries', 'stream=height,codec_name', '-of', 'json', new URL(item.renditions.hls!.url, server.url).toString()]);
    assert.equal(result.status, 0, result.stderr);
    const heights = (JSON.parse(result.stdout) as { streams: { height?: number; codec_name: string }[] }).streams.filter((s) => s.height).map((s) => s.height);
    assert.ok(heights.includes(240) && heights.includes(360), `ladder heights ${heights} from ${result.stdout} ${result.stderr}`);
    assert.ok(Math.max(...(heights as number[])) <= 405, 'never upscaled past the source');
    const range = await alice.client.fetchFile(item.renditions.mp4!.url, { headers: { range: 'bytes=0-1023' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-type'), 'video/mp4');
  });

  test('a document is kept as uploaded and served as an attachment', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
    const { id } = await alice.client.upload(pdf, { filename: 'invoice.pdf' });
    const item = await alice.client.waitForMedia(id);
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'document');
    assert.equal(item.mime, 'application/pdf');
    const file = await fetchOk(alice.client, item.renditions.file!.url);
    assert.match(file.headers.get('content-disposition') ?? '', /attachment; filename="invoice.pdf"/);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), pdf);
  });

  test('adapts a photo to an MMS budget in the formats the handset accepts', { skip: noData }, async () => {
    const { id } = await alice.client.upload(photo('Elephants.jpg'));
    await alice.client.waitForMedia(id);
    const adapted = await alice.client.adapt(id, { maxBytes: 300 * 1024, accept: ['image/jpeg'] });
    assert.equal(adapted.mime, 'image/jpeg');
    assert.ok(adapted.bytes.length <= 300 * 1024, `${adapted.bytes.length} bytes`);
    assert.ok(adapted.bytes.length > 50 * 1024, 'uses the budget, not a thumbnail');
    await rejectsWith(alice.client.adapt(id, { maxBytes: 200, accept: ['image/jpeg'] }), 'budget_unreachable', 422);
    await rejectsWith(alice.client.request('GET', `/v1/media/${id}/adapt?max_bytes=abc`), 'validation_failed', 400);
    await rejectsWith(eve.client.adapt(id, { maxBytes: 300 * 1024 }), 'not_found', 404);
  });

  test('resumable uploads (tus): created, resumed after a break, finished into a media item; others cannot touch them', { skip: noData }, async () => {
    const bytes = photo('YellowFlower.jpg');
    const auth = { authorization: `Bearer ${alice.token}`, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...auth, 'upload-length': String(bytes.length), 'upload-metadata': `filename ${Buffer.from('flower.jpg').toString('base64')}` } });
    assert.equal(created.status, 201);
    const location = new URL(created.headers.get('location')!, server.url).toString();
    const half = Math.floor(bytes.length / 2);
    const first = await fetch(location, { method: 'PATCH', headers: { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(0, half) });
    assert.equal(first.status, 204);
    // The client lost track: HEAD says where to resume.
    const head = await fetch(location, { method: 'HEAD', headers: auth });
    assert.equal(head.headers.get('upload-offset'), String(half));
    const intruder = await fetch(location, { method: 'PATCH', headers: { authorization: `Bearer ${eve.token}`, 'tus-resumable': '1.0.0', 'upload-offset': String(half), 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(half) });
    assert.equal(intruder.status, 404);
    const anonymous = await fetch(location, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
    assert.equal(anonymous.status, 401);
    const last = await fetch(location, { method: 'PATCH', headers: { ...auth, 'upload-offset': String(half), 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(half) });
    assert.equal(last.status, 204);
    const mediaId = last.headers.get('mmd-media-id');
    assert.ok(mediaId, 'the finished upload names its media item');
    const item = await alice.client.waitForMedia(mediaId);
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.filename, 'flower.jpg');
  });

  test('every hostile file gets a clear failed status, and the server keeps serving', { timeout: 120_000 }, async () => {
    const files = existsSync(HOSTILE) ? readdirSync(HOSTILE).filter((f) => !f.endsWith('.md')) : [];
    assert.ok(files.length >= 10, `hostile corpus present (${files.length})`);
    const outcomes: Record<string, string> = {};
    for (const file of files) {
      const upload = await alice.client.upload(readFileSync(path.join(HOSTILE, file)), { filename: file });
      const item = upload.status === 'failed' ? await alice.client.media(upload.id) : await alice.client.waitForMedia(upload.id, { timeoutMs: 60_000 });
      outcomes[file] = `${item.status}${item.reason_code ? `:${item.reason_code}` : ''}`;
      if (item.status === 'failed') assert.ok(item.reason && item.reason.length > 5, `${file} has a readable reason`);
    }
    // Files that are valid as what they really are (wrong extension, polyglots) may be ready; the
    // broken ones must fail. Nothing may stay processing.
    for (const [file, outcome] of Object.entries(outcomes)) {
      assert.notEqual(outcome, 'processing', file);
      if (/trunc|corrupt|bomb|zero|empty|absurd|huge/i.test(file)) assert.match(outcome, /^failed/, `${file}: ${outcome}`);
    }
    assert.equal((await alice.client.me()).id, alice.accountId, 'still serving');
  });

  test('upload denials: no token, an API key without the scope, unknown ids', async () => {
    await rejectsWith(server.anonymous.upload(Buffer.from('hello')), 'unauthenticated', 401);
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const { key } = await bot.client.createApiKey({ name: 'reader', scopes: ['messages:read'] });
    await rejectsWith(server.anonymous.as(key).upload(Buffer.from('hello')), 'insufficient_scope', 403);
    await rejectsWith(alice.client.media('med_nothing'), 'not_found', 404);
    const chat = await alice.client.openDirect(bob.handle);
    await rejectsWith(alice.client.send(chat.id, { media: ['med_nothing'] }), 'not_found', 404);
  });
});
