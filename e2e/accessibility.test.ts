/**
 * Every main screen checked with axe-core (Deque's accessibility rules engine) in Chromium, at
 * desktop and phone sizes: sign-in, the conversation list, a chat with a photo and a voice note,
 * the dialogs, settings, each console section and /protect; a chat with a bot's interactive
 * messages (buttons, a list and its sheet, a carousel, a poll, a form and its dialog), the poll
 * creator, and the Bots & automation page. Fails on any serious or critical
 * violation (missing names or labels, contrast, focus traps, invalid ARIA…).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MmdClient } from '@mmd/sdk';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, PHONE, signedIn, skipBrowser, violations } from './browser.ts';

/** A processed photo of the bot's own, for a card's header. */
async function readyPhoto(client: MmdClient): Promise<string> {
  const photo = await client.upload(readFileSync(path.join(DATA, 'photos', 'Dune.jpg')), { filename: 'Dune.jpg', contentType: 'image/jpeg' });
  await client.waitForMedia(photo.id);
  return photo.id;
}

async function check(page: Page, screen: string, found: Map<string, string[]>) {
  const list = await violations(page);
  if (list.length) found.set(screen, list);
}

describe('accessibility of the main screens (axe-core)', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    // Loopback webhook URLs (the bots page lists one; nothing is sent to it).
    ({ server, browser } = await openBrowserSuite({ outboundAllowPrivate: true }));
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('no serious or critical violations on any main screen, desktop and phone', { timeout: 240_000 }, async () => {
    const ana = await server.signUp();
    const ben = await server.signUp();
    const moderator = await signUpModerator(server);
    const chat = await ana.client.openDirect(ben.handle);
    await ana.client.send(chat.id, { text: 'Hello! Here is the photo from the walk.' });
    const photo = await ana.client.upload(readFileSync(path.join(DATA, 'photos', 'Dune.jpg')), { filename: 'Dune.jpg', contentType: 'image/jpeg' });
    await ana.client.waitForMedia(photo.id);
    const sent = await ana.client.send(chat.id, { text: 'Dunes', media: [photo.id] });
    const voice = await ben.client.upload(readFileSync(path.join(DATA, 'audio', 'complete.oga')), { filename: 'note.oga', contentType: 'audio/ogg' });
    await ben.client.waitForMedia(voice.id);
    await ben.client.send(chat.id, { media: [voice.id], reply_to: sent.id });
    await ben.client.react(sent.id, '❤️');
    await ben.client.report({ message_id: sent.id, reason: 'spam' });
    const group = await ana.client.createConversation({ kind: 'group', title: 'Walkers', members: [ben.handle] });
    await ana.client.send(group.id, { text: 'Sunday?' });

    // A bot's interactive messages, in Ana's chat with it; Ana owns a bot with a webhook.
    const { bot: owned } = await ana.client.createBot({ handle: `helper${process.pid}`, name: 'Helper' });
    await ana.client.createWebhook({ bot: owned.id, url: 'http://127.0.0.1:9/mmd' });
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const botChat = await ana.client.openDirect(bot.handle);
    await bot.client.sendButtons(botChat.id, 'What next?', [
      [{ type: 'callback', text: 'Yes', data: 'y' }, { type: 'callback', text: 'No', data: 'n' }],
      [{ type: 'url', text: 'Docs', url: 'https://docs.example.com/' }, { type: 'copy', text: 'Copy code', copy_text: 'X1' }],
    ]);
    await bot.client.sendCards(botChat.id, [
      { media_id: await readyPhoto(bot.client), title: 'Dunes', description: 'A walk', buttons: [{ type: 'reply', text: 'Book' }] },
      { title: 'Harbour', description: 'A boat trip' },
    ]);
    await bot.client.sendList(botChat.id, { button: 'Sizes', sections: [{ title: 'Coffee', rows: [{ id: 's', title: 'Small', description: '8 oz' }, { id: 'l', title: 'Large' }] }] }, { text: 'Pick a size' });
    const botPoll = await bot.client.sendPoll(botChat.id, { question: 'Lunch?', options: ['Pizza', 'Soup'], anonymous: false });
    await ana.client.vote(botPoll.id, [0]);
    await bot.client.sendForm(botChat.id, {
      title: 'Feedback',
      questions: [
        { id: 'a', type: 'text', label: 'Name', required: true },
        { id: 'b', type: 'single', label: 'Visit', options: ['Coffee', 'Lunch'] },
        { id: 'c', type: 'multiple', label: 'Extras', options: ['Tea', 'Cake'] },
        { id: 'd', type: 'rating', label: 'Service' },
        { id: 'e', type: 'nps', label: 'Recommend?' },
        { id: 'f', type: 'date', label: 'Date' },
      ],
    });
    await bot.client.send(botChat.id, { text: 'Anything else?', quick_replies: { rows: [[{ text: 'No thanks' }, { text: 'Help' }]] } });

    const found = new Map<string, string[]>();
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      const visitor = await browser.newContext({ viewport });
      const page = await visitor.newPage();
      await page.goto(server.url);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await check(page, `${size} sign-in`, found);
      await page.goto(`${server.url}/protect`);
      await page.getByRole('heading', { name: 'Protect an image without sharing it' }).waitFor();
      await check(page, `${size} protect`, found);
      await visitor.close();

      const a = await signedIn(browser, server, ana, viewport);
      await a.page.getByRole('link', { name: /^Walkers/ }).waitFor();
      await check(a.page, `${size} conversation list`, found);
      await a.page.goto(`${server.url}/chats/${chat.id}`);
      await a.page.getByRole('log', { name: 'Messages' }).locator('img.media-img.loaded').waitFor({ timeout: 30_000 });
      await a.page.getByRole('button', { name: /^Play note\.oga/ }).waitFor();
      await check(a.page, `${size} chat`, found);
      const row = a.page.getByRole('log', { name: 'Messages' }).locator('[data-message-id]').first();
      await row.hover();
      await row.getByRole('button', { name: 'Message actions' }).click();
      await a.page.getByRole('menu').waitFor();
      await check(a.page, `${size} message actions`, found);
      await a.page.keyboard.press('Escape');
      await a.page.goto(server.url);
      await a.page.getByRole('button', { name: 'New chat' }).click();
      await a.page.getByRole('dialog', { name: 'New chat' }).waitFor();
      await check(a.page, `${size} new chat dialog`, found);
      await a.page.keyboard.press('Escape');
      await a.page.goto(`${server.url}/settings`);
      await a.page.getByRole('heading', { name: 'Devices' }).waitFor();
      await check(a.page, `${size} settings`, found);

      await a.page.goto(`${server.url}/chats/${botChat.id}`);
      const log = a.page.getByRole('log', { name: 'Messages' });
      await log.getByRole('region', { name: '2 cards' }).locator('img.media-img.loaded').waitFor({ timeout: 30_000 });
      await a.page.getByRole('group', { name: /^Quick replies/ }).waitFor();
      await check(a.page, `${size} chat with a bot`, found);
      await log.getByRole('button', { name: 'Sizes' }).click();
      await a.page.getByRole('dialog', { name: 'Sizes' }).waitFor();
      await check(a.page, `${size} list sheet`, found);
      await a.page.keyboard.press('Escape');
      await log.getByRole('button', { name: 'Fill in' }).click();
      await a.page.getByRole('dialog', { name: 'Feedback' }).waitFor();
      await check(a.page, `${size} form dialog`, found);
      await a.page.keyboard.press('Escape');
      await a.page.getByRole('button', { name: 'Type a message instead' }).click();
      await a.page.getByRole('button', { name: 'Create a poll' }).click();
      await a.page.getByRole('dialog', { name: 'New poll' }).getByRole('checkbox', { name: /Quiz/ }).check();
      await check(a.page, `${size} poll creator`, found);
      await a.page.keyboard.press('Escape');
      await a.page.goto(`${server.url}/bots`);
      await a.page.getByRole('button', { name: 'Delivery log' }).click();
      await a.page.getByText('Nothing sent yet.').waitFor();
      await check(a.page, `${size} bots page`, found);
      await a.context.close();

      const m = await signedIn(browser, server, moderator, viewport);
      for (const [section, heading] of [
        ['reviews', 'Review queue'],
        ['cases', 'Protection cases'],
        ['banks', 'Hash banks'],
        ['takedowns', 'Takedowns'],
        ['audit', 'Audit log'],
      ] as const) {
        await m.page.goto(`${server.url}/console/${section}`);
        await m.page.getByRole('heading', { name: heading, level: 2 }).waitFor();
        await m.page.waitForLoadState('networkidle');
        await check(m.page, `${size} console ${section}`, found);
      }
      await m.context.close();
    }
    assert.deepEqual(Object.fromEntries(found), {}, 'accessibility violations');
  });
});
