/**
 * Signing up and being signed out, in a real browser: the sign-up form states the password rule
 * in words and shows the server's reason for a refusal; a session ended for disuse says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, skipBrowser } from './browser.ts';

describe('signing up and signing in', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('the sign-up form explains the password rule and why a password was refused', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Create an account' }).click();
    const password = page.getByLabel('Password');
    // The rule is the field's description, in words (no pattern).
    const hint = await password.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
    assert.match(hint, /At least 10 characters, not your handle, and not a common password/);
    const handle = uniqueHandle('web');
    await page.getByLabel('Handle').fill(handle);
    await password.fill('Password123!');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').getByText(/too common or too easy to guess/).waitFor();
    await password.fill('violet tractor mercury');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    await context.close();
  });

  it('a browser signed out for disuse says why on the sign-in page', { timeout: 60_000 }, async () => {
    const user = await server.signUp();
    const year = 365 * 24 * 60 * 60 * 1000;
    await server.db.db.updateTable('devices').set({ last_seen_at: Date.now() - year }).where('account_id', '=', user.accountId).execute();
    // Written behind the server's back: its session cache must not answer for the device.
    server.services.accounts.forgetSessions();
    const context = await browser.newContext({ viewport: DESKTOP });
    await context.addInitScript((token) => window.localStorage.setItem('mmd.token', token), user.token);
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole('status').getByText(/not used for a long time\. Sign in again/).waitFor();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  });
});
