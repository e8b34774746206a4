import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Md5, md5Hex } from './md5.ts';
import { sha256, sha256Hex } from './sha256.ts';

const text = (s: string) => new TextEncoder().encode(s);

test('MD5 matches the RFC 1321 test suite', () => {
  const vectors: Array<[string, string]> = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  for (const [input, digest] of vectors) assert.equal(md5Hex(text(input)), digest, JSON.stringify(input));
});

test('MD5 agrees with node:crypto around block boundaries and when fed in chunks', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 255);
  for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 128, 999, 1000]) {
    const slice = data.subarray(0, n);
    const expected = createHash('md5').update(slice).digest('hex');
    assert.equal(md5Hex(slice), expected, `${n} bytes`);
    const chunked = new Md5();
    for (let i = 0; i < n; i += 17) chunked.update(slice.subarray(i, i + 17));
    assert.equal(Buffer.from(chunked.digest()).toString('hex'), expected, `${n} bytes in chunks`);
  }
});

test('MD5 refuses to be reused after digest', () => {
  const h = new Md5();
  h.digest();
  assert.throws(() => h.update(text('x')));
});

test('SHA-256 matches FIPS 180 vectors and accepts views and buffers', async () => {
  assert.equal(await sha256Hex(text('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(
    await sha256Hex(text('abc')),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  assert.equal(
    await sha256Hex(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
  const big = text('xxabcyy');
  assert.equal(await sha256Hex(big.subarray(2, 5)), await sha256Hex(text('abc')));
  assert.equal((await sha256(text('abc').buffer as ArrayBuffer)).length, 32);
});
