import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hammingDistance, popcount32 } from './hamming.ts';
import { emptyHash256, getHashBit, hash256FromHex, hash256ToHex, setHashBit } from './hash256.ts';
import { bytesToHex, hexToBytes } from './hex.ts';

const SAMPLE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

test('hex round-trips and accepts upper case', () => {
  assert.equal(hash256ToHex(hash256FromHex(SAMPLE)), SAMPLE);
  assert.equal(hash256ToHex(hash256FromHex(SAMPLE.toUpperCase())), SAMPLE);
  assert.equal(bytesToHex(hexToBytes('00ff10')), '00ff10');
});

test('rejects malformed hex', () => {
  assert.throws(() => hash256FromHex(SAMPLE.slice(2)), SyntaxError);
  assert.throws(() => hash256FromHex(`${SAMPLE.slice(1)}g`), SyntaxError);
  assert.throws(() => hexToBytes('abc'), SyntaxError);
});

test('bit k follows Meta order: bit 0 is the last hex digit, bit 255 the first', () => {
  const h = emptyHash256();
  setHashBit(h, 0);
  assert.equal(hash256ToHex(h), `${'0'.repeat(63)}1`);
  setHashBit(h, 255);
  assert.equal(hash256ToHex(h), `8${'0'.repeat(62)}1`);
  setHashBit(h, 17); // word 1 (hex digits 57..60 from the left), bit 1
  assert.equal(hash256ToHex(h).slice(56, 60), '0002');
  assert.equal(getHashBit(h, 17), 1);
  assert.equal(getHashBit(h, 16), 0);
});

test('Hamming distance counts differing bits', () => {
  const a = hash256FromHex(SAMPLE);
  const b = Uint8Array.from(a);
  assert.equal(hammingDistance(a, b), 0);
  b[0]! ^= 0xff;
  b[31]! ^= 0x01;
  assert.equal(hammingDistance(a, b), 9);
  assert.equal(hammingDistance(emptyHash256(), hash256FromHex('f'.repeat(64))), 256);
  assert.throws(() => hammingDistance(a, a.subarray(1)), RangeError);
});

test('popcount32 counts bits of any 32-bit pattern', () => {
  for (const [x, n] of [
    [0, 0],
    [1, 1],
    [0xffffffff, 32],
    [0x80000000, 1],
    [0x12345678, 13],
  ] as const) {
    assert.equal(popcount32(x), n);
  }
});
