import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RobustHashes, hash256FromHex, matchRobust } from '@mmd/phash';
import { RobustHashSet } from '@mmd/contracts';
import { Value } from 'typebox/value';
import type { AppError } from '../errors.ts';
import { decodeRobust, encodeRobust, formatVpdqCompact, normaliseSignal, parseVpdqAny, sampleFrames } from './hash-codec.ts';

const h1 = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const h2 = '0'.repeat(64);

test('reads vPDQ as HMA compact JSON and as the reference tool’s lines, and writes HMA’s form', () => {
  const fromLines = parseVpdqAny(`0,100,${h1.toUpperCase()},0.000\n1,49,${h2},1.000\n`);
  const fromJson = parseVpdqAny(`["${h1},100,0.000", "${h2},49,1.000"]`);
  assert.deepEqual(fromLines, fromJson);
  assert.equal(formatVpdqCompact(fromLines), `["${h1},100,0.000","${h2},49,1.000"]`);
  assert.equal(normaliseSignal('vpdq', `0,100,${h1},0\n`).value, `["${h1},100,0.000"]`);
});

test('refuses malformed hashes with the path that is wrong', () => {
  for (const [type, value] of [['pdq', h1.slice(1)], ['md5', h1], ['sha256', 'g'.repeat(64)], ['vpdq', '[1,2]'], ['vpdq', `["${h1},101,0"]`], ['vpdq', '[]'], ['vpdq', '{"a":1}']] as const) {
    assert.throws(() => normaliseSignal(type, value, '/hashes/3/value'), (err: AppError) => err.code === 'validation_failed' && err.extra.errors?.[0]?.path === '/hashes/3/value', `${type} ${value}`);
  }
  assert.equal(normaliseSignal('md5', ` ${'A'.repeat(32)} `).value, 'a'.repeat(32));
});

test('samples frames evenly', () => {
  const frames = parseVpdqAny(Array.from({ length: 100 }, (_, i) => `${i},100,${h1},${i}`).join('\n'));
  assert.deepEqual(sampleFrames(frames, 4).map((f) => f.frameNumber), [0, 25, 50, 75]);
  assert.equal(sampleFrames(frames.slice(0, 3), 4).length, 3);
});

const hex = (c: string) => c.repeat(64);

test('a stored hash set reads back with each anchor’s magnification', () => {
  const set: RobustHashes = {
    global: [hash256FromHex(hex('a'))],
    centre: [hash256FromHex(hex('b'))],
    anchors: [
      { hash: hash256FromHex(hex('c')), x: 10.123, y: 20.456 },
      { hash: hash256FromHex(hex('d')), x: 30, y: 40, scale: 1.41 },
    ],
  };
  const stored = encodeRobust(set);
  assert.equal(stored.v, 2);
  const back = decodeRobust(JSON.parse(JSON.stringify(stored)));
  assert.deepEqual(back.anchors.map((a) => [a.x, a.y, a.scale]), [
    [10.12, 20.46, undefined],
    [30, 40, 1.41],
  ]);
  assert.deepEqual(back.global, set.global);
});

test('a stored query set keeps each anchor’s turn, so mirrored anchors never vote with upright ones', () => {
  const set: RobustHashes = {
    global: [],
    centre: [],
    anchors: [
      { hash: hash256FromHex(hex('c')), x: 1, y: 2 },
      { hash: hash256FromHex(hex('d')), x: 3, y: 4, turn: 'flipY' },
      { hash: hash256FromHex(hex('e')), x: 5, y: 6, scale: 1.09, turn: 'rotate90' },
    ],
  };
  const stored = encodeRobust(set);
  assert.ok(Value.Check(RobustHashSet, stored));
  const back = decodeRobust(JSON.parse(JSON.stringify(stored)));
  assert.deepEqual(back.anchors.map((a) => [a.scale, a.turn]), [
    [undefined, undefined],
    [undefined, 'flipY'],
    [1.09, 'rotate90'],
  ]);
  // An unknown turn is refused by the contract.
  assert.equal(Value.Check(RobustHashSet, { ...stored, anchors: [{ hash: hex('c'), x: 1, y: 2, turn: 'sideways' }] }), false);
});

test('a stored query set keeps the strip each anchor was chosen in, so strips never vote with the whole picture', () => {
  const set: RobustHashes = {
    global: [],
    centre: [],
    anchors: [
      { hash: hash256FromHex(hex('c')), x: 1, y: 2 },
      { hash: hash256FromHex(hex('d')), x: 3, y: 4, part: 'right' },
      { hash: hash256FromHex(hex('e')), x: 5, y: 6, part: 'top' },
    ],
  };
  const stored = encodeRobust(set);
  assert.ok(Value.Check(RobustHashSet, stored));
  const back = decodeRobust(JSON.parse(JSON.stringify(stored)));
  assert.deepEqual(back.anchors.map((a) => a.part), [undefined, 'right', 'top']);
  // An unknown part is refused by the contract.
  assert.equal(Value.Check(RobustHashSet, { ...stored, anchors: [{ hash: hex('c'), x: 1, y: 2, part: 'middle' }] }), false);
});

test('a set stored before anchors were size-normalised still matches by its whole picture, not by its old anchors', () => {
  // Written by the previous scheme: no `v`, anchors on a fixed 1/4-scale plane.
  const old = { global: [hex('a')], centre: [hex('b')], anchors: [{ hash: hex('c'), x: 1, y: 2 }] };
  const decoded = decodeRobust(old);
  assert.equal(decoded.anchors.length, 0);
  assert.deepEqual(decoded.global, [hash256FromHex(hex('a'))]);
  // An upload with the same whole-picture hash still matches it.
  const upload: RobustHashes = { global: [hash256FromHex(hex('a'))], centre: [], anchors: [] };
  assert.equal(matchRobust(upload, decoded).via, 'global');
});

test('a set is written in the oldest version its anchors fit (v2 64, v3 96, v4 192), validates and reads back whole', () => {
  const anchors = Array.from({ length: 192 }, (_, i) => ({ hash: hash256FromHex(hex('e')), x: i, y: 2 * i, scale: i % 3 === 0 ? 1 : 1.03 }));
  for (const [count, v] of [
    [64, 2],
    [65, 3],
    [96, 3],
    [97, 4],
    [192, 4],
  ] as const) {
    const set = encodeRobust({ global: [hash256FromHex(hex('a'))], centre: [], anchors: anchors.slice(0, count) });
    assert.equal(set.v, v, `${count} anchors`);
    assert.ok(Value.Check(RobustHashSet, set), `${count} anchors validate`);
    assert.equal(decodeRobust(JSON.parse(JSON.stringify(set))).anchors.length, count);
  }
  // More than even v4 carries is refused by the contract (an import answers validation_failed).
  assert.equal(Value.Check(RobustHashSet, encodeRobust({ global: [], centre: [], anchors: [...anchors, anchors[0]!] })), false);
});
