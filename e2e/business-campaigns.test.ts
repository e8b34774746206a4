/**
 * The business console's campaigns in Chromium against the real server: an admin creates an A/B
 * campaign to a segment (two approved templates, an even split), starts it after the app's own
 * dialog, pauses it mid-send and resumes it; the progress bar and the funnel move on their own as
 * messages go out and customers read them, the per-variant chart splits the audience, the
 * recipient table filters by status and exports; the analytics page compares campaigns. An
 * analyst sees no control, and the server refuses them anyway.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, newBusinessTeam, rejectsWith, type TestServer, type User, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

/** The funnel's number for a stage, once it shows `n`. */
async function stageShows(page: Page, stage: string, n: number) {
  await page.getByTestId(`funnel-${stage}`).filter({ hasText: new RegExp(`^${n}$`) }).waitFor({ timeout: 30_000 });
}

describe('the business campaign pages', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('creates an A/B campaign, starts, pauses and resumes it, and its progress, funnel and recipients move', { timeout: 240_000 }, async () => {
    const team = await newBusinessTeam(server);
    const shop = team.business.client;
    // The server keeps the wall clock: without quiet hours, a run at night (UTC) is not held until 08:00.
    await shop.updateBusiness({ settings: { quiet_hours: null } });
    await shop.contacts.defineAttribute('first_name', 'text');
    // Ten customers who opted in, and one who did not (skipped by the consent gate).
    const customers: { user: User; contactId: string }[] = [];
    for (let i = 0; i < 11; i++) {
      const user = await server.signUp(uniqueHandle('cust'));
      const contact = await shop.contacts.create({ handle: user.handle, name: `Customer ${i}`, tags: ['club'], attributes: { first_name: `C${i}` } });
      if (i < 10)
        await shop.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: { wording: 'Send me club offers', at: '2026-02-01T09:00:00Z', evidence: `card ${i}` } });
      customers.push({ user, contactId: contact.id });
    }
    await shop.segments.create({ name: 'Club members', rule: { tag: 'club' } });
    for (const [name, text] of [
      ['Offer A', 'Hi {{first_name}}, 10% off this week.'],
      ['Offer B', 'Hi {{first_name}}, a free coffee with any loaf.'],
    ] as const) {
      const t = await shop.createTemplate({ name, purpose: 'marketing', variants: { en: { text } } });
      await shop.approveTemplate(t.id);
    }

    const a = await signedIn(browser, server, team.admin, DESKTOP);
    const page = a.page;
    await page.goto(`${server.url}/business/${team.business.handle}/campaigns`);
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();
    await page.getByLabel('Campaign name').fill('Spring A/B');
    await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'Club members' });
    await page.getByText('11 contacts in it now (before the consent check).').waitFor();
    await page.getByLabel('Variant A template').selectOption({ label: 'Offer A (v1)' });
    await page.getByRole('button', { name: 'Add a variant (A/B test)' }).click();
    await page.getByLabel('Variant B template').selectOption({ label: 'Offer B (v1)' });
    assert.equal(await page.getByText('50% of the audience').count(), 2);
    // Slow enough to pause mid-send.
    await page.getByLabel('Messages per second').fill('1');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('heading', { name: 'Spring A/B', level: 2 }).waitFor();
    await page.getByText('Draft', { exact: true }).waitFor();
    const [campaign] = (await shop.campaigns()).campaigns;
    assert.equal(campaign?.status, 'draft');
    assert.equal(campaign?.variants.length, 2);
    assert.equal(campaign?.throttle_per_second, 1);

    // Start, after the app's own dialog.
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByRole('dialog', { name: 'Start “Spring A/B”?' }).getByRole('button', { name: 'Start campaign' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Paused: nothing more is sent until you resume.').waitFor();
    const paused = await shop.campaign(campaign!.id);
    assert.equal(paused.status, 'paused');
    assert.ok(paused.funnel.sent < 10, `paused mid-send (${paused.funnel.sent} sent)`);
    await page.getByRole('button', { name: 'Resume' }).click();

    // The page follows the sending on its own: the bar fills, the funnel moves.
    await stageShows(page, 'sent', 10);
    await stageShows(page, 'skipped', 1);
    await page.getByText('11 of 11 (100%)').first().waitFor({ timeout: 30_000 });
    await page.getByText('Completed', { exact: true }).waitFor({ timeout: 30_000 });

    // Two customers read their message: the funnel's read count moves without a reload.
    for (const c of customers.slice(0, 2)) {
      const chat = await eventually('the chat with the business', async () => (await c.user.client.conversations()).find((x) => x.kind === 'direct'));
      const { messages } = await c.user.client.history(chat.id);
      await c.user.client.markRead(chat.id, Math.max(...messages.map((m) => m.seq)));
    }
    await stageShows(page, 'read', 2);

    // Each variant got about half, and the chart compares them.
    const variants = page.getByRole('figure', { name: 'Variants of Spring A/B, compared' });
    await variants.waitFor();
    const detail = await shop.campaign(campaign!.id);
    assert.equal(detail.variant_funnels.length, 2);
    assert.equal(detail.variant_funnels.reduce((n, v) => n + v.funnel.sent, 0), 10);

    // The recipient table, filtered by status, and its export.
    await page.getByLabel('Show recipients with status').selectOption('skipped');
    const recipients = page.getByRole('table', { name: 'Recipients' });
    await page.waitForFunction(() => document.querySelectorAll('tr[data-recipient]').length === 1);
    assert.match((await recipients.locator('tbody tr').textContent()) ?? '', /skipped/);
    assert.equal(await recipients.locator(`tr[data-recipient="${customers[10]!.contactId}"]`).count(), 1);
    await page.getByLabel('Show recipients with status').selectOption('read');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-recipient]').length === 2);
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await file.path()) ?? '', 'utf8').trim().split('\n');
    assert.equal(csv.length, 12, 'a header and the eleven recipients');

    // Analytics compares it with another campaign.
    await page.getByRole('navigation', { name: 'Business sections' }).getByRole('link', { name: 'Analytics' }).click();
    const compared = page.getByRole('figure', { name: 'Campaign funnels compared' });
    await compared.waitFor();
    await compared.getByRole('list', { name: 'Series' }).getByText('Spring A/B').waitFor();
    assert.deepEqual(a.errors, []);
    await a.context.close();

    // An analyst sees the campaign and no control; the server refuses them anyway.
    const b = await signedIn(browser, server, team.analyst, DESKTOP);
    await b.page.goto(`${server.url}/business/${team.business.handle}/campaigns`);
    await b.page.locator('[data-campaign="Spring A/B"]').waitFor();
    assert.equal(await b.page.getByRole('link', { name: 'New campaign' }).count(), 0);
    await b.page.getByRole('link', { name: 'Spring A/B' }).click();
    await stageShows(b.page, 'read', 2);
    for (const name of ['Start', 'Pause', 'Resume', 'Cancel campaign', 'Resend to unread'])
      assert.equal(await b.page.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`);
    await rejectsWith(team.analyst.acting.resendCampaign(campaign!.id, { to: 'unread' }), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.createCampaign({ name: 'x', audience: { segment_id: 'seg' }, variants: [{ template_version_id: 'v' }] }), 'forbidden', 403);
    await b.context.close();
  });
});
