/**
 * A chat's media, links and docs, and the messenger on a phone's touch screen, in a real browser
 * (Debian's Chromium through playwright-core) against the real server: the gallery's tabs, opening
 * a photo, jumping to a message far up the chat; press and hold for a message's actions, swipe
 * right to reply, and the chat's header as the only header inside a chat.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, CDPSession, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import type { TestServer, User } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, DESKTOP, messageLog, openBrowserSuite, PHONE, signedIn, skipBrowser, violations } from './browser.ts';

async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(120 * 90 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 13 + seed * 71 + ((i / 3) | 0) * 3) & 0xff;
  return sharp(raw, { raw: { width: 120, height: 90, channels: 3 } }).png().toBuffer();
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

async function uploaded(user: User, body: Buffer, filename: string): Promise<string> {
  const { id } = await user.client.upload(body, { filename });
  assert.equal((await user.client.waitForMedia(id, { timeoutMs: 90_000 })).status, 'ready');
  return id;
}

/** A finger on the screen, through the DevTools protocol: Chromium turns it into touch pointer events. */
async function finger(page: Page): Promise<{ cdp: CDPSession; at(target: Locator, dx?: number): Promise<{ x: number; y: number }> }> {
  const cdp = await page.context().newCDPSession(page);
  return {
    cdp,
    async at(target, dx = 0) {
      const box = await target.boundingBox();
      assert.ok(box, 'the target is on screen');
      return { x: box.x + Math.min(box.width / 2, 40) + dx, y: box.y + box.height / 2 };
    },
  };
}

async function touch(cdp: CDPSession, type: 'touchStart' | 'touchMove' | 'touchEnd', point?: { x: number; y: number }) {
  await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: point ? [{ x: point.x, y: point.y, id: 1 }] : [] });
}

