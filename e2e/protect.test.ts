/**
 * The public /protect page in a real browser (Debian's Chromium through playwright-core): a person
 * picks a photo, the page hashes it on the device and sends only the hashes. Checks that the hash
 * the page sent is the PDQ the server computes for the same file, that no request carried image
 * bytes, and that the case reference comes back.
 *
 * Needs /usr/bin/chromium (apt-get install -y chromium); skipped with the reason when it is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hammingDistance, hash256FromHex } from '@mmd/phash';
import type { ProtectBody } from '@mmd/sdk';
import type { Browser } from 'playwright-core';
import { type TestServer, eventually } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { closeBrowserSuite, openBrowserSuite, skipBrowser } from './browser.ts';

const PHOTO = path.join(DATA, 'photos', 'Dune.jpg');

const skip = skipBrowser
  ? skipBrowser
  : !existsSync(PHOTO)
    ? `browser test not run: test photo not found at ${PHOTO}`
    : false;

interface SeenRequest {
  url: string;
  method: string;
  contentType: string | undefined;
  bodyBytes: number;
  body: Buffer | null;
}

describe('the /protect page', { skip }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('hashes a photo on the device, sends only the hashes and shows the case reference', {
    timeout: 120_000,
  }, async () => {
    // Phone-sized, as many people will use it.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const seen: SeenRequest[] = [];
    context.on('request', (request) => {
      const body = request.postDataBuffer();
      seen.push({
        url: request.url(),
        method: request.method(),
        contentType: request.headers()['content-type'],
        bodyBytes: body?.length ?? 0,
        body,
      });
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(`${server.url}/protect`);
    await page.getByRole('heading', { name: 'Protect an image without sharing it' }).waitFor();
    assert.ok(await page.getByText('Your image never leaves this device.').isVisible());

    await page.getByLabel('Choose images to protect').setInputFiles(PHOTO);
    const send = page.getByRole('button', { name: 'Send fingerprints and protect' });
    await page.waitForFunction(
      () => {
        const button = [...document.querySelectorAll('button')].find((b) =>
          b.textContent?.includes('Send fingerprints'),
        );
        return button !== undefined && !button.disabled;
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.getByText('1 fingerprint ready to send.').waitFor();

    await send.click();
    const reference =
      (await page.getByTestId('case-reference').textContent({ timeout: 30_000 }))?.trim() ?? '';
    assert.match(reference, /\S{6,}/);
    assert.deepEqual(pageErrors, []);

    // The reference names a real case, and the page follows it without a reload: received, then
    // under review once the first search for copies has run (it used to stay on "Checking…").
    const status = await server.anonymous.protectStatus(reference);
    assert.equal(status.reference, reference);
    await page
      .locator('[data-testid="case-status"][data-status="under_review"]')
      .waitFor({ timeout: 30_000 });
    assert.match((await page.getByTestId('case-status').textContent()) ?? '', /Under review/);

    // Anyone holding the reference can follow the case on the same page; a wrong one is told so.
    await page.getByLabel('Your case reference').fill('not-a-real-reference');
    await page.getByRole('button', { name: 'Check status' }).click();
    await page.getByText('No case has that reference.').waitFor();
    await page.getByLabel('Your case reference').fill(reference);
    await page.getByRole('button', { name: 'Check status' }).click();
    await page.locator('.case-lookup [data-testid="case-status"][data-status="under_review"]').waitFor();
    // The submitter sees the state and dates only: nothing about copies found.
    assert.deepEqual(await page.locator('.case-lookup dt').allTextContents(), [
      'Status',
      'Submitted',
      'Last change',
    ]);

    // Exactly one protect call, JSON, and the only request with a body.
    const protectCalls = seen.filter(
      (r) => r.method === 'POST' && new URL(r.url).pathname === '/v1/safety/protect',
    );
    assert.equal(protectCalls.length, 1);
    const sent = JSON.parse(protectCalls[0]!.body!.toString('utf8')) as ProtectBody;
    assert.equal(sent.images?.length, 1);
    const image = sent.images![0]!;
    assert.ok(
      image.robust && image.robust.anchors.length > 0,
      'the crop-resistant reference set is sent too',
    );
    // Written in the oldest version its anchors fit, as the server writes sets (hash-codec.ts).
    const anchors = image.robust!.anchors.length;
    assert.equal(image.robust!.v, anchors > 96 ? 4 : anchors > 64 ? 3 : 2, `${anchors} anchors`);

    // (b) No request carried image bytes: every body is small JSON, and none holds the file's bytes.
    const file = readFileSync(PHOTO);
    // Besides the protect call, only the case page's own reads (its reference and key) have a body.
    const withBody = seen.filter((r) => r.bodyBytes > 0);
    const paths = new Set(withBody.map((r) => new URL(r.url).pathname));
    assert.ok(paths.has('/v1/safety/protect'));
    for (const p of paths) assert.ok(p === '/v1/safety/protect' || p === `/v1/safety/protect/${reference}/view`, `${p} had a body`);
    for (const r of seen) {
      assert.ok(
        r.url.startsWith(server.url) || r.url.startsWith('blob:') || r.url.startsWith('data:'),
        `request left the server's origin: ${r.url}`,
      );
      if (r.bodyBytes === 0) continue;
      assert.match(r.contentType ?? '', /^application\/json/, `${r.url} sent ${r.contentType}`);
      // Hashes only: a full set (192 anchored regions, ~21 KB) against the photo's 1 MB.
      assert.ok(r.bodyBytes < 32 * 1024, `${r.url} sent ${r.bodyBytes} bytes`);
      assert.equal(
        r.body!.indexOf(file.subarray(0, 256)),
        -1,
        `${r.url} carried the start of the image file`,
      );
      assert.ok(!r.body!.toString('latin1').includes('\xff\xd8\xff'), `${r.url} carried JPEG data`);
    }

    // (a) The hash the browser sent is the PDQ the server computes for the same file.
    const moderator = await signUpModerator(server);
    const match = await moderator.client.matchFile(file, { filename: 'Dune.jpg' });
    assert.ok(match.hashes.pdq, 'the server hashed the file');
    const distance = hammingDistance(hash256FromHex(image.pdq), hash256FromHex(match.hashes.pdq));
    assert.equal(
      image.pdq,
      match.hashes.pdq,
      `browser PDQ ${image.pdq} vs server ${match.hashes.pdq} (distance ${distance})`,
    );
    assert.equal(image.quality, match.hashes.quality);

    // And the protection works: the same file now matches the protection bank (which holds for review).
    const again = await eventually(
      'the protected hash to be matchable',
      async () => {
        const m = await moderator.client.matchFile(file, { filename: 'Dune.jpg' });
        return m.matches.length > 0 ? m : null;
      },
      15_000,
    );
    assert.ok(again.matches.length > 0);
    assert.ok(
      again.matches.every((m) => m.action === 'hold'),
      'a match is held for a moderator, never blocked outright',
    );

    await context.close();
  });

  it('takes an image dropped on the page, and is usable from the keyboard', {
    timeout: 120_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/protect`);
    await page.getByRole('heading', { name: 'Protect an image without sharing it' }).waitFor();
    // The file chooser is reachable with Tab (skip link, brand, two nav links, then the input).
    let focused = '';
    for (let n = 0; n < 8 && focused !== 'protect-file'; n++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    assert.equal(focused, 'protect-file', 'the file input takes keyboard focus');

    const bytes = readFileSync(PHOTO).toString('base64');
    const dataTransfer = await page.evaluateHandle((b64) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([raw], 'dropped.jpg', { type: 'image/jpeg' }));
      return transfer;
    }, bytes);
    await page.dispatchEvent('.dropzone', 'drop', { dataTransfer });
    await page.getByText('1 fingerprint ready to send.').waitFor({ timeout: 60_000 });
    assert.ok(await page.getByText('dropped.jpg').isVisible());
    await context.close();
  });

  it('signs up on / through the SDK and lists conversations', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Handle').fill(`web${process.pid}`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 20_000 });
    await page.getByText('No conversations yet.', { exact: false }).waitFor();
    assert.ok(await page.getByRole('link', { name: `@web${process.pid}` }).isVisible());
    await context.close();
  });
});
