/**
 * Voice notes as browsers record them: audio-only WebM from MediaRecorder, which states no duration.
 * They must be audio (Opus + AAC + waveform), never a video that fails for want of a duration; WebM
 * with a picture stays video.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { transcodeAudio } from '../src/audio-transcode.ts';
import { audioWaveform } from '../src/audio-waveform.ts';
import { isMediaError } from '../src/errors.ts';
import { inspectMedia } from '../src/inspect.ts';
import { probeAv } from '../src/probe-av.ts';
import { sniffBytes } from '../src/sniff.ts';
import { leftovers, makeTmpRoot, removeTmpRoot } from './helpers.ts';
import { makeStreamedWebm } from './make-webm.ts';

const CHROMIUM_VOICE_NOTE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'chromium-voice-note.webm');

let tmpRoot: string;
let work: string;
before(async () => {
  tmpRoot = await makeTmpRoot();
  work = await makeTmpRoot();
});
after(async () => {
  assert.deepEqual(await leftovers(tmpRoot), [], 'no scratch files left behind');
  await removeTmpRoot(tmpRoot);
  await removeTmpRoot(work);
});

describe('a voice note recorded by Chromium', () => {
  test('is sniffed as audio from its track list, before any decoder runs', async () => {
    const head = (await readFile(CHROMIUM_VOICE_NOTE)).subarray(0, 4096);
    const sniffed = sniffBytes(head);
    assert.equal(sniffed?.kind, 'audio');
    assert.equal(sniffed?.mime, 'audio/webm');
    assert.equal(sniffed?.format, 'webm');
  });

  test('states no duration, so inspect measures it', async () => {
    const probe = await probeAv(CHROMIUM_VOICE_NOTE);
    assert.equal(probe.durationSeconds, undefined, 'MediaRecorder never writes the duration');
    assert.equal(probe.video, undefined);
    const info = await inspectMedia(CHROMIUM_VOICE_NOTE, { tmpRoot });
    assert.equal(info.kind, 'audio');
    assert.equal(info.mime, 'audio/webm');
    assert.ok(info.durationSeconds !== undefined && Math.abs(info.durationSeconds - 1.92) < 0.2, `duration ${info.durationSeconds}`);
  });

  test('becomes Opus and AAC with a 64-peak waveform of its beeps', async () => {
    const opus = await transcodeAudio({ input: CHROMIUM_VOICE_NOTE, format: 'ogg-opus', tmpRoot });
    assert.equal(opus.codec, 'opus');
    assert.equal(opus.mime, 'audio/ogg');
    assert.ok(Math.abs(opus.durationSeconds - 1.92) < 0.2, `opus duration ${opus.durationSeconds}`);
    const aac = await transcodeAudio({ input: CHROMIUM_VOICE_NOTE, format: 'm4a-aac', tmpRoot });
    assert.equal(aac.codec, 'aac');
    const wave = await audioWaveform({ input: CHROMIUM_VOICE_NOTE, count: 64, tmpRoot });
    assert.equal(wave.peaks.length, 64);
    assert.equal(Math.max(...wave.peaks), 1);
    assert.ok(wave.peaks.filter((p) => p < 0.05).length > 20, 'silence between the beeps stays low');
  });
});

describe('streamed WebM and Matroska (no stated duration)', () => {
  test('audio-only WebM is audio with its measured duration', async () => {
    const file = await makeStreamedWebm(work, 'tone', { seconds: 3 });
    assert.equal((await probeAv(file)).durationSeconds, undefined);
    const info = await inspectMedia(file, { tmpRoot });
    assert.equal(info.kind, 'audio');
    assert.equal(info.mime, 'audio/webm');
    assert.ok(Math.abs((info.durationSeconds ?? 0) - 3) < 0.1, `duration ${info.durationSeconds}`);
  });

  test('audio-only Matroska is audio too', async () => {
    const file = await makeStreamedWebm(work, 'tone', { seconds: 1, container: 'matroska' });
    const sniffed = sniffBytes(await readFile(file));
    assert.equal(sniffed?.kind, 'audio');
    assert.equal(sniffed?.mime, 'audio/x-matroska');
    const info = await inspectMedia(file, { tmpRoot });
    assert.equal(info.kind, 'audio');
  });

  test('WebM with a video track stays video', async () => {
    const file = await makeStreamedWebm(work, 'clip', { seconds: 2, video: true });
    const sniffed = sniffBytes(await readFile(file));
    assert.equal(sniffed?.kind, 'video');
    assert.equal(sniffed?.mime, 'video/webm');
    const info = await inspectMedia(file, { tmpRoot });
    assert.equal(info.kind, 'video');
    assert.equal(info.width, 320);
    assert.ok(Math.abs((info.durationSeconds ?? 0) - 2) < 0.1, `duration ${info.durationSeconds}`);
  });

  test('a WebM whose track list is not in the head is left to the probe', async () => {
    const file = await makeStreamedWebm(work, 'tone', { seconds: 1 });
    const head = (await readFile(file)).subarray(0, 60);
    assert.equal(sniffBytes(head)?.kind, 'video', 'undecided: the conservative default');
    assert.equal((await inspectMedia(file, { tmpRoot })).kind, 'audio');
  });

  test('an unstated duration past the limit is refused without reading the whole file', async () => {
    const file = await makeStreamedWebm(work, 'long', { seconds: 5 });
    await assert.rejects(
      inspectMedia(file, { maxAudioSeconds: 2, tmpRoot }),
      (error: unknown) => isMediaError(error, 'too_long'),
    );
  });
});
