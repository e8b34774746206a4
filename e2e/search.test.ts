/**
 * The search flow in a real browser (Debian's Chromium through playwright-core) against the real
 * server: searching across chats from the list, the words marked in each result (as text: markup
 * in a message stays text), opening a result far back in a long chat — its history loaded back to
 * it, the message in view and marked — and searching within one chat, by words and by type, and
 * by sender ("from:@handle").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, openBrowserSuite, screenshot, signedIn, skipBrowser, violations } from './browser.ts';

describe('message search in the web app', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('finds a message across chats, marks the words, and opens it in context far back in history', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const carol = await server.signUp();
    const direct = await alice.client.openDirect(bob.handle);
    const group = await carol.client.createConversation({ kind: 'group', title: 'Book club', members: [alice.handle] });
    // The message to find, then 300 more on top of it: the chat's first page does not hold it.
    await bob.client.send(direct.id, { text: 'The <b>Zanzibar</b> ferry leaves at nine' });
    for (let i = 0; i < 300; i += 1) await bob.client.send(direct.id, { text: `filler message ${i}` });
    await carol.client.send(group.id, { text: 'Zanzibar is the next book' });
    await carol.client.send(group.id, { text: 'nothing to see here' });

    const { page, errors } = await signedIn(browser, server, alice);
    await page.getByRole('searchbox', { name: 'Search conversations and messages' }).fill('zanzi');
    const results = page.getByRole('region', { name: 'Messages found' });
    const items = results.getByRole('button');
    await items.first().waitFor();
    assert.deepEqual(await items.evaluateAll((els) => els.map((e) => e.querySelector('.search-result-text')?.textContent)), [
      'Zanzibar is the next book',
      'The <b>Zanzibar</b> ferry leaves at nine',
    ]);
    // The words are marked; a message's markup is shown as the text it is, never as HTML.
    assert.deepEqual(await results.locator('mark').allTextContents(), ['Zanzibar', 'Zanzibar']);
    assert.equal(await results.locator('b').count(), 0);
    assert.deepEqual(await violations(page), []);
    await screenshot(page, 'search-results.png');

    await items.nth(1).click();
    await page.waitForURL(`**/chats/${direct.id}`);
    const found = bubble(page, 'ferry leaves at nine');
    await found.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('.bubble-row.found') !== null);
    assert.equal(await found.evaluate((el) => el.classList.contains('found')), true);
    // In view: inside the message list's visible box.
    const box = await found.boundingBox();
    const log = await page.getByRole('log', { name: 'Messages' }).boundingBox();
    assert.ok(box && log && box.y >= log.y - 1 && box.y + box.height <= log.y + log.height + 1, 'the message found is on screen');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('searches within one chat, by words and by type', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const direct = await alice.client.openDirect(bob.handle);
    const other = await alice.client.openDirect((await server.signUp()).handle);
    await bob.client.send(direct.id, { text: 'recipe: https://example.com/pancakes' });
    await bob.client.send(direct.id, { text: 'pancakes for breakfast?' });
    await alice.client.send(other.id, { text: 'pancakes elsewhere' });

    const { page, errors } = await signedIn(browser, server, alice);
    await page.goto(`${server.url}/chats/${direct.id}`);
    await bubble(page, 'pancakes for breakfast?').waitFor();
    await page.getByRole('button', { name: 'Search in this chat' }).click();
    await page.getByRole('searchbox', { name: 'Search in this chat' }).fill('pancake');
    const results = page.getByRole('region', { name: 'Messages found in this chat' });
    await results.getByRole('button').first().waitFor();
    assert.deepEqual(await results.locator('.search-result-text').allTextContents(), ['pancakes for breakfast?', 'recipe: https://example.com/pancakes']);
    await page.getByRole('combobox', { name: 'Messages in this chat of type' }).selectOption('link');
    await page.waitForFunction(() => document.querySelectorAll('.chat-search .search-result').length === 1);
    assert.deepEqual(await results.locator('.search-result-text').allTextContents(), ['recipe: https://example.com/pancakes']);
    await results.getByRole('button').first().click();
    await page.waitForFunction(() => document.querySelector('.bubble-row.found') !== null);
    assert.equal(await page.getByRole('searchbox', { name: 'Search in this chat' }).count(), 0, 'search closes on a pick');
    // Across chats, one sender's messages: "from:@handle" in the box.
    await page.getByRole('searchbox', { name: 'Search conversations and messages' }).fill(`pancakes from:@${alice.handle}`);
    const mine = page.getByRole('region', { name: 'Messages found' });
    await mine.getByRole('button').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.search-scroll .search-result').length === 1);
    assert.deepEqual(await mine.locator('.search-result-text').allTextContents(), ['pancakes elsewhere']);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
