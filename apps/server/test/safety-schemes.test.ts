/**
 * Robust schemes: bank sets made in an older scheme (scheme 1, before windows were evened out)
 * keep matching crops of their pictures after the upgrade, because each upload is also hashed in
 * the schemes the banks still hold; whole-picture copies match across schemes; a set naming an
 * unknown scheme is refused at the door.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { matchRobust, pdqIntermediate, coefficientsToHash, hash256ToHex, ROBUST_PARAMS, robustQueryHashes, robustReferenceHashes, type PixelImage } from '@mmd/phash';
import sharp from 'sharp';
import { decodeRobust, encodeRobust } from '../src/safety/hash-codec.ts';
import { createSafetyIndexes } from '../src/safety/indexes.ts';
import { insertSignals } from '../src/safety/store.ts';
import { MmdError } from '@mmd/sdk';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyOverlay } from '../../../packages/phash/scripts/overlays.ts';
import { browserHashes, crop, DATA, noData, signUpModerator, smallPhoto, uploadAndWait } from './safety-fixtures.ts';

/** A photo of photos-more/ dimmed to 30 % and shown under light app chrome, as a dark screenshot. */
async function darkScreenshot(name: string): Promise<Buffer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-dark-'));
  try {
    const file = path.join(dir, 'dark.png');
    writeFileSync(file, await sharp(path.join(DATA, 'photos-more', name)).linear(0.3, 8).png().toBuffer());
    return await applyOverlay(file, 'app-chrome-light');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pixels(image: Buffer): Promise<PixelImage> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** A bank file entry as an instance before schemes wrote it: PDQ and a scheme-1 set (no `scheme`). */
async function schemeOneSignal(image: Buffer, label: string) {
  const p = await pixels(image);
  const it = pdqIntermediate(p);
  const robust = encodeRobust(robustReferenceHashes(p, it, { scheme: 1 }));
  assert.equal('scheme' in robust, false, 'a scheme-1 set is written as before');
  return { type: 'pdq', value: hash256ToHex(coefficientsToHash(it.coefficients)), label, robust };
}

test('this build makes scheme-2 sets; a crop of a scheme-1 reference needs a scheme-1 query', { skip: noData }, async () => {
  assert.equal(ROBUST_PARAMS.scheme, 2);
  const image = await smallPhoto('TwoWings.jpg', 900);
  const reference = robustReferenceHashes(await pixels(image), undefined, { scheme: 1 });
  const cropped = await pixels(await crop(image, 0.25));
  const now = robustQueryHashes(cropped);
  assert.equal(now.scheme, 2);
  // Across schemes only whole-picture hashes are compared, and a crop has none in common.
  assert.equal(matchRobust(now, reference).matched, false);
  assert.equal(matchRobust(robustQueryHashes(cropped, undefined, { scheme: 1 }), reference).matched, true);
  // A whole copy still matches across schemes: the full-resolution PDQ hash is in both.
  const copy = await pixels(await sharp(image).jpeg({ quality: 70 }).toBuffer());
  assert.deepEqual(matchRobust(robustQueryHashes(copy), reference).via, 'global');
  assert.throws(() => robustQueryHashes(copy, undefined, { scheme: 9 as 2 }), /unknown robust scheme 9/);
});

test('stored sets say their scheme: scheme 2 named, scheme 1 as before, unknown schemes refused', () => {
  const hash = new Uint8Array(32).fill(7);
  const two = encodeRobust({ scheme: 2, global: [hash], centre: [], anchors: [] });
  assert.equal(two.scheme, 2);
  assert.equal(decodeRobust(two).scheme, 2);
  const one = encodeRobust({ scheme: 1, global: [hash], centre: [], anchors: [] });
  assert.equal(one.scheme, undefined);
  assert.equal(decodeRobust(one).scheme, 1);
  assert.throws(() => decodeRobust({ ...two, scheme: 5 as 2 }), /unknown scheme 5/);
});

onEachDatabase('safety: robust schemes across an upgrade', (dialect) => {
  let server: TestServer;
  let alice: User;
  let mod: User;
  before(async () => {
    server = await startTestServer({ dialect });
    [alice, mod] = await Promise.all([server.signUp(), signUpModerator(server)]);
  });
  after(() => server.close());

  test('a bank set made in scheme 1 still catches crops of its picture, at upload and in the match endpoint', { skip: noData, timeout: 120_000 }, async () => {
    const image = await smallPhoto('TwoWings.jpg', 900);
    const bank = await mod.client.createBank({ name: 'From an older instance', category: 'ncii', action: 'block' });
    const file = JSON.stringify({ signals: [await schemeOneSignal(image, 'case 4')] });
    const imported = await mod.client.importBank(bank.id, file, 'json');
    assert.equal(imported.added, 1);
    const indexes = createSafetyIndexes(server.db);
    await indexes.refresh();
    assert.deepEqual(indexes.olderBankSchemes(), [1]);

    const cropped = await crop(image, 0.25);
    const checked = await mod.client.matchFile(cropped);
    assert.deepEqual(checked.matches.map((m) => [m.bank_id, m.rule]), [[bank.id, 'pdq_crop']]);
    // At upload: a crop-only match is held for review, not blocked (matcher.ts actionFor).
    const item = await uploadAndWait(alice.client, cropped, 'crop.jpg');
    assert.equal(item.status, 'held');
    const whole = await mod.client.matchFile(await sharp(image).jpeg({ quality: 70 }).toBuffer());
    assert.deepEqual(whole.matches.map((m) => [m.bank_id, m.rule]), [[bank.id, 'pdq']]);

    // Once the older set is gone, uploads are hashed in this build's scheme only.
    const signals = await server.db.db.selectFrom('safety_signals').select('id').where('bank_id', '=', bank.id).execute();
    assert.equal(signals.length, 1);
    for (const s of signals) await mod.client.removeSignal(bank.id, Number(s.id));
    await indexes.refresh();
    assert.deepEqual(indexes.olderBankSchemes(), []);
    indexes.close();
  });

  test('a bank file whose set names an unknown scheme is refused, with the entry named', async () => {
    const bank = await mod.client.createBank({ name: 'Unknown scheme', category: 'other', action: 'hold' });
    const hex = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
    const file = JSON.stringify({ signals: [{ type: 'pdq', value: hex, robust: { v: 2, scheme: 7, global: [hex], centre: [], anchors: [] } }] });
    await assert.rejects(mod.client.importBank(bank.id, file, 'json'), (err: unknown) => {
      assert.ok(err instanceof MmdError);
      assert.equal(err.code, 'validation_failed');
      assert.match(JSON.stringify(err.problem), /signals\/0\/robust/);
      return true;
    });
    const stored = await server.db.db.selectFrom('safety_signals').select('id').where('bank_id', '=', bank.id).execute();
    assert.equal(stored.length, 0, 'nothing of the refused file is kept');
  });

  test('a bank of v4 sets (up to 192 anchors) exports and imports back whole; a v3 set with more than 96 anchors is refused', { skip: noData, timeout: 120_000 }, async () => {
    const bank = await mod.client.createBank({ name: 'Many anchors', category: 'other', action: 'hold' });
    await mod.client.addSignalsFromFile(bank.id, await smallPhoto('Elephants.jpg', 1200), { filename: 'elephants.jpg' });
    const exported = await mod.client.exportBank(bank.id, 'json');
    const set = (JSON.parse(exported.body) as { signals: Array<{ type: string; robust?: { v?: number; anchors: unknown[] } }> }).signals.find((s) => s.type === 'pdq')!.robust!;
    assert.ok(set.anchors.length > 96, `${set.anchors.length} anchors: more than a v3 set carries`);
    assert.equal(set.v, 4);
    const copy = await mod.client.createBank({ name: 'Many anchors, imported', category: 'other', action: 'hold' });
    await mod.client.importBank(copy.id, exported.body, 'json');
    const row = await server.db.db.selectFrom('safety_signals').select('robust').where('bank_id', '=', copy.id).where('type', '=', 'pdq').executeTakeFirstOrThrow();
    assert.equal((JSON.parse(row.robust!) as { anchors: unknown[] }).anchors.length, set.anchors.length, 'every anchor kept');

    const hex = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
    const anchors = Array.from({ length: 97 }, (_, i) => ({ hash: hex, x: i, y: i }));
    const file = JSON.stringify({ signals: [{ type: 'pdq', value: hex, robust: { v: 3, scheme: 2, global: [hex], centre: [], anchors } }] });
    await assert.rejects(mod.client.importBank(copy.id, file, 'json'), (err: unknown) => err instanceof MmdError && err.code === 'validation_failed' && /signals\/0\/robust/.test(JSON.stringify(err.problem)));
  });

  test('a dark screenshot in a block bank holds, not blocks, another dark screenshot of the same app; its own copy is blocked', { skip: noData, timeout: 120_000 }, async () => {
    const banked = await darkScreenshot('grass.png');
    const bank = await mod.client.createBank({ name: 'Dark screenshots', category: 'ncii', action: 'block' });
    await mod.client.addSignalsFromFile(bank.id, banked, { filename: 'banked.jpg' });

    const other = await darkScreenshot('moon.png');
    const checked = await mod.client.matchFile(other);
    assert.deepEqual(checked.matches.map((m) => [m.bank_id, m.rule]), [[bank.id, 'pdq_plain']], 'the plain hash agrees, the evened-out hashes do not');
    const held = await uploadAndWait(alice.client, other, 'other.jpg');
    assert.equal(held.status, 'held', 'a moderator decides; nobody is blocked by an overlay alone');

    const copy = await sharp(banked).jpeg({ quality: 70 }).toBuffer();
    assert.deepEqual((await mod.client.matchFile(copy)).matches.map((m) => [m.bank_id, m.rule]), [[bank.id, 'pdq']]);
    const blocked = await uploadAndWait(alice.client, copy, 'copy.jpg');
    assert.equal(blocked.status, 'failed');
    assert.equal(blocked.reason_code, 'blocked');
  });

  test("a protection case hashed in a person's browser keeps its scheme", { skip: noData }, async () => {
    const image = await smallPhoto('Wood.jpg', 700);
    const h = await browserHashes(image);
    assert.equal(h.robust.scheme, 2);
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/safety/protect',
      remoteAddress: '10.9.0.1',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ images: [{ pdq: h.pdq, quality: h.quality, robust: h.robust }] }),
    });
    assert.equal(res.statusCode, 201, res.body);
    const reference = (JSON.parse(res.body) as { reference: string }).reference;
    const rows = await server.db.db.selectFrom('safety_signals').select(['type', 'robust']).where('case_ref', '=', reference).execute();
    const pdq = rows.find((r) => r.type === 'pdq');
    assert.equal((JSON.parse(pdq!.robust!) as { scheme?: number }).scheme, 2, 'stored as scheme 2, so it is checked with a scheme-2 query');
  });

  test('a protection set in an older scheme keeps only its plain hash: nobody can make every upload be hashed twice', { skip: noData }, async () => {
    const image = await smallPhoto('Aqua.jpg', 700);
    const p = await pixels(image);
    const it = pdqIntermediate(p);
    const robust = encodeRobust(robustReferenceHashes(p, it, { scheme: 1 }));
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/safety/protect',
      remoteAddress: '10.9.0.2',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ images: [{ pdq: hash256ToHex(coefficientsToHash(it.coefficients)), quality: it.quality, robust }] }),
    });
    assert.equal(res.statusCode, 201, res.body);
    const reference = (JSON.parse(res.body) as { reference: string }).reference;
    const row = await server.db.db.selectFrom('safety_signals').select(['robust']).where('case_ref', '=', reference).where('type', '=', 'pdq').executeTakeFirstOrThrow();
    assert.equal(row.robust, null);
    const indexes = createSafetyIndexes(server.db);
    await indexes.refresh();
    assert.deepEqual(indexes.olderBankSchemes(), []);
    indexes.close();
  });

  test('a stored set this build cannot read is matched by its plain hash, and screening goes on', { skip: noData, timeout: 120_000 }, async () => {
    const image = await smallPhoto('Garden.jpg', 700);
    const p = await pixels(image);
    const it = pdqIntermediate(p);
    const bank = await mod.client.createBank({ name: 'Written elsewhere', category: 'other', action: 'block' });
    // As a future version or a broken import might have left it: a scheme this build does not know.
    const unreadable = JSON.stringify({ ...encodeRobust(robustReferenceHashes(p, it)), scheme: 9 });
    await server.db.writeTransaction((tx) =>
      insertSignals(tx, { bankId: bank.id, signals: [{ type: 'pdq', value: hash256ToHex(coefficientsToHash(it.coefficients)), robust: unreadable, origin: 'import' }], createdBy: null, now: Date.now() }),
    );
    const indexes = createSafetyIndexes(server.db);
    await indexes.refresh();
    assert.deepEqual(indexes.olderBankSchemes(), [], 'an unknown scheme is not taken for an older one');
    indexes.close();
    const copy = await uploadAndWait(alice.client, await sharp(image).jpeg({ quality: 75 }).toBuffer(), 'copy.jpg');
    assert.equal(copy.status, 'failed');
    assert.equal(copy.reason_code, 'blocked');
    const other = await uploadAndWait(alice.client, await smallPhoto('Dune.jpg', 700), 'other.jpg');
    assert.equal(other.status, 'ready');
  });
});
