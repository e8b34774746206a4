/**
 * Voice notes as the web app records them: Chromium's MediaRecorder writes audio-only WebM (Opus)
 * that states no duration. Through the API they must become audio — Opus and AAC renditions and a
 * waveform — and be delivered; a WebM with a picture stays a video.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sniffBytes } from '@mmd/media';
import type { MmdClient } from '@mmd/sdk';
import { makeStreamedWebm } from '../../../packages/media/test/make-webm.ts';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';

const VOICE_NOTE = path.resolve(import.meta.dirname, '../../../packages/media/test/fixtures/chromium-voice-note.webm');

onEachDatabase('voice notes', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let work: string;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    work = await mkdtemp(path.join(tmpdir(), 'mmd-voice-test-'));
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  async function bytesOf(client: MmdClient, url: string): Promise<Buffer> {
    const response = await client.fetchFile(url);
    assert.ok(response.ok, `GET ${url} → ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }

  test('an audio-only WebM from MediaRecorder becomes audio with Opus, AAC and 64 peaks', async () => {
    const { id } = await alice.client.upload(readFileSync(VOICE_NOTE), { filename: 'voice-note.webm', contentType: 'audio/webm' });
    const item = await alice.client.waitForMedia(id, { timeoutMs: 60_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'audio');
    assert.equal(item.mime, 'audio/webm');
    assert.ok(Math.abs((item.duration ?? 0) - 1.92) < 0.25, `duration ${item.duration}`);
    assert.equal(item.waveform?.length, 64);
    assert.ok(item.waveform!.every((p) => p >= 0 && p <= 1));
    assert.equal(Math.max(...item.waveform!), 1, 'peaks are normalised');
    assert.equal(item.renditions.opus?.mime, 'audio/ogg');
    assert.equal(item.renditions.aac?.mime, 'audio/mp4');
    assert.equal(item.renditions.mp4, undefined, 'no video renditions');
    assert.equal(item.renditions.hls, undefined);
    assert.equal(sniffBytes(await bytesOf(alice.client, item.renditions.opus!.url))?.format, 'ogg-opus');
    assert.equal(sniffBytes(await bytesOf(alice.client, item.renditions.aac!.url))?.mime, 'audio/mp4');
  });

  test('a voice note sent in a chat reaches the recipient as audio', async () => {
    const chat = await alice.client.openDirect(bob.handle);
    const { id } = await alice.client.upload(readFileSync(VOICE_NOTE), { filename: 'hello.webm' });
    const sent = await alice.client.send(chat.id, { media: [id] });
    await alice.client.waitForMedia(id, { timeoutMs: 60_000 });
    const deadline = Date.now() + 10_000;
    let delivered: Awaited<ReturnType<MmdClient['history']>>['messages'][number] | undefined;
    while (!delivered && Date.now() < deadline) {
      delivered = (await bob.client.history(chat.id)).messages.find((m) => m.id === sent.id);
      if (!delivered) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(delivered, 'bob sees the voice note');
    assert.equal(delivered.status, 'sent');
    assert.equal(delivered.media[0]?.kind, 'audio');
    assert.equal(delivered.media[0]?.status, 'ready');
    const item = await bob.client.media(id);
    assert.ok(item.renditions.opus && item.renditions.aac, 'the recipient gets both renditions');
  });

  test('a streamed WebM with a video track stays video', { timeout: 120_000 }, async () => {
    const file = await makeStreamedWebm(work, 'clip', { seconds: 2, video: true });
    const { id } = await alice.client.upload(await readFile(file), { filename: 'clip.webm' });
    const item = await alice.client.waitForMedia(id, { timeoutMs: 110_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    assert.equal(item.kind, 'video');
    assert.equal(item.mime, 'video/webm');
    assert.deepEqual([item.width, item.height], [320, 240]);
    assert.ok(Math.abs((item.duration ?? 0) - 2) < 0.25, `duration ${item.duration}`);
    for (const name of ['poster', 'mp4', 'hls']) assert.ok(item.renditions[name], name);
    assert.equal(item.waveform, undefined);
  });
});
