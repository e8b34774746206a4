/**
 * A victim's case page in a real browser, with a second MMD instance connected as a peer: the
 * person protects a photo on A and chooses to share it; the page lists platform B and follows its
 * answer live (under review, then "Removed 1 copy" once B's moderator confirms). From the same
 * page they ask for every copy on A to be removed (fingerprints only); A's moderator decides and
 * the page shows the decision and its reasons. Withdrawing the case then shows B as withdrawn. And a
 * signed-in person's removal request, declined by a moderator in the console, with the reasons
 * shown back to them.
 *
 * Needs /usr/bin/chromium; skipped with the reason when it is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Review } from '@mmd/sdk';
import type { Browser } from 'playwright-core';
import { type TestServer, type User, eventually, startTestServer } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator, uploadAndWait } from '../apps/server/test/safety-fixtures.ts';
import { closeBrowserSuite, openBrowserSuite, signedIn, skipBrowser, violations } from './browser.ts';

const PHOTO = path.join(DATA, 'photos', 'YellowFlower.jpg');
const skip = skipBrowser ? skipBrowser : !existsSync(PHOTO) ? `browser test not run: test photo not found at ${PHOTO}` : false;

async function holdOf(mod: User, mediaId: string): Promise<Review | undefined> {
  return (await mod.client.reviews({ status: 'open' })).reviews.find((r) => r.kind === 'hold' && r.media.some((m) => m.id === mediaId));
}

describe('the case page', { skip }, () => {
  let a: TestServer;
  let b: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server: a, browser } = await openBrowserSuite({ outboundAllowPrivate: true, federationPullIntervalMs: 0 }));
    b = await startTestServer({ dialect: 'sqlite', config: { outboundAllowPrivate: true, federationPullIntervalMs: 0 } });
  });
  after(async () => {
    await b?.close();
    await closeBrowserSuite({ server: a, browser });
  });

  it('shows each platform\'s answer live, takes a removal request, and withdraws everywhere', { timeout: 240_000 }, async () => {
    const [aAdmin, aMod, aPerson, bAdmin, bMod, bPerson] = await Promise.all([
      signUpModerator(a, 'admin'),
      signUpModerator(a),
      a.signUp(),
      signUpModerator(b, 'admin'),
      signUpModerator(b),
      b.signUp(),
    ]);
    await aAdmin.client.connectPeer({ name: 'Platform B', base_url: b.url, share_categories: ['ncii'], policy: {}, trusted_categories: [] });
    await bAdmin.client.connectPeer({ name: 'Platform A', base_url: a.url, share_categories: [], policy: { ncii: 'hold' }, trusted_categories: [] });
    const bytes = readFileSync(PHOTO);
    const onB = await uploadAndWait(bPerson.client, bytes, 'copy.jpg');
    const onA = await uploadAndWait(aPerson.client, bytes, 'copy.jpg');

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${a.url}/protect`);
    await page.getByLabel('Choose images to protect').setInputFiles(PHOTO);
    await page.getByText('1 fingerprint ready to send.').waitFor({ timeout: 60_000 });
    await page.getByLabel(/Also send the fingerprints to the other platforms/).check();
    await page.getByRole('button', { name: 'Send fingerprints and protect' }).click();
    const reference = (await page.getByTestId('case-reference').textContent({ timeout: 30_000 }))?.trim() ?? '';
    const secret = (await page.getByTestId('case-secret').textContent())?.trim() ?? '';
    assert.match(secret, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);

    // B's answer arrives on the page by itself.
    const platformB = page.locator('[data-testid="platform-status"][data-platform="Platform B"]');
    await platformB.waitFor({ timeout: 30_000 });
    const review = await eventually('B holds its copy', () => holdOf(bMod, onB.id), 30_000);
    await page.locator('[data-testid="platform-status"][data-platform="Platform B"][data-status="under_review"]').waitFor({ timeout: 30_000 });
    await bMod.client.decideReview(review.id, { action: 'takedown', note: 'confirmed on B' });
    await page.locator('[data-testid="platform-status"][data-platform="Platform B"][data-status="removed"]').waitFor({ timeout: 30_000 });
    assert.match((await platformB.textContent()) ?? '', /Removed 1 copy/);

    // A removal request from the same page: fingerprints only, a moderator decides.
    await page.getByLabel('Images you appear in').setInputFiles(PHOTO);
    await page.getByText('1 fingerprint ready.').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Ask for removal' }).click();
    await page.locator('[data-testid="erasure-request"][data-status="pending"]').waitFor({ timeout: 30_000 });
    assert.equal((await aPerson.client.media(onA.id)).status, 'ready', 'nothing is removed before a moderator decides');
    const queued = await eventually('the request reaches the moderators', async () => (await aMod.client.erasureQueue()).find((r) => r.case_reference === reference));
    assert.deepEqual(queued.matching, [onA.id]);
    await aMod.client.decideErasure(queued.id, { action: 'remove', reasons: 'the requester appears in it without consent' });
    await page.locator('[data-testid="erasure-request"][data-status="removed"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('erasure-reasons').textContent(), 'the requester appears in it without consent');
    assert.deepEqual(await violations(page), [], 'accessibility violations on the case page');

    // Withdrawn everywhere.
    await page.getByRole('button', { name: 'Withdraw this case' }).click();
    await page.getByRole('button', { name: 'Yes, withdraw it' }).click();
    await page.locator('[data-testid="platform-status"][data-platform="Platform B"][data-status="withdrawn"]').waitFor({ timeout: 30_000 });
    await eventually('B hears of the withdrawal', async () => (await bMod.client.receivedCases()).cases.find((c) => c.category === 'ncii' && c.status === 'retracted'), 30_000);
    assert.equal((await a.anonymous.caseView(reference, secret)).platforms[0]?.status, 'withdrawn');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it('a signed-in person asks for removal; a moderator declines in the console and the person sees why', { timeout: 240_000 }, async () => {
    const [person, mod] = await Promise.all([a.signUp(), signUpModerator(a)]);
    const mine = await signedIn(browser, a, person);
    await mine.page.goto(`${a.url}/protect`);
    await mine.page.getByRole('heading', { name: 'Signed in: remove photos of you' }).waitFor({ timeout: 30_000 });
    const section = mine.page.locator('section.card', { has: mine.page.getByRole('heading', { name: 'Signed in: remove photos of you' }) });
    await section.getByLabel('Images you appear in').setInputFiles(PHOTO);
    await section.getByText('1 fingerprint ready.').waitFor({ timeout: 60_000 });
    await section.getByLabel(/Anything the moderators should know/).fill('a photo of me from school');
    await section.getByRole('button', { name: 'Ask for removal' }).click();
    await section.locator('[data-testid="erasure-request"][data-status="pending"]').waitFor({ timeout: 30_000 });

    // The moderator decides in the console, with reasons.
    const desk = await signedIn(browser, a, mod);
    await desk.page.goto(`${a.url}/console/erasure`);
    const card = desk.page.locator('article[data-erasure]', { hasText: 'a photo of me from school' });
    await card.waitFor({ timeout: 30_000 });
    assert.deepEqual(await violations(desk.page), [], 'accessibility violations in the removal requests section');
    await card.getByLabel('Reasons (shown to the requester)').fill('we could not find you in this picture');
    await card.getByRole('button', { name: 'Decline' }).click();
    await desk.page.getByText(/declined/).first().waitFor({ timeout: 30_000 });

    await section.locator('[data-testid="erasure-request"][data-status="declined"]').waitFor({ timeout: 30_000 });
    assert.equal(await section.getByTestId('erasure-reasons').textContent(), 'we could not find you in this picture');
    assert.deepEqual(mine.errors, []);
    assert.deepEqual(desk.errors, []);
    await Promise.all([mine.context.close(), desk.context.close()]);
  });
});
