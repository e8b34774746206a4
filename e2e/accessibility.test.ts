/**
 * Every main screen checked with axe-core (Deque's accessibility rules engine) in Chromium, at
 * desktop and phone sizes: sign-in, the conversation list, a chat with a photo and a voice note,
 * the dialogs, settings, each console section and /protect. Fails on any serious or critical
 * violation (missing names or labels, contrast, focus traps, invalid ARIA…).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, PHONE, signedIn, skipBrowser } from './browser.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Serious and critical violations on the page as it is now. */
async function violations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') does not apply.
  await page.evaluate(AXE);
  const found = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: object): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run({ resultTypes: ['violations'] })).violations;
  })) as Violation[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
}

async function check(page: Page, screen: string, found: Map<string, string[]>) {
  const list = await violations(page);
  if (list.length) found.set(screen, list);
}

describe('accessibility of the main screens (axe-core)', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
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
      await a.context.close();

      const m = await signedIn(browser, server, moderator, viewport);
      for (const [section, heading] of [
        ['reviews', 'Review queue'],
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
