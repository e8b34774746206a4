import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { dataPath, makeTmpRoot, NEEDS_DATA, removeTmpRoot } from '../test/helpers.ts';
import { c2paFixture, mp4WithDigitalSourceType, withBrokenSignature, withDigitalSourceType, withRemoteManifest } from '../test/provenance-fixtures.ts';
import { locateBinaries } from './binaries.ts';
import { digitalSourceTypeOfXmp, interpretManifestStore, readProvenance } from './provenance.ts';

const jpeg = (input: Buffer | string) => readProvenance({ input, mime: 'image/jpeg' });

test('a created image: valid credentials, its signer, claim generator and algorithmic source type', { skip: NEEDS_DATA }, async () => {
  const p = await jpeg(dataPath('c2pa', 'C.jpg'));
  assert.equal(p.status, 'valid');
  assert.equal(p.source, 'c2pa');
  assert.equal(p.issuer, 'C2PA Test Signing Cert');
  assert.equal(p.signer, 'C2PA Signer');
  assert.match(p.claimGenerator ?? '', /^make_test_images\/0\.33\.1/);
  assert.equal(p.signatureValid, true);
  assert.equal(p.hardBindingValid, true);
  // No trust list is configured, so the test certificate is valid but not trusted.
  assert.equal(p.trusted, false);
  assert.equal(p.digitalSourceType, 'algorithmicMedia');
  assert.equal(p.algorithmic, true);
  assert.equal(p.ai, null, 'algorithmic media is not generative AI');
  assert.equal(p.edited, false);
  assert.deepEqual(p.actions, ['c2pa.created']);
});

test('an edited image and two generations of edits: valid, edited, with their ingredient', { skip: NEEDS_DATA }, async () => {
  for (const name of ['CA.jpg', 'CACA.jpg']) {
    const p = await jpeg(dataPath('c2pa', name));
    assert.equal(p.status, 'valid', name);
    assert.equal(p.edited, true, name);
    assert.ok(p.actions.includes('c2pa.color_adjustments'), name);
    assert.equal(p.ingredients, 1, name);
  }
});

test('pixels changed after signing: the hard binding fails, the signature itself still verifies', { skip: NEEDS_DATA }, async () => {
  const p = await jpeg(dataPath('c2pa', 'XCA.jpg'));
  assert.equal(p.status, 'invalid');
  assert.equal(p.hardBindingValid, false);
  assert.equal(p.signatureValid, true);
  assert.ok(p.failures.includes('assertion.dataHash.mismatch'));
});

test('a claim signature broken after signing: invalid signature', { skip: NEEDS_DATA }, async () => {
  const p = await jpeg(withBrokenSignature(c2paFixture('C.jpg')));
  assert.equal(p.status, 'invalid');
  assert.equal(p.signatureValid, false);
  assert.ok(p.failures.includes('claimSignature.mismatch'), p.failures.join());
  assert.equal(p.issuer, 'C2PA Test Signing Cert', 'who claims to have signed is still reported');
});

test('a photo without credentials: none', { skip: NEEDS_DATA }, async () => {
  const p = await jpeg(dataPath('c2pa', 'no_manifest.jpg'));
  assert.equal(p.status, 'none');
  assert.equal(p.source, null);
  assert.equal(p.signatureValid, null);
  assert.equal(p.ai, null);
});

test('credentials from Photoshop with a certificate-status assertion: Adobe as issuer, no OCSP fetched', { skip: NEEDS_DATA }, async () => {
  const p = await jpeg(dataPath('c2pa', 'ocsp_with_assertion.jpg'));
  assert.equal(p.status, 'valid');
  assert.equal(p.issuer, 'Adobe Inc.');
  assert.match(p.claimGenerator ?? '', /Adobe_Photoshop/);
  assert.ok(p.actions.includes('c2pa.resized'));
  assert.equal(p.edited, true);
});

test('a video with credentials (BMFF hash): valid', { skip: NEEDS_DATA }, async () => {
  const p = await readProvenance({ input: dataPath('c2pa', 'video1.mp4'), mime: 'video/mp4' });
  assert.equal(p.status, 'valid');
  assert.equal(p.hardBindingValid, true);
  assert.match(p.claimGenerator ?? '', /c2patool/);
  assert.equal(p.edited, false);
});

