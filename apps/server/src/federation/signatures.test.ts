/**
 * Federation's signature rules without a server: what a receiver refuses beyond "the library says
 * it verifies" — a signature that leaves the body uncovered, two signatures, a wrong algorithm, a
 * response for another request.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { createSigner, httpbis } from 'http-message-signatures';
import { AppError } from '../errors.ts';
import { contentDigest, signRequest, signResponse, verifySigned } from './signatures.ts';

const pair = generateKeyPairSync('ed25519');
const identity = { keyId: 'peer-key', privateKey: pair.privateKey };
const lookup = async (keyId: string) => (keyId === 'peer-key' ? { key: 'peer', publicKey: pair.publicKey } : null);
const url = 'https://mmd.example/v1/federation/inbox';
const body = '{"id":"m_12345678"}';

async function refusedWith(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (err: unknown) => err instanceof AppError && err.code === code);
}

test('a signed request verifies and names its key and nonce', async () => {
  const now = Date.now();
  const headers = await signRequest({ identity, method: 'POST', url, headers: { 'content-type': 'application/json' }, body, nonce: 'n'.repeat(24), now });
  assert.equal(headers['content-digest'], contentDigest(body));
  const verified = await verifySigned({ message: { method: 'POST', url }, headers, body: Buffer.from(body), now, lookup });
  assert.deepEqual([verified.key, verified.keyId, verified.nonce], ['peer', 'peer-key', 'n'.repeat(24)]);
});

test('refuses a signature that does not cover the body, even one the key really made', async () => {
  const now = Date.now();
  // Signed by the right key over the method and path only: the body could be anything.
  const signed = await httpbis.signMessage(
    { key: createSigner(pair.privateKey, 'ed25519', 'peer-key'), name: 'mmd', fields: ['@method', '@path', '@query'], params: ['created', 'keyid', 'alg', 'nonce'], paramValues: { created: new Date(now), nonce: 'x'.repeat(24) } },
    { method: 'POST', url, headers: {} },
  );
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  await refusedWith(verifySigned({ message: { method: 'POST', url }, headers, body: Buffer.from(body), now, lookup }), 'signature_invalid');
});

test('refuses two signatures, a missing nonce and a signature on another path', async () => {
  const now = Date.now();
  const headers = await signRequest({ identity, method: 'POST', url, body, now });
  const doubled = { ...headers, signature: `${headers.signature}, other=${headers.signature!.slice(4)}`, 'signature-input': `${headers['signature-input']}, other=${headers['signature-input']!.slice(4)}` };
  await refusedWith(verifySigned({ message: { method: 'POST', url }, headers: doubled, body: Buffer.from(body), now, lookup }), 'signature_invalid');
  const noNonce = { ...headers, 'signature-input': headers['signature-input']!.replace(/;nonce="[^"]+"/, '') };
  await refusedWith(verifySigned({ message: { method: 'POST', url }, headers: noNonce, body: Buffer.from(body), now, lookup }), 'signature_invalid');
  await refusedWith(verifySigned({ message: { method: 'POST', url: 'https://mmd.example/v1/federation/elsewhere' }, headers, body: Buffer.from(body), now, lookup }), 'signature_invalid');
});

test('a response verifies with the nonce of the request it answers', async () => {
  const now = Date.now();
  const headers = await signResponse({ identity, status: 200, headers: { 'content-type': 'application/json' }, body, nonce: 'q'.repeat(24), now });
  const verified = await verifySigned({ message: { status: 200 }, headers, body: Buffer.from(body), now, lookup });
  assert.equal(verified.nonce, 'q'.repeat(24));
  // The same signature does not pass as another status.
  await refusedWith(verifySigned({ message: { status: 404 }, headers, body: Buffer.from(body), now, lookup }), 'signature_invalid');
});
