/**
 * The messenger in a real browser (Debian's Chromium through playwright-core), two people in two
 * browser contexts against the real server: signing in, starting a chat, live delivery, unread
 * counts, receipts as ticks, replies, reactions, edits, forwards, deletes, a photo and a voice note
 * recorded from the (fake) microphone; a channel whose admin posts and whose subscriber sees it
 * live and cannot post. (Screenshots: `npm run screenshots`.)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { DATA } from '../apps/server/test/safety-fixtures.ts';
import { bubble, closeBrowserSuite, DESKTOP, messageLog, openBrowserSuite, PHONE, signedIn, skipBrowser } from './browser.ts';

const PHOTO = path.join(DATA, 'photos', 'Dune.jpg');

async function openActions(page: Page, text: string) {
  const row = bubble(page, text);
  await row.hover();
  await row.getByRole('button', { name: 'Message actions' }).click();
  return page.getByRole('menu');
}

describe('the messenger', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('two people chat live: unread counts, ticks, replies, reactions, edits, forwards, deletes', { timeout: 180_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();

    // Alice signs in through the form, as a person would.
    const aliceContext = await browser.newContext({ viewport: DESKTOP });
    const a = await aliceContext.newPage();
    const aliceErrors: string[] = [];
    a.on('pageerror', (err) => aliceErrors.push(err.message));
    await a.goto(server.url);
    await a.getByLabel('Handle').fill(alice.handle);
    await a.getByLabel('Password').fill(alice.password);
    await a.getByRole('button', { name: 'Sign in' }).click();
    await a.getByRole('heading', { name: 'Chats' }).waitFor();

    const b = await signedIn(browser, server, bob, PHONE);

    // Alice starts a direct chat by handle and writes; Bob's list shows it live, unread.
    await a.getByRole('button', { name: 'New chat' }).click();
    await a.getByLabel('Their handle').fill(`@${bob.handle}`);
    await a.getByRole('button', { name: 'Start chat' }).click();
    await a.getByRole('heading', { name: `@${bob.handle}`, level: 2 }).waitFor();
    const composer = a.getByLabel('Message', { exact: true });
    await composer.fill('Hi Bob! Are we still on for Saturday?');
    await composer.press('Enter');
    await composer.fill('Bring the map');
    await composer.press('Enter');
    await bubble(a, 'Bring the map').waitFor();

    const bobsLink = b.page.getByRole('link', { name: new RegExp(`^@${alice.handle}\\s*, 2 unread`) });
    await bobsLink.waitFor({ timeout: 15_000 });
    assert.equal(await b.page.title(), '(2) Messages · MMD', 'unread count in the tab title');
    // Alice's ticks: delivered (Bob's device received them) but not read yet.
    await bubble(a, 'Bring the map').getByRole('img', { name: 'Delivered' }).waitFor({ timeout: 15_000 });

    // Bob opens the chat: both messages are there, and Alice's ticks turn to read without a reload.
    await bobsLink.click();
    await bubble(b.page, 'Are we still on for Saturday?').waitFor();
    await bubble(b.page, 'Bring the map').waitFor();
    await bubble(a, 'Bring the map').getByRole('img', { name: 'Read' }).waitFor({ timeout: 15_000 });
    await bubble(a, 'Are we still on for Saturday?').getByRole('img', { name: 'Read' }).waitFor();

    // Bob replies to the first message; Alice sees the quote.
    const menu = await openActions(b.page, 'Are we still on for Saturday?');
    await menu.getByRole('menuitem', { name: 'Reply' }).click();
    await b.page.getByText(`Replying to @${alice.handle}`).waitFor();
    const bobComposer = b.page.getByLabel('Message', { exact: true });
    await bobComposer.fill('Yes! 10am at the station');
    // Alice sees Bob typing before he sends, then the indicator gives way to the message.
    await a.getByText(`@${bob.handle} is typing…`).waitFor({ timeout: 10_000 });
    await bobComposer.press('Enter');
    const reply = bubble(a, '10am at the station');
    await reply.waitFor();
    await a.getByText(`@${bob.handle} is typing…`).waitFor({ state: 'detached' });
    assert.match((await reply.locator('.quote').textContent()) ?? '', /Are we still on for Saturday/);

    // Alice reacts; Bob sees the count live.
    const reactMenu = await openActions(a, '10am at the station');
    await reactMenu.getByRole('menuitem', { name: 'React 👍' }).click();
    await bubble(b.page, '10am at the station').getByRole('button', { name: /👍 1/ }).waitFor();

    // Alice edits her message; Bob sees the new text marked edited.
    const editMenu = await openActions(a, 'Bring the map');
    await editMenu.getByRole('menuitem', { name: 'Edit' }).click();
    await composer.fill('Bring the map and snacks');
    await composer.press('Enter');
    const edited = bubble(b.page, 'Bring the map and snacks');
    await edited.waitFor();
    assert.match((await edited.textContent()) ?? '', /edited/);

    // Bob forwards Alice's message to a group; the copy is labelled Forwarded.
    const carol = await server.signUp();
    const group = await bob.client.createConversation({ kind: 'group', title: 'Saturday hike', members: [carol.handle] });
    const forwardMenu = await openActions(b.page, 'Bring the map and snacks');
    await forwardMenu.getByRole('menuitem', { name: 'Forward' }).click();
    await b.page.getByRole('dialog', { name: 'Forward to…' }).getByRole('button', { name: 'Saturday hike' }).click();
    await b.page.getByText('Forwarded to Saturday hike.').waitFor();
    await b.page.goto(`${server.url}/chats/${group.id}`);
    const copy = bubble(b.page, 'Bring the map and snacks');
    await copy.waitFor();
    assert.match((await copy.textContent()) ?? '', /Forwarded/);

    // Alice deletes a message for everyone; it becomes a tombstone for both, live.
    await b.page.goto(server.url);
    await b.page.getByRole('link', { name: new RegExp(`^@${alice.handle}`) }).click();
    await bubble(b.page, 'Are we still on for Saturday?').waitFor();
    const deleteMenu = await openActions(a, 'Are we still on for Saturday?');
    await deleteMenu.getByRole('menuitem', { name: 'Delete for everyone' }).click();
    await a.getByRole('dialog', { name: 'Delete this message for everyone?' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await messageLog(b.page).getByText('This message was deleted').first().waitFor();
    assert.equal(await bubble(b.page, 'Are we still on for Saturday?').count(), 0);

    // Alice sends a photo with a caption: Bob sees the placeholder, then the sharp preview in the
    // same box (no layout jump).
    await a.locator('input[type="file"]').setInputFiles(PHOTO);
    await composer.fill('Dune at sunset');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    const photo = bubble(b.page, 'Dune at sunset');
    await photo.waitFor({ timeout: 60_000 });
    const hit = photo.locator('.media-hit');
    await hit.waitFor();
    const boxBefore = await hit.boundingBox();
    const sharp = photo.locator('img.media-img.loaded');
    await sharp.waitFor({ timeout: 30_000 });
    const boxAfter = await hit.boundingBox();
    assert.ok(boxBefore && boxAfter && boxBefore.height > 50, 'the photo has a reserved box');
    assert.equal(Math.round(boxAfter!.height), Math.round(boxBefore!.height), 'no layout jump when the photo loads');
    const naturalWidth = await sharp.evaluate((img: HTMLImageElement) => img.naturalWidth);
    assert.ok(naturalWidth > 100, `the preview decoded (${naturalWidth} px wide)`);
    assert.match((await sharp.getAttribute('alt')) ?? '', /\S/, 'the photo has a text alternative');

    // Bob records a voice note from the (fake) microphone; Alice gets a player with a waveform.
    await b.page.getByRole('button', { name: 'Record a voice note' }).click();
    const stop = b.page.getByRole('button', { name: 'Stop & send' });
    await stop.waitFor();
    await b.page.waitForFunction(() => {
      const button = [...document.querySelectorAll('button')].find((x) => x.textContent?.includes('Stop & send'));
      return button && !button.disabled;
    });
    await b.page.waitForTimeout(2000);
    await stop.click();
    const play = messageLog(a).getByRole('button', { name: /^Play voice note/ }).last();
    await play.waitFor({ timeout: 60_000 });
    await messageLog(a).getByRole('slider', { name: /Position in voice note/ }).last().waitFor();
    await play.click();
    await messageLog(a).getByRole('button', { name: /^Pause voice note/ }).last().waitFor({ timeout: 10_000 });

    assert.deepEqual(aliceErrors, []);
    assert.deepEqual(b.errors, []);
    await aliceContext.close();
    await b.context.close();
  });

  it('history loads as you scroll up, keeping your place', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    for (let i = 1; i <= 130; i++) await alice.client.send(chat.id, { text: `note ${i}` });
    const b = await signedIn(browser, server, bob);
    await b.page.getByRole('link', { name: new RegExp(`^@${alice.handle}`) }).click();
    await bubble(b.page, 'note 130').waitFor();
    // The newest page only: the first message is not loaded yet.
    assert.equal(await bubble(b.page, /^note 1\D/).count(), 0);
    for (let n = 0; n < 20 && (await messageLog(b.page).getByText('Beginning of the conversation').count()) === 0; n++) {
      await messageLog(b.page).evaluate((el) => el.scrollTo(0, 0));
      await b.page.waitForTimeout(300);
    }
    await messageLog(b.page).getByText('Beginning of the conversation').waitFor();
    assert.equal(await messageLog(b.page).locator('[data-message-id]').count(), 130);
    await b.context.close();
  });

  it('a message sent while the page is still loading shows, whichever request answers first', { timeout: 120_000 }, async () => {
    // Opening a chat by its URL loads the chat's first page and the stream's starting cursor at
    // once. The cursor request is held here while Alice's other device sends: the page must not
    // settle on a first page read before that cursor, or the message is in neither.
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'already here' });
    const a = await signedIn(browser, server, alice);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held!: () => void;
    const cursorAsked = new Promise<void>((resolve) => {
      held = resolve;
    });
    await a.page.route('**/v1/updates/state', async (route) => {
      held();
      await released;
      await route.continue();
    });
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await cursorAsked;
    // Give a first-page request (if the page makes one now) time to be answered.
    await a.page.waitForTimeout(500);
    await alice.client.send(chat.id, { text: 'sent from my phone meanwhile' });
    release();
    await bubble(a.page, 'already here').waitFor();
    await bubble(a.page, 'sent from my phone meanwhile').waitFor({ timeout: 10_000 });
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('a channel admin posts and a subscriber sees it live, but cannot post', { timeout: 120_000 }, async () => {
    const admin = await server.signUp();
    const reader = await server.signUp();
    const channelHandle = `news${Date.now().toString(36)}`;
    const a = await signedIn(browser, server, admin);
    await a.page.getByRole('button', { name: 'New chat' }).click();
    await a.page.getByRole('tab', { name: 'New channel' }).click();
    await a.page.getByLabel('Channel name').fill('Harbour news');
    await a.page.getByLabel(/Channel handle/).fill(channelHandle);
    await a.page.getByRole('button', { name: 'Create channel' }).click();
    await a.page.getByRole('heading', { name: 'Harbour news', level: 2 }).waitFor();

    const r = await signedIn(browser, server, reader, PHONE);
    await r.page.getByRole('button', { name: 'New chat' }).click();
    await r.page.getByRole('tab', { name: 'Join a channel' }).click();
    await r.page.getByLabel('Channel handle').fill(`@${channelHandle}`);
    await r.page.getByRole('button', { name: 'Find' }).click();
    await r.page.getByRole('button', { name: 'Join' }).click();
    await r.page.getByRole('heading', { name: 'Harbour news', level: 2 }).waitFor();
    await r.page.getByText('Only the channel’s admins can post here.').waitFor();
    assert.equal(await r.page.getByLabel('Message', { exact: true }).count(), 0);

    const composer = a.page.getByLabel('Message', { exact: true });
    await composer.fill('The ferry leaves at 7:15 tomorrow');
    await composer.press('Enter');
    await bubble(r.page, 'The ferry leaves at 7:15 tomorrow').waitFor({ timeout: 15_000 });
    await a.page.getByText('1 subscriber').or(a.page.getByText('2 subscribers')).first().waitFor();
    assert.deepEqual(a.errors, []);
    assert.deepEqual(r.errors, []);
    await a.context.close();
    await r.context.close();
  });
});