test('without credentials, the XMP digital source type says AI-generated or partly AI', { skip: NEEDS_DATA }, async () => {
  const photo = c2paFixture('no_manifest.jpg');
  const generated = await jpeg(await withDigitalSourceType(photo, 'trainedAlgorithmicMedia'));
  assert.deepEqual([generated.status, generated.source, generated.digitalSourceType, generated.ai], ['none', 'xmp', 'trainedAlgorithmicMedia', 'generated']);
  const partial = await jpeg(await withDigitalSourceType(photo, 'compositeWithTrainedAlgorithmicMedia'));
  assert.equal(partial.ai, 'partial');
  const camera = await jpeg(await withDigitalSourceType(photo, 'digitalCapture'));
  assert.deepEqual([camera.digitalSourceType, camera.ai], ['digitalCapture', null]);
});

test('a video without credentials: the digital source type of its XMP box', { skip: NEEDS_DATA }, async () => {
  const tmp = await makeTmpRoot();
  try {
    const out = join(tmp, 'clip.mp4');
    const { ffmpeg } = await locateBinaries();
    await promisify(execFile)(ffmpeg, ['-v', 'error', '-t', '1', '-i', dataPath('video', 'city-night.mpg'), '-an', '-vf', 'scale=160:-2', '-c:v', 'libx264', '-preset', 'ultrafast', out]);
    const p = await readProvenance({ input: mp4WithDigitalSourceType(await readFile(out), 'trainedAlgorithmicMedia'), mime: 'video/mp4' });
    assert.deepEqual([p.status, p.source, p.ai], ['none', 'xmp', 'generated']);
  } finally {
    await removeTmpRoot(tmp);
  }
});

test('a remote manifest is reported by URL and never fetched', { skip: NEEDS_DATA }, async (t) => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.c2pa`;
  const p = await jpeg(await withRemoteManifest(c2paFixture('no_manifest.jpg'), url));
  assert.equal(p.status, 'remote');
  assert.equal(p.remoteManifestUrl, url);
  assert.equal(requests, 0, 'nothing was fetched');
});

test('bounded: a file over the size limit is not parsed; one past the time limit is given up', { skip: NEEDS_DATA }, async () => {
  const big = await readProvenance({ input: dataPath('c2pa', 'C.jpg'), mime: 'image/jpeg', maxBytes: 1000 });
  assert.equal(big.status, 'skipped');
  assert.equal(big.signatureValid, null);
  const slow = await readProvenance({ input: dataPath('c2pa', 'C.jpg'), mime: 'image/jpeg', timeoutMs: 1 });
  assert.equal(slow.status, 'skipped');
  assert.match(slow.error ?? '', /too long/);
});

test('garbage in a JPEG-looking file is unreadable or none, never a throw', async () => {
  const junk = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xeb, 0x00, 0x10]), Buffer.from('JP\0\0jumbc2pa'), Buffer.alloc(64, 7)]);
  const p = await jpeg(junk);
  assert.ok(['none', 'unreadable'].includes(p.status), p.status);
});

test('an AI-generated parent passes its source type on through an edit; an AI ingredient makes it partial', () => {
  const created = { assertions: [{ label: 'c2pa.actions.v2', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] } }] };
  const store = (relationship: string) => ({
    active_manifest: 'edit',
    validation_state: 'Valid',
    manifests: {
      gen: created,
      edit: { ingredients: [{ relationship, active_manifest: 'gen' }], assertions: [{ label: 'c2pa.actions.v2', data: { actions: [{ action: 'c2pa.opened' }, { action: 'c2pa.cropped' }] } }] },
    },
  });
  assert.equal(interpretManifestStore(store('parentOf')).ai, 'generated');
  assert.equal(interpretManifestStore(store('componentOf')).ai, 'partial');
  assert.equal(interpretManifestStore(store('parentOf')).edited, true);
});

test('XMP digital source type as attribute, element or resource', () => {
  const iri = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
  assert.equal(digitalSourceTypeOfXmp(`<x Iptc4xmpExt:DigitalSourceType="${iri}"/>`), 'trainedAlgorithmicMedia');
  assert.equal(digitalSourceTypeOfXmp(`<Iptc4xmpExt:DigitalSourceType>${iri}</Iptc4xmpExt:DigitalSourceType>`), 'trainedAlgorithmicMedia');
  assert.equal(digitalSourceTypeOfXmp(`<Iptc4xmpExt:DigitalSourceType rdf:resource="${iri}"/>`), 'trainedAlgorithmicMedia');
  assert.equal(digitalSourceTypeOfXmp('<x:xmpmeta/>'), null);
  assert.equal(digitalSourceTypeOfXmp('<x DigitalSourceType="<script>"/>'), null);
});