describe('a chat gallery and the messenger on a touch screen', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('shows a chat’s photos, docs and links in tabs; opens a photo and jumps to its message', { timeout: 180_000 }, async () => {
    const ann = await server.signUp();
    const ben = await server.signUp();
    const direct = await ann.client.openDirect(ben.handle);
    const photo = await uploaded(ann, await picture(1), 'harbour.png');
    const doc = await uploaded(ann, PDF, 'timetable.pdf');
    await ann.client.send(direct.id, { text: 'the harbour at dawn', media: [photo] });
    await ann.client.send(direct.id, { text: 'the new timetable', media: [doc] });
    await ann.client.send(direct.id, { text: 'tickets at https://example.com/ferry', link_preview: false });
    // Enough after them that the photo's message is far above what the chat first shows.
    for (let i = 0; i < 40; i += 1) await ben.client.send(direct.id, { text: `later message ${i}` });

    const { page, errors } = await signedIn(browser, server, ben, DESKTOP);
    await page.goto(`${server.url}/chats/${direct.id}`);
    await bubble(page, 'later message 39').waitFor();
    await page.getByRole('button', { name: 'Chat options' }).click();
    await page.getByRole('menuitem', { name: 'Media, links and docs' }).click();
    const dialog = page.getByRole('dialog', { name: 'Media, links and docs' });
    await dialog.waitFor();
    assert.equal(await dialog.getByRole('tab', { name: 'Media' }).getAttribute('aria-selected'), 'true');

    // Media: one thumbnail; opening it shows the photo full size.
    const panel = dialog.getByRole('tabpanel');
    const tile = panel.locator('.gallery-tile');
    await tile.locator('img').first().waitFor({ timeout: 30_000 });
    assert.equal(await tile.count(), 1);
    await tile.locator('img').first().click();
    const viewer = page.locator('dialog.media-viewer');
    await viewer.waitFor();
    await viewer.locator('img').first().waitFor();
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });

    // Docs and links.
    await dialog.getByRole('tab', { name: 'Docs' }).click();
    await panel.getByText('timetable.pdf').first().waitFor();
    await dialog.getByRole('tab', { name: 'Links' }).click();
    const link = panel.getByRole('link', { name: /example\.com\/ferry/ });
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), 'https://example.com/ferry');
    assert.equal(await link.getAttribute('target'), '_blank');
    // The tabs work from the keyboard, and the gallery passes axe.
    await dialog.getByRole('tab', { name: 'Links' }).press('ArrowRight');
    assert.equal(await dialog.getByRole('tab', { name: 'Media' }).getAttribute('aria-selected'), 'true');
    await tile.locator('img').first().waitFor();
    assert.deepEqual(await violations(page), []);

    // "Show in chat" closes the gallery and brings the message into view.
    await panel.getByRole('button', { name: /^Show in chat: photo from @/ }).click();
    await dialog.waitFor({ state: 'detached' });
    const found = bubble(page, 'the harbour at dawn');
    await found.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('.bubble-row.found') !== null);
    const box = await found.boundingBox();
    const log = await messageLog(page).boundingBox();
    assert.ok(box && log && box.y >= log.y - 1 && box.y + box.height <= log.y + log.height + 1, 'the message is on screen');
    assert.deepEqual(errors, []);
  });

  it('on a phone: the chat header is the only header; press and hold opens the actions; a swipe right replies', { timeout: 120_000 }, async () => {
    const ann = await server.signUp();
    const ben = await server.signUp();
    const direct = await ann.client.openDirect(ben.handle);
    await ann.client.send(direct.id, { text: 'are you coming on Saturday?' });
    await ann.client.send(direct.id, { text: 'bring the flask' });
    await ann.client.send(direct.id, { text: 'the view from the top', media: [await uploaded(ann, await picture(2), 'top.png')] });

    const { page, errors } = await signedIn(browser, server, ben, PHONE, { touch: true });
    // The chat list keeps the site's header; inside a chat only the chat's own header shows.
    assert.equal(await page.locator('.site-header').isVisible(), true);
    await page.goto(`${server.url}/chats/${direct.id}`);
    const question = bubble(page, 'are you coming on Saturday?');
    await question.waitFor();
    assert.equal(await page.locator('.site-header').isVisible(), false);
    assert.equal(await page.getByRole('link', { name: 'Back to chats' }).isVisible(), true);
    const head = await page.locator('.chat-head').boundingBox();
    assert.ok(head && head.y < 2, `the chat header is at the top (y ${head?.y})`);

    const { cdp, at } = await finger(page);
    // A quick tap opens nothing.
    const tapAt = await at(question.locator('.bubble'));
    await touch(cdp, 'touchStart', tapAt);
    await touch(cdp, 'touchEnd');
    await page.waitForTimeout(700);
    assert.equal(await page.getByRole('menu').count(), 0, 'a tap is not a long press');

    // Press and hold: the message's actions, with reactions.
    await touch(cdp, 'touchStart', tapAt);
    const menu = page.getByRole('menu');
    await menu.waitFor({ timeout: 5000 });
    await touch(cdp, 'touchEnd');
    for (const name of ['Reply', 'Forward', 'Copy text', 'Star', 'Delete for me', 'React 👍']) assert.equal(await menu.getByRole('menuitem', { name }).count(), 1, name);
    // Tapped with the finger, the item works (the press's own release is what is swallowed).
    const thumbsUp = menu.getByRole('menuitem', { name: 'React 👍' });
    await touch(cdp, 'touchStart', await at(thumbsUp));
    await touch(cdp, 'touchEnd');
    await question.getByRole('button', { name: /^👍 1/ }).waitFor();
    assert.equal(await page.getByRole('menu').count(), 0);

    // Held on a photo: the actions too, and the photo does not open.
    const photo = bubble(page, 'the view from the top').locator('.bubble img').first();
    await photo.waitFor({ timeout: 30_000 });
    await touch(cdp, 'touchStart', await at(photo));
    await page.getByRole('menu').waitFor({ timeout: 5000 });
    await touch(cdp, 'touchEnd');
    await page.waitForTimeout(300);
    assert.equal(await page.locator('dialog.media-viewer').count(), 0, 'a long press does not open the photo');
    // A tap elsewhere closes it.
    await touch(cdp, 'touchStart', await at(page.locator('.chat-head-text')));
    await touch(cdp, 'touchEnd');
    await page.getByRole('menu').waitFor({ state: 'detached' });

    // A swipe to the right on the other message: the composer replies to it.
    const other = bubble(page, 'bring the flask');
    const start = await at(other.locator('.bubble'));
    await touch(cdp, 'touchStart', start);
    for (let dx = 8; dx <= 120; dx += 8) await touch(cdp, 'touchMove', { x: start.x + dx, y: start.y + 2 });
    await touch(cdp, 'touchEnd');
    await page.getByText(`Replying to @${ann.handle}`).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('.composer .quote-text').first().textContent(), 'bring the flask');
    assert.equal(await page.getByRole('menu').count(), 0, 'a swipe opens no menu');
    // The message is back in place.
    await page.waitForFunction(() => [...document.querySelectorAll('.bubble-row')].every((r) => !r.classList.contains('swiping')));

    // A vertical drag is the list's scroll: no reply, no menu.
    await page.getByRole('button', { name: 'Cancel reply' }).click();
    await page.getByText(`Replying to @${ann.handle}`).waitFor({ state: 'detached' });
    const down = await at(question.locator('.bubble'));
    await touch(cdp, 'touchStart', down);
    for (let dy = 8; dy <= 80; dy += 8) await touch(cdp, 'touchMove', { x: down.x + 4, y: down.y + dy });
    await touch(cdp, 'touchEnd');
    await page.waitForTimeout(700);
    assert.equal(await page.getByText(`Replying to @${ann.handle}`).count(), 0);
    assert.equal(await page.getByRole('menu').count(), 0);
    assert.deepEqual(errors, []);
  });
});
