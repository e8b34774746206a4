/**
 * Federation in the safety console, in a real browser against two whole instances: an admin of A
 * connects B by its URL (the console fetches B's identity), sets B's policy for one category to
 * "ask a moderator first" and shares that category with it; a case B shares lands in A's Received
 * cases waiting for a decision; holding it banks it and the answer sent back shows; the peer's
 * card shows its last push and an empty backlog, and disabling it marks it disabled.
 *
 * Needs /usr/bin/chromium; skipped with the reason when it is absent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type TestServer, eventually, startTestServer } from '../apps/server/test/harness.ts';
import { signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { closeBrowserSuite, openBrowserSuite, skipBrowser, violations } from './browser.ts';

describe('the console: peers and received cases', { skip: skipBrowser }, () => {
  let server: TestServer;
  let peer: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite({ outboundAllowPrivate: true, federationPullIntervalMs: 0 }));
    peer = await startTestServer({ dialect: 'sqlite', config: { outboundAllowPrivate: true, federationPullIntervalMs: 0 } });
  });
  after(async () => {
    await closeBrowserSuite({ server, browser });
    await peer?.close();
  });

  it('connects a peer by URL, edits its policy, decides what it sent, and shows its delivery state', { timeout: 180_000 }, async () => {
    const admin = await signUpModerator(server, 'admin');
    const peerAdmin = await signUpModerator(peer, 'admin');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    await context.addInitScript((token) => window.localStorage.setItem('mmd.token', token), admin.token);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(`${server.url}/console/peers`);
    await page.getByRole('heading', { name: 'Peer platforms' }).waitFor();
    await page.getByText('No peer connected yet.').waitFor();
    const connect = page.getByRole('form', { name: 'Connect a peer' });
    await connect.getByLabel('Name').fill('Platform B');
    await connect.getByLabel('Base URL').fill(peer.url);
    await connect.getByRole('button', { name: 'Fetch identity and connect' }).click();
    const bKey = (await peer.anonymous.federationIdentity()).key_id;
    await page.getByRole('status').filter({ hasText: `Connected Platform B (key ${bKey.slice(0, 12)}…).` }).waitFor();
    const card = page.getByRole('article', { name: 'Platform B' });
    await card.waitFor();
    await card.getByText(`key ${bKey.slice(0, 16)}…`).waitFor();
    await card.getByText('Not trusted to block').waitFor();

    // Its signals in "Other" wait for a moderator here; this instance shares "Other" with it.
    await card.getByRole('button', { name: 'Edit trust and policy' }).click();
    const editor = card.getByRole('form', { name: 'Trust and policy for Platform B' });
    await editor.getByLabel('Other: its signals here').selectOption('review');
    await editor.getByLabel('Share Other with Platform B').check();
    await editor.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy of Platform B saved.' }).waitFor();
    await card.getByText('Shared with it: Other.').waitFor();
    const saved = (await admin.client.peers()).peers[0]!;
    assert.deepEqual(saved.policy, { other: 'review' });
    assert.deepEqual(saved.share_categories, ['other']);
    assert.deepEqual(await violations(page), []);

    // B connects this instance and shares a takedown's hashes in "Other" (as its takedown hook does).
    await peerAdmin.client.connectPeer({ name: 'Platform A', base_url: server.url, share_categories: ['other'], policy: { other: 'hold' } });
    await peer.services.federation.listener.takedownFinished!({
      takedownId: 'td_e2e',
      bankId: 'bank_e2e',
      category: 'other',
      signals: [{ type: 'pdq', value: randomBytes(32).toString('hex') }, { type: 'md5', value: randomBytes(16).toString('hex') }],
      mediaRemoved: 1,
      local: false,
      reviewBankId: null,
      reviewSignalId: null,
    });

    await page.getByRole('link', { name: 'Received cases' }).click();
    await page.getByRole('heading', { name: 'Received from peers' }).waitFor();
    const row = page.locator('tr[data-received]').first();
    await row.waitFor({ timeout: 20_000 });
    assert.equal((await row.locator('td[data-label="Peer"]').textContent())?.trim(), 'Platform B');
    assert.match((await row.locator('td[data-label="Category"]').textContent()) ?? '', /Other · 2 signals/);
    await row.getByText('Waiting for a moderator').waitFor();
    await row.locator('td[data-label="Answered"]').getByText('received').waitFor();
    await row.getByRole('button', { name: 'Hold matches' }).click();
    await row.getByText('Banked').waitFor();
    assert.equal((await row.locator('td[data-label="Holds here"]').textContent())?.trim(), '0');
    assert.deepEqual(await violations(page), []);

    // The answers went to B: the card shows the last push and nothing waiting.
    await eventually('the ack reaches B', async () => (await admin.client.peers()).peers[0]?.last_push_at, 20_000);
    await page.getByRole('link', { name: 'Peers' }).click();
    const after = page.getByRole('article', { name: 'Platform B' });
    await eventually('the card shows the last push', async () => {
      const text = (await after.locator('.figures > div').filter({ hasText: 'Last push' }).locator('dd').textContent()) ?? '';
      return text.trim() !== '' && text.trim() !== 'never';
    }, 15_000);
    assert.equal((await after.locator('.figures > div').filter({ hasText: 'Outbox backlog' }).locator('dd').textContent())?.trim(), '0');
    // On a phone nothing is wider than the window (tables scroll inside their frame).
    await page.setViewportSize({ width: 390, height: 844 });
    for (const section of ['peers', 'received']) {
      await page.goto(`${server.url}/console/${section}`);
      await page.locator('.queue-count').filter({ hasText: /peer|case/ }).waitFor();
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('.console, .console *')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest('.table-wrap, .detail'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
      );
      assert.deepEqual(wide, [], `${section} on a phone: wider than the window`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.url}/console/peers`);
    await after.getByRole('button', { name: 'Disable' }).click();
    await after.getByText('Disabled', { exact: true }).waitFor();
    assert.equal((await admin.client.peers()).peers[0]?.status, 'disabled');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
