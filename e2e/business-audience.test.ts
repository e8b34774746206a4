/**
 * The business console's audience pages in Chromium against the real server: a CSV import with
 * refused rows (its job page shows the progress bar at 100 %, the counts, and each refused row's
 * line, column and reason; the report downloads as CSV; the contacts export downloads), and the
 * segment builder's live count, which follows every change of the rule without a click.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { newBusinessTeam, rejectsWith, type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

const PROOF = 'consent_purpose,consent_source,consent_wording,consent_at,consent_evidence';

/** The live count's number once it shows `n`. */
async function countBecomes(page: Page, n: number) {
  const words = `${n.toLocaleString('en-US')} ${n === 1 ? 'contact' : 'contacts'}`;
  await page.getByTestId('segment-count').filter({ hasText: new RegExp(`^${words}$`) }).waitFor({ timeout: 15_000 });
}

describe('the business audience pages', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    // Small batches, so an import of a few rows still goes through several transactions.
    ({ server, browser } = await openBrowserSuite({ importBatchRows: 2 }));
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('imports a CSV and shows the progress, the counts and each refused row with its line, column and reason', { timeout: 120_000 }, async () => {
    const team = await newBusinessTeam(server);
    const people = await Promise.all([0, 1, 2, 3].map(() => server.signUp(uniqueHandle('cust'))));
    const csv = [
      `handle,name,external_id,locale,time_zone,tags,attr:spend:number,${PROOF}`,
      `@${people[0]!.handle},Amy,crm-1,fr-FR,Europe/Paris,vip;new,12.5,marketing,checkout,Send me offers now and then,2026-01-02T10:00:00Z,order 1`,
      `${people[1]!.handle},Ben,crm-2,,Mars/Olympus,,,,,,,`,
      `nobody_${Date.now().toString(36)},,crm-3,,,,,,,,,`,
      `${people[2]!.handle},Cat,crm-4,en-GB,,,3,marketing,,,,`,
      `${people[3]!.handle},Dan,crm-5,en-GB,Europe/London,b2b,lots,,,,,`,
      `${people[2]!.handle},Cat,crm-6,en-GB,,b2b,7,,,,,`,
    ].join('\n');
    const file = path.join(tmpdir(), `contacts-${process.pid}.csv`);
    writeFileSync(file, csv);

    const a = await signedIn(browser, server, team.admin, DESKTOP);
    const page = a.page;
    await page.goto(`${server.url}/business/${team.business.handle}/contacts`);
    await page.getByRole('link', { name: 'Import contacts' }).click();
    await page.getByRole('heading', { name: 'Import contacts' }).waitFor();
    await page.getByLabel('File (CSV, JSON or NDJSON)').setInputFiles(file);
    await page.getByRole('button', { name: 'Import', exact: true }).click();

    // The job page follows the job to its end: a full bar and the counts.
    await page.locator('[data-import="succeeded"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('progressbar', { name: 'Import progress' }).getAttribute('value'), '1');
    await page.getByText('6 rows read: 2 new, 0 updated, 0 unchanged, 4 refused; 1 opt-in recorded with proof.').waitFor();

    // Each refused row: its line, its column and the reason in words.
    const report = page.getByRole('table', { name: 'Refused rows' });
    await report.waitFor();
    const rows = (await report.locator('tbody tr').allTextContents()).map((t) => t.replace(/\s+/g, ' '));
    assert.equal(rows.length, 4, rows.join('\n'));
    const byLine = (line: number) => report.locator('tbody tr').filter({ has: page.locator('td:nth-child(2)', { hasText: new RegExp(`^${line}$`) }) });
    assert.match((await byLine(3).textContent()) ?? '', /time_zone.*Mars\/Olympus.*bad_time_zone/s);
    assert.match((await byLine(4).textContent()) ?? '', /handle.*unknown_handle/s);
    assert.match((await byLine(5).textContent()) ?? '', /consent_.*missing_consent_proof/s);
    assert.match((await byLine(6).textContent()) ?? '', /spend.*lots.*bad_number/s);

    // The whole report as CSV.
    const [report_csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the error report (CSV)' }).click()]);
    const reportText = readFileSync((await report_csv.path()) ?? '', 'utf8');
    assert.match(reportText, /Mars\/Olympus/);
    assert.equal(reportText.trim().split('\n').length, 5, 'a header and the four refused rows');

    // The imported contacts are in the list, and an admin may export them all.
    await page.getByRole('link', { name: '← All contacts' }).click();
    await page.locator('tr[data-contact]').nth(1).waitFor();
    assert.equal(await page.locator('tr[data-contact]').count(), 2);
    const [exported] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const exportText = readFileSync((await exported.path()) ?? '', 'utf8');
    assert.match(exportText, /crm-1/);
    assert.match(exportText, /crm-6/);
    assert.deepEqual(a.errors, []);
    await a.context.close();

    // An analyst neither imports nor exports, on the page or through the API.
    const b = await signedIn(browser, server, team.analyst, DESKTOP);
    await b.page.goto(`${server.url}/business/${team.business.handle}/contacts`);
    await b.page.locator('tr[data-contact]').nth(1).waitFor();
    assert.equal(await b.page.getByRole('link', { name: 'Import contacts' }).count(), 0);
    assert.equal(await b.page.getByRole('button', { name: 'Export CSV' }).count(), 0);
    await rejectsWith(team.analyst.acting.contactImports.upload('handle\nx\n'), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.contactImports.exportCsv(), 'forbidden', 403);
    await b.context.close();
  });

  it('counts a segment live as its rule changes, and saves it', { timeout: 120_000 }, async () => {
    const team = await newBusinessTeam(server);
    const shop = team.business.client;
    await shop.contacts.defineAttribute('spend', 'number');
    const people = await Promise.all([0, 1, 2, 3, 4].map(() => server.signUp(uniqueHandle('seg'))));
    const spec = [
      { tags: ['vip'], spend: 120, locale: 'fr-FR', consent: true },
      { tags: ['vip'], spend: 15, locale: 'en-GB', consent: true },
      { tags: [], spend: 300, locale: 'fr-CA', consent: false },
      { tags: ['b2b'], spend: 5, locale: 'de-DE', consent: true },
      { tags: [], spend: 0, locale: 'en-GB', consent: false },
    ];
    for (const [i, s] of spec.entries()) {
      const c = await shop.contacts.create({ handle: people[i]!.handle, tags: s.tags, locale: s.locale, attributes: { spend: s.spend } });
      if (s.consent)
        await shop.contacts.recordConsent(c.id, { purpose: 'marketing', action: 'opt_in', proof: { wording: 'Send me offers and news', at: '2026-02-01T09:00:00Z', evidence: `form ${i}` } });
    }

    const a = await signedIn(browser, server, team.admin, DESKTOP);
    const page = a.page;
    await page.goto(`${server.url}/business/${team.business.handle}/segments`);
    await page.getByRole('link', { name: 'New segment' }).click();
    await page.getByRole('heading', { name: 'New segment' }).waitFor();
    // The first condition: opted in to marketing.
    await countBecomes(page, 3);
    // And tagged vip.
    await page.getByRole('button', { name: 'Add a condition' }).last().click();
    await page.getByLabel('Has tag (any of)').fill('vip');
    await countBecomes(page, 2);
    // And spent more than 100.
    await page.getByRole('button', { name: 'Add a condition' }).last().click();
    await page.getByLabel('Kind of condition 3').selectOption('attribute');
    await page.getByLabel('Comparison').selectOption('gt');
    await page.getByLabel('Value', { exact: true }).fill('100');
    await countBecomes(page, 1);
    // Any of them instead of all.
    await page.getByLabel('Contacts who match', { exact: true }).selectOption('any');
    await countBecomes(page, 4);
    // Not French speakers (fr matches fr-CA too), in a group of its own.
    await page.getByLabel('Contacts who match', { exact: true }).selectOption('all');
    await page.getByRole('button', { name: 'Remove condition 3' }).click();
    await countBecomes(page, 2);
    await page.getByRole('button', { name: 'Add a condition' }).last().click();
    await page.getByLabel('Kind of condition 3').selectOption('locale');
    await page.getByLabel('Locale (any of; fr matches fr-CA)').fill('fr');
    await page.getByRole('group', { name: 'Condition 3' }).getByLabel('Not').check();
    await countBecomes(page, 1);
    // A rule the server refuses is said in its words, not counted.
    await page.getByLabel('Locale (any of; fr matches fr-CA)').fill('');
    await page.getByRole('alert').filter({ hasText: /locale/i }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Locale (any of; fr matches fr-CA)').fill('fr');
    await countBecomes(page, 1);

    await page.getByLabel('Segment name').fill('Loyal, not French');
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.getByRole('heading', { name: 'Loyal, not French', level: 2 }).waitFor();
    const [saved] = (await shop.segments.list()).segments;
    assert.equal(saved?.name, 'Loyal, not French');
    assert.equal((await shop.segments.countSaved(saved!.id)).count, 1);
    await page.getByRole('link', { name: '← All segments' }).click();
    const row = page.locator('tr[data-segment="Loyal, not French"]');
    await row.locator('td').first().filter({ hasText: /^1$/ }).waitFor();
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });
});
