/**
 * Provenance through the API: content credentials (C2PA) and the XMP digital source type are read
 * from the original on upload, the renditions are stripped of them, and the stored result reaches
 * every view of the item (GET /v1/media/{id}, messages in history, the safety console's review)
 * with the uploader's "made with AI" disclosure. Real C2PA files from ../shared/data/c2pa.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MediaItem } from '@mmd/sdk';
import { c2paFixture, withBrokenSignature, withDigitalSourceType } from '../../../packages/media/test/provenance-fixtures.ts';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data/c2pa');
const noData = existsSync(DATA) ? false : `shared C2PA test data not found at ${DATA}`;

onEachDatabase('media provenance', (dialect) => {
  let server: TestServer;
  let alice: User;
  let bob: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, bob, mod] = await Promise.all([server.signUp(), server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  async function uploaded(bytes: Buffer, options: { filename: string; ai?: 'generated' | 'partial' }): Promise<MediaItem> {
    const reply = await alice.client.upload(bytes, options);
    const item = await alice.client.waitForMedia(reply.id);
    assert.equal(item.status, 'ready', item.reason ?? '');
    return item;
  }

  test('credentials read from the original survive into the API view; the rendition itself carries none', { skip: noData }, async () => {
    const item = await uploaded(c2paFixture('CA.jpg'), { filename: 'edited.jpg' });
    const p = item.provenance!;
    assert.equal(p.status, 'valid');
    assert.equal(p.source, 'c2pa');
    assert.equal(p.issuer, 'C2PA Test Signing Cert');
    assert.equal(p.signature_valid, true);
    assert.equal(p.hard_binding_valid, true);
    assert.equal(p.edited, true);
    assert.ok(p.actions.includes('c2pa.color_adjustments'));
    assert.deepEqual(p.labels, ['Edited', 'Content credentials: C2PA Test Signing Cert (unverified signer)']);
    assert.equal(p.label, 'Edited');
    const served = Buffer.from(await (await alice.client.fetchFile(item.renditions['preview.jpg']!.url)).arrayBuffer());
    assert.ok(!served.includes(Buffer.from('c2pa')), 'the rendition has no manifest left');
  });

  test('a message carries its items’ provenance in history, for the recipient too', { skip: noData }, async () => {
    const item = await uploaded(c2paFixture('C.jpg'), { filename: 'gradient.jpg' });
    const chat = await alice.client.openDirect(bob.handle);
    const sent = await alice.client.send(chat.id, { media: [item.id] });
    assert.equal(sent.media[0]!.provenance?.status, 'valid');
    const history = await bob.client.history(chat.id);
    const seen = history.messages.find((m) => m.id === sent.id)!.media[0]!;
    assert.equal(seen.provenance?.digital_source_type, 'algorithmicMedia');
    assert.equal(seen.provenance?.ai, null);
    assert.deepEqual(seen.provenance?.labels, ['Computer-generated', 'Content credentials: C2PA Test Signing Cert (unverified signer)']);
    const bobsView = await bob.client.media(item.id);
    assert.equal(bobsView.provenance?.claim_generator, 'make_test_images/0.33.1 c2pa-rs/0.33.1');
  });

  test('tampered files: pixels changed after signing, and a broken signature, are labelled', { skip: noData }, async () => {
    const changed = (await uploaded(c2paFixture('XCA.jpg'), { filename: 'changed.jpg' })).provenance!;
    assert.equal(changed.status, 'invalid');
    assert.equal(changed.hard_binding_valid, false);
    assert.ok(changed.failures.includes('assertion.dataHash.mismatch'));
    assert.ok(changed.labels.includes('Content credentials: C2PA Test Signing Cert — content changed after signing'));
    const forged = (await uploaded(withBrokenSignature(c2paFixture('C.jpg')), { filename: 'forged.jpg' })).provenance!;
    assert.equal(forged.signature_valid, false);
    assert.ok(forged.labels.includes('Content credentials: C2PA Test Signing Cert — invalid signature'));
  });

  test('a video’s credentials survive transcoding to MP4 and HLS', { skip: noData }, async () => {
    const item = await uploaded(c2paFixture('video1.mp4'), { filename: 'clip.mp4' });
    assert.equal(item.kind, 'video');
    assert.ok(item.renditions.mp4 && item.renditions.hls);
    assert.equal(item.provenance?.status, 'valid');
    assert.match(item.provenance?.claim_generator ?? '', /c2patool/);
  });

  test('AI: the XMP source type, and the uploader’s own disclosure, become labels', { skip: noData }, async () => {
    const photo = c2paFixture('no_manifest.jpg');
    const plain = await uploaded(photo, { filename: 'plain.jpg' });
    assert.equal(plain.provenance?.status, 'none');
    assert.deepEqual(plain.provenance?.labels, []);
    const generated = await uploaded(await withDigitalSourceType(photo, 'trainedAlgorithmicMedia'), { filename: 'gen.jpg' });
    assert.deepEqual([generated.provenance?.source, generated.provenance?.ai, generated.provenance?.label], ['xmp', 'generated', 'AI-generated']);
    const disclosed = await uploaded(photo, { filename: 'disclosed.jpg', ai: 'partial' });
    assert.equal(disclosed.provenance?.ai_disclosed, 'partial');
    assert.equal(disclosed.provenance?.label, 'Contains AI-generated parts');
    const resumable = await alice.client.waitForMedia((await alice.client.uploadResumable(photo, { filename: 'tus.jpg', ai: 'generated' })).id);
    assert.equal(resumable.provenance?.ai_disclosed, 'generated');
    await rejectsWith(alice.client.upload(photo, { filename: 'x.jpg', ai: 'maybe' as 'partial' }), 'validation_failed', 400);
    await assert.rejects(alice.client.uploadResumable(photo, { filename: 'x.jpg', ai: 'maybe' as 'partial' }), /ai must be one of/);
  });

  test('a disclosure at send time labels the sender’s own items, and a forward cannot relabel someone else’s', { skip: noData }, async () => {
    const item = await uploaded(c2paFixture('no_manifest.jpg'), { filename: 'later.jpg' });
    assert.equal(item.provenance?.ai_disclosed, null);
    const chat = await alice.client.openDirect(bob.handle);
    const sent = await alice.client.send(chat.id, { media: [item.id], ai_disclosure: 'generated' });
    assert.equal(sent.media[0]!.provenance?.label, 'AI-generated');
    const seen = (await bob.client.history(chat.id)).messages.find((m) => m.id === sent.id)!.media[0]!;
    assert.equal(seen.provenance?.ai_disclosed, 'generated');
    // Bob forwards it claiming "partial": Alice's item keeps her own disclosure.
    const other = await bob.client.openDirect(alice.handle);
    await bob.client.send(other.id, { forward_of: sent.id, ai_disclosure: 'partial' });
    assert.equal((await alice.client.media(item.id)).provenance?.ai_disclosed, 'generated');
    await rejectsWith(alice.client.send(chat.id, { media: [item.id], ai_disclosure: 'fake' as 'partial' }), 'validation_failed', 400);
  });

  test('a moderator reviewing a deepfake report sees the item’s provenance', { skip: noData }, async () => {
    const item = await uploaded(await withDigitalSourceType(c2paFixture('no_manifest.jpg'), 'trainedAlgorithmicMedia'), { filename: 'fake.jpg' });
    const chat = await alice.client.openDirect(bob.handle);
    const sent = await alice.client.send(chat.id, { media: [item.id] });
    await bob.client.report({ message_id: sent.id, reason: 'deepfake' });
    const { reviews } = await mod.client.reviews({ status: 'open' });
    const review = reviews.find((r) => r.message?.id === sent.id)!;
    assert.ok(review.reasons.some((r) => r.reason === 'deepfake'));
    assert.equal(review.media[0]!.provenance?.label, 'AI-generated');
  });

  test('a bank can target AI-generated intimate imagery', async () => {
    const bank = await mod.client.createBank({ name: 'synthetic ncii', category: 'ai_ncii', action: 'hold' });
    assert.equal(bank.category, 'ai_ncii');
  });
});
