/**
 * A file too big for one request, sent from the web app: the composer switches to a resumable
 * (tus) upload, shows its progress, and the recipient gets the photo. The server's single-request
 * limit is lowered to 2 MB so a 16 MB photo stands in for a 2 GB video.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { DATA } from '../apps/server/test/safety-fixtures.ts';
import { bubble, closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

const BIG = path.join(DATA, 'photos', 'Elephants-large.jpg');

describe('big files from the browser', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite({ mediaMaxSingleUploadBytes: 2 * 1024 * 1024 }));
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('a file above the single-request limit is sent resumably, with progress, and arrives', { timeout: 180_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice, DESKTOP);
    const requests: string[] = [];
    a.page.on('request', (r) => {
      if (r.method() !== 'GET') requests.push(`${r.method()} ${new URL(r.url()).pathname.replace(/\/v1\/uploads\/.+/, '/v1/uploads/{id}')}`);
    });
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await a.page.locator('input[type="file"]').setInputFiles(BIG);
    await a.page.getByLabel('Message', { exact: true }).fill('the whole herd');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await a.page.getByRole('progressbar').first().waitFor();
    const b = await signedIn(browser, server, bob, DESKTOP);
    await b.page.goto(`${server.url}/chats/${chat.id}`);
    await bubble(b.page, 'the whole herd').locator('img.media-img.loaded').waitFor({ timeout: 120_000 });
    // One refused single request, then the tus session: created, then its chunks.
    assert.ok(requests.includes('POST /v1/media'), requests.join(', '));
    assert.ok(requests.includes('POST /v1/uploads'), requests.join(', '));
    assert.ok(requests.filter((r) => r === 'PATCH /v1/uploads/{id}').length >= 2, requests.join(', '));
    assert.deepEqual(a.errors.filter((e) => !/413/.test(e)), []);
    await a.context.close();
    await b.context.close();
  });
});
