import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dataPath, leftovers, makeTmpRoot, NEEDS_DATA, removeTmpRoot } from '../test/helpers.ts';
import { transcodeAudio } from './audio-transcode.ts';
import { audioWaveform, bucketPeaks } from './audio-waveform.ts';
import { isMediaError } from './errors.ts';
import { inspectMedia } from './inspect.ts';
import { sniffBytes } from './sniff.ts';

const VOICE = dataPath('audio', 'Front_Left.wav');
const OGA = dataPath('audio', 'message-new-instant.oga');
let tmpRoot: string;

before(async () => {
  tmpRoot = await makeTmpRoot();
});

after(async () => {
  assert.deepEqual(await leftovers(tmpRoot), []);
  await removeTmpRoot(tmpRoot);
});

test('inspects WAV and Ogg Vorbis', { skip: NEEDS_DATA }, async () => {
  const wav = await inspectMedia(VOICE);
  assert.equal(wav.kind, 'audio');
  assert.equal(wav.mime, 'audio/wav');
  assert.ok(Math.abs((wav.durationSeconds ?? 0) - 1.48) < 0.05);
  const oga = await inspectMedia(OGA);
  assert.equal(oga.format, 'ogg-vorbis');
  assert.equal(oga.av?.audio?.codec, 'vorbis');
});

test('Opus in Ogg and WebM, AAC in M4A', { skip: NEEDS_DATA }, async () => {
  const opus = await transcodeAudio({ input: VOICE, tmpRoot });
  assert.equal(opus.mime, 'audio/ogg');
  assert.equal(opus.codec, 'opus');
  assert.equal(sniffBytes(opus.bytes)?.format, 'ogg-opus');
  assert.ok(Math.abs(opus.durationSeconds - 1.48) < 0.1, `duration ${opus.durationSeconds}`);
  assert.ok(opus.bytes.length < 10_000, `32 kbit/s × 1.5 s should be ~6 KB, got ${opus.bytes.length}`);

  const webm = await transcodeAudio({ input: OGA, format: 'webm-opus', bitrateKbps: 48, tmpRoot });
  assert.equal(webm.mime, 'audio/webm');
  assert.equal(sniffBytes(webm.bytes)?.format, 'webm');

  const aac = await transcodeAudio({ input: VOICE, format: 'm4a-aac', tmpRoot });
  assert.equal(aac.mime, 'audio/mp4');
  assert.equal(aac.codec, 'aac');
  assert.equal(sniffBytes(aac.bytes)?.mime, 'audio/mp4');
  const info = await inspectMedia(aac.bytes, { tmpRoot });
  assert.equal(info.kind, 'audio');
});

test('waveform: 100 normalised peaks', { skip: NEEDS_DATA }, async () => {
  const wave = await audioWaveform({ input: VOICE, tmpRoot });
  assert.equal(wave.peaks.length, 100);
  assert.ok(wave.peaks.every((p) => p >= 0 && p <= 1));
  assert.equal(Math.max(...wave.peaks), 1);
  assert.ok(Math.min(...wave.peaks) < 0.2, 'speech has pauses');
  assert.ok(Math.abs(wave.durationSeconds - 1.48) < 0.05);
  const fullScale = await audioWaveform({ input: VOICE, count: 10, normalize: 'full_scale', tmpRoot });
  assert.equal(fullScale.peaks.length, 10);
  assert.ok(Math.max(...fullScale.peaks) <= 1);
});

test('bucketPeaks spreads few blocks over many bars', () => {
  assert.deepEqual(bucketPeaks([100, 200], 4, 'peak'), [0.5, 0.5, 1, 1]);
  assert.deepEqual(bucketPeaks([0, 0], 2, 'peak'), [0, 0]);
  assert.deepEqual(bucketPeaks([16384, 32768, 0, 0], 2, 'full_scale'), [1, 0]);
});

test('a photo is not audio', { skip: NEEDS_DATA }, async () => {
  await assert.rejects(audioWaveform({ input: dataPath('photos', 'Aqua.jpg'), tmpRoot }), (e) =>
    isMediaError(e, 'unsupported_type'),
  );
});

test('audio duration limit', { skip: NEEDS_DATA }, async () => {
  await assert.rejects(transcodeAudio({ input: VOICE, maxAudioSeconds: 1, tmpRoot }), (e) =>
    isMediaError(e, 'too_long'),
  );
});
