/**
 * Rich text, emoji, reactions and link previews in a real browser against the real server:
 * formatting renders as elements (and injected markup as text), spoilers stay hidden until
 * tapped, the emoji picker works by mouse and keyboard and remembers recent picks, any emoji can
 * react, "who reacted" lists people, and a link preview made by the server appears live and goes
 * when its sender removes it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import type { TestServer } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, openActions, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('rich text, emoji and link previews', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  let site: http.Server;
  let siteUrl: string;

  before(async () => {
    // The preview fetcher reaches this test's site on loopback only because the operator allows it here.
    ({ server, browser } = await openBrowserSuite({ outboundAllowPrivate: true }));
    const png = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 20, g: 90, b: 200 } } }).png().toBuffer();
    site = http.createServer((req, res) => {
      if (req.url?.startsWith('/article')) {
        res.setHeader('content-type', 'text/html');
        res.end('<html><head><meta property="og:title" content="Trail guide &lt;b&gt;"><meta property="og:description" content="Ten walks near the station"><meta property="og:image" content="/cover.png"></head></html>');
      } else if (req.url === '/cover.png') {
        res.setHeader('content-type', 'image/png');
        res.end(png);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  after(async () => {
    await closeBrowserSuite({ server, browser });
    await new Promise<void>((resolve) => site.close(() => resolve()));
  });

  it('renders formatting as elements and injected markup as text; spoilers hide until tapped', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { text: 'plan: *bold* _lean_ ~gone~ `x<y` ||the ending|| https://example.org/a_b' });
    await alice.client.send(chat.id, { text: '```\nconst a = "<b>";\n```' });
    const hostile = ['<script>window.__pwned = 1</script>', '"><img src=x onerror="window.__pwned=2">', '*<img src=x onerror=alert(1)>*', '[x](javascript:alert(1)) javascript:alert(1)', '||<svg onload=alert(1)>||'];
    for (const text of hostile) await alice.client.send(chat.id, { text: `hostile ${text}` });
    const b = await signedIn(browser, server, bob);
    await b.page.goto(`${server.url}/chats/${chat.id}`);
    const plan = bubble(b.page, 'plan:');
    await plan.waitFor();
    const text = plan.locator('.text');
    assert.equal(await text.locator('strong').textContent(), 'bold');
    assert.equal(await text.locator('em').textContent(), 'lean');
    assert.equal(await text.locator('s').textContent(), 'gone');
    assert.equal(await text.locator('code').textContent(), 'x<y');
    const link = text.getByRole('link', { name: 'https://example.org/a_b' });
    assert.equal(await link.getAttribute('href'), 'https://example.org/a_b');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match((await link.getAttribute('rel')) ?? '', /noopener/);
    // The spoiler: hidden (its text not in the accessible name) until tapped.
    const spoiler = text.getByRole('button', { name: 'Spoiler, hidden: show' });
    assert.equal(await spoiler.getAttribute('aria-label'), 'Spoiler, hidden: show');
    await spoiler.focus();
    await b.page.keyboard.press('Enter');
    await text.locator('.spoiler.shown').filter({ hasText: 'the ending' }).waitFor();
    assert.equal(await bubble(b.page, 'const a').locator('pre code').textContent(), 'const a = "<b>";');
    // The chat list's preview neither shows markers nor a spoiler.
    // Hostile texts: shown as typed, nothing injected.
    for (const h of hostile) await bubble(b.page, `hostile ${h.replace(/[*|]/g, '').slice(0, 10)}`).first().waitFor();
    const injected = await b.page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      elements: document.querySelectorAll('.messages img[src="x"], .messages script, .messages svg[onload], .messages [onerror], .messages a[href^="javascript"]').length,
    }));
    assert.deepEqual(injected, { pwned: null, elements: 0 });
    assert.match((await bubble(b.page, 'hostile "><img').textContent()) ?? '', /"><img src=x onerror="window.__pwned=2">/);
    assert.deepEqual(b.errors, []);
    await b.context.close();
  });

  it('picks emoji for the composer by mouse and keyboard, remembers recent ones, and formats what I type', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    const composer = a.page.getByLabel('Message', { exact: true });
    await composer.waitFor();
    await composer.fill('*see you* at the party ');
    const opener = a.page.getByRole('button', { name: 'Insert emoji' });
    await opener.click();
    const picker = a.page.getByRole('dialog', { name: 'Insert emoji' });
    await picker.getByRole('searchbox').fill('tada');
    await picker.getByRole('button', { name: /^🎉/ }).click();
    assert.equal(await composer.inputValue(), '*see you* at the party 🎉');
    // Keyboard: open, arrow down into the grid, Enter picks the first (the recent 🎉).
    await opener.focus();
    await a.page.keyboard.press('Enter');
    await picker.getByRole('region', { name: 'Recent' }).getByRole('button', { name: /^🎉/ }).waitFor();
    await a.page.keyboard.press('ArrowDown');
    await a.page.keyboard.press('ArrowRight');
    await a.page.keyboard.press('ArrowLeft');
    await a.page.keyboard.press('Enter');
    assert.equal(await composer.inputValue(), '*see you* at the party 🎉🎉');
    // Escape closes and gives focus back to the button.
    await opener.click();
    await picker.waitFor();
    await a.page.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached' });
    assert.equal(await a.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Insert emoji');
    await composer.press('Enter');
    const sent = bubble(a.page, 'at the party');
    await sent.waitFor();
    await sent.locator('strong').filter({ hasText: 'see you' }).waitFor();
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('reacts with any emoji through the picker and shows who reacted', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const post = await alice.client.send(chat.id, { text: 'Crab dinner tonight?' });
    await bob.client.react(post.id, '👍');
    const a = await signedIn(browser, server, alice);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    const menu = await openActions(a.page, 'Crab dinner tonight?');
    await menu.getByRole('menuitem', { name: 'More reactions' }).click();
    const picker = a.page.getByRole('dialog', { name: 'React with any emoji' });
    // An emoji not in the picker's set, typed (or pasted) into its field.
    await picker.getByRole('searchbox').fill('🦀');
    await a.page.keyboard.press('Enter');
    const row = bubble(a.page, 'Crab dinner tonight?');
    await row.getByRole('button', { name: '🦀 1, including you' }).waitFor();
    await row.getByRole('button', { name: 'Who reacted' }).click();
    const dialog = a.page.getByRole('dialog', { name: 'Reactions' });
    await dialog.getByRole('region', { name: '🦀, 1' }).getByText('You').waitFor();
    await dialog.getByRole('region', { name: '👍, 1' }).getByText(`@${bob.handle}`).waitFor();
    await a.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('shows a link preview made by the server, live, and its sender removes it for everyone', { timeout: 120_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice);
    const b = await signedIn(browser, server, bob);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    await b.page.goto(`${server.url}/chats/${chat.id}`);
    const composer = a.page.getByLabel('Message', { exact: true });
    await composer.fill(`Walks: ${siteUrl}/article`);
    await composer.press('Enter');
    const seen = bubble(b.page, 'Walks:').getByRole('complementary', { name: 'Link preview: Trail guide <b>' });
    await seen.waitFor({ timeout: 60_000 });
    assert.equal(await seen.getByRole('link', { name: 'Trail guide <b>' }).getAttribute('href'), `${siteUrl}/article`);
    await seen.getByText('Ten walks near the station').waitFor();
    // The picture comes from MMD's media (processed), not from the site.
    const img = seen.locator('img').first();
    await img.waitFor({ timeout: 60_000 });
    assert.doesNotMatch((await img.getAttribute('src')) ?? '', /127\.0\.0\.1:\d+\/cover/);
    // Only its sender is offered the removal.
    assert.equal(await seen.getByRole('button', { name: 'Remove link preview' }).count(), 0);
    const mine = bubble(a.page, 'Walks:').getByRole('complementary', { name: /^Link preview/ });
    await mine.getByRole('button', { name: 'Remove link preview' }).click();
    await seen.waitFor({ state: 'detached', timeout: 20_000 });
    await mine.waitFor({ state: 'detached' });
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    await a.context.close();
    await b.context.close();
  });
});
