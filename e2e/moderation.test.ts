/**
 * Moderation end to end, in three browsers and the console: a photo is shared in a direct chat and
 * (as a separate upload of the same file) in a group; a member reports it from the chat; a
 * moderator takes it down from the safety console; every copy disappears from the open chats of
 * the sender, the reporter and a group member, live, without a reload; the reporter is told.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { bubble, closeBrowserSuite, DESKTOP, messageLog, openBrowserSuite, PHONE, signedIn, skipBrowser } from './browser.ts';

const PHOTO = path.join(DATA, 'photos', 'Dune.jpg');


/** Marks the page; if it reloads, the mark is gone. */
async function mark(page: Page) {
  await page.evaluate(() => {
    (window as unknown as { mmdMark: number }).mmdMark = 42;
  });
}
async function notReloaded(page: Page) {
  assert.equal(await page.evaluate(() => (window as unknown as { mmdMark?: number }).mmdMark), 42, 'the page was not reloaded');
}

describe('reporting and taking down from the browser', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('a member reports a photo, a moderator takes it down in the console, and it disappears from every open chat', { timeout: 240_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const moderator = await signUpModerator(server);
    const direct = await alice.client.openDirect(bob.handle);
    const group = await alice.client.createConversation({ kind: 'group', title: 'Book club', members: [bob.handle, carol.handle] });

    // Alice shares the photo in the direct chat from the browser…
    const a = await signedIn(browser, server, alice, DESKTOP);
    await a.page.goto(`${server.url}/chats/${direct.id}`);
    await a.page.locator('input[type="file"]').setInputFiles(PHOTO);
    await a.page.getByLabel('Message', { exact: true }).fill('beach day');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(a.page, 'beach day').locator('img.media-img.loaded').waitFor({ timeout: 60_000 });
    // …and the same file again in the group, as a separate upload.
    const again = await alice.client.upload(readFileSync(PHOTO), { filename: 'Dune copy.jpg', contentType: 'image/jpeg' });
    assert.equal((await alice.client.waitForMedia(again.id)).status, 'ready');
    await alice.client.send(group.id, { text: 'beach day again', media: [again.id] });

    // Bob (phone) has the direct chat open; Carol has the group open.
    const b = await signedIn(browser, server, bob, PHONE);
    await b.page.goto(`${server.url}/chats/${direct.id}`);
    await bubble(b.page, 'beach day').locator('img.media-img.loaded').waitFor({ timeout: 30_000 });
    const c = await signedIn(browser, server, carol, DESKTOP);
    await c.page.goto(`${server.url}/chats/${group.id}`);
    await bubble(c.page, 'beach day again').locator('img.media-img.loaded').waitFor({ timeout: 30_000 });
    for (const page of [a.page, b.page, c.page]) await mark(page);

    // Bob reports it with a reason.
    const row = bubble(b.page, 'beach day');
    await row.hover();
    await row.getByRole('button', { name: 'Message actions' }).click();
    await b.page.getByRole('menuitem', { name: 'Report' }).click();
    const dialog = b.page.getByRole('dialog', { name: 'Report message' });
    await dialog.getByLabel('Intimate image shared without consent').check();
    await dialog.getByLabel(/Anything moderators should know/).fill('This is my sister. She never agreed to this.');
    await dialog.getByRole('button', { name: 'Report' }).click();
    await b.page.getByText('Moderators will review your report').waitFor();

    // The moderator sees it in the console's queue (blurred) and takes it down with one click.
    const m = await signedIn(browser, server, moderator, DESKTOP);
    await m.page.getByRole('link', { name: 'Safety console' }).click();
    const review = m.page.getByRole('article', { name: 'Reported direct chat message' });
    await review.waitFor({ timeout: 20_000 });
    await review.getByText('This is my sister. She never agreed to this.').waitFor();
    await review.getByRole('img', { name: /^Blurred preview/ }).first().waitFor();
    await review.getByRole('button', { name: 'Take down' }).click();
    await m.page.getByRole('status').filter({ hasText: 'Taken down everywhere' }).waitFor({ timeout: 30_000 });

    // Gone from every open chat, live: the direct chat for both people, and the group copy.
    for (const [page, text] of [
      [a.page, 'beach day'],
      [b.page, 'beach day'],
      [c.page, 'beach day again'],
    ] as const) {
      await bubble(page, text).waitFor({ state: 'detached', timeout: 20_000 });
      await messageLog(page).getByText('Removed by moderators').first().waitFor();
      assert.equal(await messageLog(page).locator('img.media-img').count(), 0, 'no photo left in the chat');
      await notReloaded(page);
    }
    // The reporter hears the outcome.
    await b.page.getByText('a moderator reviewed it and the message was removed').waitFor({ timeout: 20_000 });

    for (const x of [a, b, c, m]) assert.deepEqual(x.errors, []);
    for (const x of [a, b, c, m]) await x.context.close();
  });
});
