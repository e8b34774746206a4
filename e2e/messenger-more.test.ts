/**
 * More of the messenger in a real browser (Debian's Chromium through playwright-core) against the
 * real server: groups run from the UI (create, add, promote, leave) with every member's view kept
 * live; a three-photo album with upload progress and the full-size viewer; a photo matched by a
 * blur bank that stays hidden until the recipient chooses to see it; a video that streams; signing
 * another device out from Settings; the whole chat by keyboard alone; and messages written offline
 * that are sent exactly once when the connection (or the page) comes back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { locateBinaries } from '@mmd/media';
import type { Browser, Locator, Page } from 'playwright-core';
import type { TestServer, User } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { bubble, closeBrowserSuite, messageLog, openBrowserSuite, PHONE, signedIn, skipBrowser } from './browser.ts';

const photo = (name: string) => path.join(DATA, 'photos', name);
/** Three photos of about a megabyte each: big enough that a throttled upload shows its progress. */
const ALBUM = ['Dune.jpg', 'Elephants.jpg', 'RainDrops.jpg'].map(photo);
/** The photo a blur bank knows; no other test here sends it. */
const SENSITIVE = photo('LadyBird.jpg');

/** A conversation in the list, by the start of its accessible name. */
const chatLink = (page: Page, title: string) =>
  page.getByRole('link', { name: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/, /g, '\\s*, ')}\\b`) });
/** A person's handle as it reads on the page, not matching longer ones (test handles end in a counter). */
const handleText = (user: User) => new RegExp(`@${user.handle}(?!\\d)`);
/** How many messages with exactly this text `user` can read in a conversation. */
async function copiesOf(user: User, conversationId: string, text: string) {
  const page = await user.client.history(conversationId, { limit: 100 });
  return page.messages.filter((m) => m.text === text).length;
}

/** Where an element is on screen (it must be laid out). */
async function boxOf(locator: Locator) {
  const box = await locator.boundingBox();
  assert.ok(box, 'the element is laid out');
  return box;
}

/** What has focus, described by its accessible name (or tag), read between key presses. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return '';
    const labelled = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent : null;
    // Text a screen reader would read: without decorative (aria-hidden) parts such as avatars.
    const copy = el.cloneNode(true) as HTMLElement;
    for (const hidden of copy.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
    return `${el.tagName.toLowerCase()}|${(el.getAttribute('aria-label') ?? labelled ?? copy.textContent?.trim() ?? '').slice(0, 60)}`;
  });
}

/** Presses `key` (Tab or Shift+Tab) until the focused element matches, as a keyboard user would. */
async function pressUntil(page: Page, key: string, wanted: RegExp, max = 40) {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    seen.push(now);
    if (wanted.test(now)) return;
  }
  assert.fail(`${wanted} is not reachable with ${key}; focus went: ${seen.join(' → ')}`);
}

/** Presses a video's play button in the message with `text` and waits until it plays; its source. */
async function playsIn(page: Page, text: string): Promise<string> {
  const row = bubble(page, text);
  // Disabled until the renditions are ready.
  const play = row.locator('button.media-hit:enabled[aria-label^="Play "]');
  await play.waitFor({ timeout: 60_000 });
  await play.click();
  const video = row.locator('video');
  await video.waitFor();
  // It plays: the position moves on by itself.
  await page.waitForFunction((el) => (el as HTMLVideoElement).currentTime > 1, await video.elementHandle(), { timeout: 20_000 }).catch(async (err: unknown) => {
    const state = await video.evaluate((el: HTMLVideoElement) => `currentTime ${el.currentTime}, readyState ${el.readyState}, error ${el.error?.message ?? 'none'}, src ${el.currentSrc}`);
    assert.fail(`the video did not play (${state}): ${String(err)}`);
  });
  assert.equal(await row.getByRole('alert').count(), 0, 'no playback error');
  return video.evaluate((el: HTMLVideoElement) => el.currentSrc);
}

describe('the messenger, further', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'mmd-more-'));
    ({ server, browser } = await openBrowserSuite());
  });
  after(async () => {
    await closeBrowserSuite({ server, browser });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('a group is created, grown, given an admin and left from the UI, live for every member', { timeout: 90_000 }, async () => {
    const [alice, bob, carol, dave] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp()]);
    const a = await signedIn(browser, server, alice);
    const b = await signedIn(browser, server, bob, PHONE);
    const c = await signedIn(browser, server, carol, PHONE);
    const d = await signedIn(browser, server, dave, PHONE);

    // Alice creates the group from New chat → New group, with Bob and Carol.
    await a.page.getByRole('button', { name: 'New chat' }).click();
    const dialog = a.page.getByRole('dialog', { name: 'New chat' });
    await dialog.getByRole('tab', { name: 'New group' }).click();
    await dialog.getByLabel('Group name').fill('Allotment crew');
    await dialog.getByLabel('Members').fill(`@${bob.handle}, @${carol.handle}`);
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await a.page.getByRole('heading', { name: 'Allotment crew', level: 2 }).waitFor();
    await a.page.getByText('Group · 3 members · you are the owner').waitFor();

    // Bob and Carol see it appear in their lists without reloading.
    await chatLink(b.page, 'Allotment crew, group').waitFor({ timeout: 15_000 });
    await chatLink(c.page, 'Allotment crew, group').waitFor({ timeout: 15_000 });
    assert.equal(await chatLink(d.page, 'Allotment crew').count(), 0, 'Dave is not in it yet');
    await chatLink(b.page, 'Allotment crew').click();
    await b.page.getByText('Group · 3 members').waitFor();

    // Alice adds Dave by handle in the Members dialog, then makes him an admin.
    await a.page.getByRole('button', { name: 'Members' }).click();
    const members = a.page.getByRole('dialog', { name: /^Members/ });
    await members.getByRole('listitem').filter({ hasText: handleText(carol) }).waitFor();
    await members.getByLabel('Add someone by handle').fill(`@${dave.handle}`);
    await members.getByRole('button', { name: 'Add', exact: true }).click();
    const daveRow = members.getByRole('listitem').filter({ hasText: handleText(dave) });
    await daveRow.waitFor();
    await chatLink(d.page, 'Allotment crew, group').waitFor({ timeout: 15_000 });
    await b.page.getByText('Group · 4 members').waitFor({ timeout: 15_000 });
    await a.page.getByRole('dialog', { name: 'Members (4)' }).waitFor();
    await chatLink(d.page, 'Allotment crew').click();
    await d.page.getByText('Group · 4 members', { exact: true }).waitFor();
    await daveRow.getByRole('button', { name: `Make admin: @${dave.handle}` }).click();
    await daveRow.locator('.role').filter({ hasText: 'Admin' }).waitFor();
    await daveRow.getByRole('button', { name: `Remove admin: @${dave.handle}` }).waitFor();
    // Dave, with the group open, is told at once.
    await d.page.getByText('Group · 4 members · you are an admin').waitFor({ timeout: 15_000 });
    await members.getByRole('button', { name: 'Close' }).click();

    // Carol leaves from the Members dialog; the group leaves her list, and the count drops for the others.
    await chatLink(c.page, 'Allotment crew').click();
    await c.page.getByRole('button', { name: 'Members' }).click();
    await c.page.getByRole('dialog', { name: /^Members/ }).getByRole('button', { name: 'Leave group' }).click();
    await c.page.getByRole('dialog', { name: 'Leave Allotment crew?' }).getByRole('button', { name: 'Leave', exact: true }).click();
    await chatLink(c.page, 'Allotment crew').waitFor({ state: 'detached' });
    await c.page.waitForURL(`${server.url}/`);
    await c.page.getByRole('heading', { name: 'Chats' }).waitFor();
    for (const page of [a.page, b.page, d.page]) await page.getByText(/^Group · 3 members/).waitFor({ timeout: 15_000 });

    for (const x of [a, b, c, d]) assert.deepEqual(x.errors, []);
    for (const x of [a, b, c, d]) await x.context.close();
  });

  it('three photos go as one album with upload progress, and open full size in a viewer that hands focus back', { timeout: 120_000 }, async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await a.page.getByRole('heading', { name: `@${bob.handle}`, level: 2 }).waitFor();

    // A slow uplink (about 1 MB/s), so the three-megabyte upload takes long enough to watch.
    const cdp = await a.context.newCDPSession(a.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 40, downloadThroughput: 8_000_000, uploadThroughput: 1_000_000 });

    await a.page.locator('input[type="file"]').setInputFiles(ALBUM);
    await a.page.getByRole('list', { name: 'Attachments' }).getByRole('listitem').nth(2).waitFor();
    await a.page.getByLabel('Message', { exact: true }).fill('Three from the trip');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    const bars = a.page.getByRole('progressbar', { name: /^Uploading / });
    await bars.nth(2).waitFor({ timeout: 5000 });
    // Part-way through: some bar is neither empty nor full.
    await a.page.waitForFunction(
      () => [...document.querySelectorAll('progress')].some((p) => p.max > 1 && p.value > 0 && p.value < p.max),
      undefined,
      { timeout: 15_000, polling: 50 },
    );
    await bars.first().waitFor({ state: 'detached', timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    // Bob gets one message carrying all three photos, laid out as an album (one wide, two below).
    const b = await signedIn(browser, server, bob);
    await chatLink(b.page, `@${alice.handle}`).click();
    const album = bubble(b.page, 'Three from the trip');
    await album.waitFor({ timeout: 30_000 });
    assert.equal(await messageLog(b.page).locator('[data-message-id]').count(), 1, 'one message, not three');
    const tiles = album.locator('.media-tile');
    await album.locator('img.media-img.loaded').nth(2).waitFor({ timeout: 60_000 });
    assert.equal(await tiles.count(), 3);
    const [top, left, right] = [await boxOf(tiles.nth(0)), await boxOf(tiles.nth(1)), await boxOf(tiles.nth(2))];
    assert.ok(top.y + top.height <= left.y + 1, 'the first photo is above the other two');
    assert.equal(Math.round(left.y), Math.round(right.y), 'the other two share a row');
    assert.ok(left.x + left.width <= right.x + 1, 'side by side');
    for (let i = 0; i < 3; i++) {
      const img = tiles.nth(i).locator('img.media-img');
      assert.match((await img.getAttribute('alt')) ?? '', /\S/, `photo ${i + 1} has a text alternative`);
      assert.ok((await img.evaluate((el: HTMLImageElement) => el.naturalWidth)) > 0, `photo ${i + 1} decoded`);
    }

    // The second photo opens full size; arrows page through; Escape closes and focus comes back.
    const second = tiles.nth(1).getByRole('button', { name: /Open full size/ });
    await second.click();
    const viewer = b.page.getByRole('dialog', { name: /\(2 of 3\)$/ });
    await viewer.waitFor();
    await viewer.locator('img.media-viewer-full.loaded').waitFor({ timeout: 30_000 });
    assert.match((await viewer.locator('img.media-viewer-full').getAttribute('alt')) ?? '', /\S/);
    await b.page.keyboard.press('ArrowRight');
    await b.page.getByRole('dialog', { name: /\(3 of 3\)$/ }).waitFor();
    await b.page.keyboard.press('Escape');
    await b.page.locator('dialog.media-viewer').waitFor({ state: 'detached' });
    assert.equal(await second.evaluate((el) => el === document.activeElement), true, 'focus is back on the photo that opened the viewer');

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    await a.context.close();
    await b.context.close();
  });

  it('a photo matched by a blur bank arrives hidden behind a warning until the recipient chooses View', { timeout: 90_000 }, async () => {
    const [alice, bob, moderator] = await Promise.all([server.signUp(), server.signUp(), signUpModerator(server)]);
    const bank = await moderator.client.createBank({ name: 'Graphic (browser test)', category: 'other', action: 'blur' });
    const added = await moderator.client.addSignalsFromFile(bank.id, readFileSync(SENSITIVE), { filename: 'known.jpg' });
    assert.ok(added.signals.length > 0);

    const chat = await alice.client.openDirect(bob.handle);
    const b = await signedIn(browser, server, bob);
    const fetched: string[] = [];
    b.page.on('request', (request) => fetched.push(request.url()));
    await b.page.goto(`${server.url}/chats/${chat.id}`);
    await b.page.getByRole('heading', { name: `@${alice.handle}`, level: 2 }).waitFor();

    const { id } = await alice.client.upload(readFileSync(SENSITIVE), { filename: 'ladybird.jpg', contentType: 'image/jpeg' });
    const item = await alice.client.waitForMedia(id, { timeoutMs: 60_000 });
    assert.equal(item.status, 'ready');
    assert.equal(item.blurred, true, 'the bank matched the upload');
    await alice.client.send(chat.id, { text: 'look what I found', media: [id] });

    const row = bubble(b.page, 'look what I found');
    await row.waitFor({ timeout: 15_000 });
    await row.getByText('This may contain sensitive content').waitFor({ timeout: 15_000 });
    const view = row.getByRole('button', { name: /^View photo that may contain sensitive content/ });
    await view.waitFor();
    // Nothing clear is shown, or even downloaded: no preview or thumbnail rendition of this item.
    const clear = new RegExp(`/v1/files/${id}/[^/]+/\\d+/[^/]+/(preview|thumbnail)\\b`);
    const sources = await b.page.locator('img').evaluateAll((imgs) => imgs.map((img) => (img as HTMLImageElement).currentSrc || (img as HTMLImageElement).src));
    assert.deepEqual(sources.filter((src) => clear.test(src)), [], 'no image shows the clear photo');
    assert.deepEqual(fetched.filter((url) => clear.test(url)), [], 'the clear photo was not fetched');
    assert.equal(await row.locator('img.media-img').count(), 0);

    // By keyboard: focus the View button and press Enter; the photo shows.
    await view.focus();
    await b.page.keyboard.press('Enter');
    const shown = row.locator('img.media-img.loaded');
    await shown.waitFor({ timeout: 30_000 });
    assert.match((await shown.getAttribute('src')) ?? '', clear);
    assert.ok((await shown.evaluate((img: HTMLImageElement) => img.naturalWidth)) > 100, 'the photo decoded');
    assert.equal(await row.getByText('This may contain sensitive content').count(), 0);

    assert.deepEqual(b.errors, []);
    await b.context.close();
  });

  it('a video sent from the composer streams and plays for the recipient', { timeout: 120_000 }, async () => {
    // Three seconds of city-night.mpg, made small with the ffmpeg the media package uses.
    const { ffmpeg } = await locateBinaries();
    const clip = path.join(scratch, 'city-night.mp4');
    execFileSync(ffmpeg, ['-v', 'error', '-y', '-t', '3', '-i', path.join(DATA, 'video', 'city-night.mpg'), '-vf', 'scale=480:-2', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an', clip]);

    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await a.page.getByRole('heading', { name: `@${bob.handle}`, level: 2 }).waitFor();
    await a.page.locator('input[type="file"]').setInputFiles(clip);
    await a.page.getByLabel('Message', { exact: true }).fill('the city at night');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(a.page, 'the city at night').waitFor({ timeout: 30_000 });

    const b = await signedIn(browser, server, bob);
    const fetched: string[] = [];
    b.context.on('request', (request) => fetched.push(request.url()));
    await chatLink(b.page, `@${alice.handle}`).click();
    const source = await playsIn(b.page, 'the city at night');
    // Over HLS, not the MP4 fallback: the browser's own HLS (the .m3u8 itself, as in recent
    // Chromium and Safari) or hls.js (MSE, a blob: source).
    assert.match(source, /^blob:|\.m3u8$/, `the video streams over HLS (source ${source})`);
    assert.ok(fetched.some((url) => /\/v1\/files\/.+\.m3u8$/.test(url)), 'the HLS playlist was fetched');
    assert.ok(fetched.some((url) => /\/v1\/files\/.+\.m4s$/.test(url)), 'HLS segments were fetched');

    // A browser without native HLS (Firefox, older Chromium) plays it through hls.js, loaded on demand.
    const other = await b.context.newPage();
    await other.addInitScript(() => {
      const canPlayType = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function (type: string) {
        return /mpegurl/i.test(type) ? '' : canPlayType.call(this, type);
      };
    });
    const earlier = fetched.length;
    await other.goto(`${server.url}/chats/${chat.id}`);
    const viaHlsJs = await playsIn(other, 'the city at night');
    assert.match(viaHlsJs, /^blob:/, 'hls.js feeds the video through Media Source Extensions');
    assert.ok(fetched.slice(earlier).some((url) => /\/assets\/hls-[^/]+\.js$/.test(url)), 'the hls.js chunk was loaded');

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    await a.context.close();
    await b.context.close();
  });

  it('signing another device out from Settings sends it back to the sign-in form at once', { timeout: 60_000 }, async () => {
    const alice = await server.signUp();
    const laptop = await signedIn(browser, server, alice);

    // A second device: a fresh browser context, signed in through the form.
    const phoneContext = await browser.newContext({ viewport: PHONE });
    const phone = await phoneContext.newPage();
    await phone.goto(server.url);
    await phone.getByLabel('Handle').fill(alice.handle);
    await phone.getByLabel('Password').fill(alice.password);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    await phone.getByRole('heading', { name: 'Chats' }).waitFor();
    await phone.evaluate(() => {
      (window as unknown as { mmdMark: number }).mmdMark = 42;
    });

    await laptop.page.getByRole('link', { name: `@${alice.handle}` }).click();
    await laptop.page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    const devices = laptop.page.locator('ul.devices > li');
    await devices.nth(1).waitFor();
    assert.equal(await devices.count(), 2);
    const here = devices.filter({ hasText: '(this device)' });
    assert.equal(await here.count(), 1, 'exactly one device is this one');
    assert.match((await here.textContent()) ?? '', /first device/);
    // Signed in from the form: named for its browser and system, not "Web browser".
    const other = devices.filter({ hasText: 'Chrome on Linux' });
    assert.equal(await other.count(), 1);
    assert.doesNotMatch((await other.textContent()) ?? '', /this device/);

    await other.getByRole('button', { name: 'Sign out: Chrome on Linux' }).click();
    await laptop.page.getByRole('dialog', { name: 'Sign out “Chrome on Linux”?' }).getByRole('button', { name: 'Sign out', exact: true }).click();
    await devices.nth(1).waitFor({ state: 'detached', timeout: 10_000 });
    assert.match((await devices.first().textContent()) ?? '', /\(this device\)/);

    // The phone's stream is closed (4001) and the app signs out by itself — no reload.
    await phone.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    await phone.getByLabel('Handle').waitFor();
    assert.equal(await phone.evaluate(() => (window as unknown as { mmdMark?: number }).mmdMark), 42, 'the page was not reloaded');
    assert.equal(await phone.evaluate(() => window.localStorage.getItem('mmd.token')), null, 'the token is forgotten');
    // And the laptop is still signed in.
    await laptop.page.getByRole('link', { name: 'Messages' }).click();
    await laptop.page.getByRole('heading', { name: 'Chats' }).waitFor();

    assert.deepEqual(laptop.errors, []);
    await laptop.context.close();
    await phoneContext.close();
  });

  it('opening a chat, writing, sending and reacting work with the keyboard alone', { timeout: 60_000 }, async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const first = await alice.client.send(chat.id, { text: 'Can you water the tomatoes?' });
    const b = await signedIn(browser, server, bob);
    const page = b.page;

    // From the top of the page to the conversation, and in.
    await pressUntil(page, 'Tab', new RegExp(`^a\\|@${alice.handle}\\b`));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `@${alice.handle}`, level: 2 }).waitFor();
    await bubble(page, 'Can you water the tomatoes?').waitFor();

    // To the composer, write and send.
    await pressUntil(page, 'Tab', /^textarea\|Message$/);
    await page.keyboard.type('Done, and the beans too');
    await page.keyboard.press('Enter');
    await bubble(page, 'Done, and the beans too').waitFor();
    assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), '', 'the composer is cleared');
    assert.equal(await copiesOf(alice, chat.id, 'Done, and the beans too'), 1);

    // Back to Alice's message's actions, open the menu and react with the second emoji.
    const firstRow = page.locator(`[data-message-id="${first.id}"]`);
    for (let i = 0; i < 10 && !(await firstRow.getByRole('button', { name: 'Message actions' }).evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Shift+Tab');
    }
    assert.equal(await firstRow.getByRole('button', { name: 'Message actions' }).evaluate((el) => el === document.activeElement), true, 'Shift+Tab reaches the message’s actions');
    assert.ok(await firstRow.getByRole('button', { name: 'Message actions' }).evaluate((el) => Number(getComputedStyle(el).opacity) > 0.5), 'the focused actions button is visible');
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu');
    await menu.waitFor();
    assert.equal(await focused(page), 'button|React 👍', 'the menu focuses its first item');
    // Escape closes it and hands focus back; Enter opens it again.
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    assert.equal(await focused(page), 'button|Message actions');
    await page.keyboard.press('Enter');
    await menu.waitFor();
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), 'button|React ❤️');
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'detached' });
    await firstRow.getByRole('button', { name: '❤️ 1, including you' }).waitFor({ timeout: 10_000 });
    assert.equal(await focused(page), 'button|Message actions', 'focus goes back to the actions button, not to the page');

    // The last item (ArrowUp wraps) opens a dialog; Escape closes it and focus comes back.
    await page.keyboard.press('Enter');
    await menu.waitFor();
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(page), 'button|Report');
    await page.keyboard.press('Enter');
    const report = page.getByRole('dialog', { name: 'Report message' });
    await report.waitFor();
    await page.keyboard.press('Escape');
    await report.waitFor({ state: 'detached' });
    assert.equal(await focused(page), 'button|Message actions', 'focus comes back from the dialog');
    const reacted = await alice.client.history(chat.id, { limit: 10 });
    assert.deepEqual(reacted.messages.find((m) => m.id === first.id)?.reactions.map((r) => [r.emoji, r.count]), [['❤️', 1]]);

    assert.deepEqual(b.errors, []);
    await b.context.close();
  });

  it('a stream that catches up just after the network went away does not hide the offline banner', { timeout: 60_000 }, async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'Before the tunnel' });
    const a = await signedIn(browser, server, alice);
    // The stream's socket is relayed to the server, but its 'ready' frame waits until we let it
    // through: the order a socket opened just before an outage can deliver it in.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = 0;
    await a.page.routeWebSocket(/\/v1\/stream\?/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        if (typeof message === 'string' && message.includes('"type":"ready"')) {
          held++;
          void released.then(() => ws.send(message));
          return;
        }
        ws.send(message);
      });
      ws.onMessage((message) => upstream.send(message));
    });
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await bubble(a.page, 'Before the tunnel').waitFor();
    const banner = a.page.getByRole('navigation', { name: 'Conversations' }).getByRole('status');

    // The server has said 'ready' (held at the relay, so the page still says it is connecting)...
    for (let i = 0; i < 200 && held === 0; i++) await a.page.waitForTimeout(50);
    assert.ok(held >= 1, 'the ready frame was held back');
    await banner.getByText('Connecting…').waitFor();
    // ...and then the network goes away.
    await a.context.setOffline(true);
    await banner.getByText(/^Offline/).waitFor({ timeout: 10_000 });
    release();
    // The late 'ready' reaches the page while the browser is still offline (the relay sends it on
    // release; the page handles it before it runs anything we ask of it next): the banner stays.
    await released;
    for (let i = 0; i < 5; i++) {
      await a.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50))));
      assert.deepEqual(await banner.allTextContents(), ['Offline — messages will be sent when you are back online']);
    }

    // Back online, the stream is live and the banner goes.
    await a.context.setOffline(false);
    await a.page.locator('p.connection').first().waitFor({ state: 'detached', timeout: 15_000 });
    await bob.client.send(chat.id, { text: 'Out of the tunnel' });
    await bubble(a.page, 'Out of the tunnel').waitFor({ timeout: 15_000 });
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('a message written offline waits, survives a reload, and is delivered exactly once', { timeout: 90_000 }, async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'See you at the market' });
    const a = await signedIn(browser, server, alice);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await bubble(a.page, 'See you at the market').waitFor();
    const composer = a.page.getByLabel('Message', { exact: true });

    // Offline: the message shows at once, marked as waiting, and is not lost.
    await a.context.setOffline(true);
    await a.page.getByRole('navigation', { name: 'Conversations' }).getByText('Offline — messages will be sent when you are back online').waitFor({ timeout: 10_000 });
    await composer.fill('Written on the train');
    await composer.press('Enter');
    const waiting = a.page.locator('[data-outgoing]').filter({ hasText: 'Written on the train' });
    await waiting.waitFor();
    await waiting.getByText('Waiting for the network').waitFor({ timeout: 10_000 });
    await waiting.getByRole('img', { name: 'Sending' }).waitFor();
    assert.equal(await copiesOf(bob, chat.id, 'Written on the train'), 0);
    // Meanwhile Bob writes.
    await bob.client.send(chat.id, { text: 'Are you on your way?' });

    // Back online: sent once, and shown once; the stream catches up and the banner goes.
    await a.context.setOffline(false);
    await bubble(a.page, 'Written on the train').getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).waitFor({ timeout: 15_000 });
    await waiting.waitFor({ state: 'detached' });
    await bubble(a.page, 'Are you on your way?').waitFor({ timeout: 15_000 });
    await a.page.locator('p.connection').first().waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await a.page.locator('p.connection').count(), 0);
    assert.equal(await bubble(a.page, 'Written on the train').count(), 1);
    assert.equal(await copiesOf(bob, chat.id, 'Written on the train'), 1);

    // Offline again, a message written, and the page reloaded while still offline (the browser's
    // own error page): the outbox is in localStorage, so back online the app sends it — once.
    await a.context.setOffline(true);
    await a.page.getByRole('navigation', { name: 'Conversations' }).getByText(/^Offline/).waitFor({ timeout: 10_000 });
    await composer.fill('Written in the tunnel');
    await composer.press('Enter');
    await a.page.locator('[data-outgoing]').filter({ hasText: 'Written in the tunnel' }).getByText('Waiting for the network').waitFor({ timeout: 10_000 });
    await assert.rejects(a.page.reload(), /ERR_INTERNET_DISCONNECTED/);
    await a.context.setOffline(false);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await bubble(a.page, 'Written in the tunnel').getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).waitFor({ timeout: 15_000 });
    // (The stream may show it a moment before the send's own answer clears the outbox.)
    await a.page.locator('[data-outgoing]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await bubble(a.page, 'Written in the tunnel').count(), 1);

    // The answer to a send is lost after the server stored it; the retry (same key) must not duplicate.
    let dropped = 0;
    await a.page.route(`**/v1/conversations/${chat.id}/messages`, async (route) => {
      if (route.request().method() !== 'POST' || dropped > 0) return route.fallback();
      dropped += 1;
      await route.fetch();
      await route.abort('connectionreset');
    });
    await composer.fill('Sent as the signal dropped');
    await composer.press('Enter');
    await bubble(a.page, 'Sent as the signal dropped').getByRole('img', { name: /^(Sent|Delivered|Read)$/ }).waitFor({ timeout: 15_000 });
    assert.equal(dropped, 1, 'the first answer was dropped');
    // The stream showed it sent; the retry with the same key settles the outbox, and it shows once.
    await a.page.locator('[data-outgoing]').waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await bubble(a.page, 'Sent as the signal dropped').count(), 1);
    await a.page.unroute(`**/v1/conversations/${chat.id}/messages`);

    // Bob's history: each message exactly once; his page shows them once too.
    for (const text of ['Written on the train', 'Written in the tunnel', 'Sent as the signal dropped']) assert.equal(await copiesOf(bob, chat.id, text), 1, text);
    const b = await signedIn(browser, server, bob);
    await chatLink(b.page, `@${alice.handle}`).click();
    await bubble(b.page, 'Sent as the signal dropped').waitFor();
    for (const text of ['Written on the train', 'Written in the tunnel']) assert.equal(await bubble(b.page, text).count(), 1, text);
    assert.equal(await a.page.evaluate((key) => window.localStorage.getItem(key), `mmd.outbox.${alice.accountId}`), '[]');

    assert.deepEqual(b.errors, []);
    await a.context.close();
    await b.context.close();
  });
});
