/**
 * The business console's "Settings & team" page in Chromium against the real server: an admin
 * reaches it from the header, renames the business, sets quiet hours, a frequency cap, the agents'
 * export right and the default time zone (a bad zone is refused in the server's words), adds a
 * person to the team by handle, changes their role and removes them after the app's own dialog.
 * An analyst sees the same page with no edit controls at all, and the server refuses their
 * changes anyway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { newBusinessTeam, rejectsWith, type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('the business settings and team page', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('lets an admin change the profile, the sending rules and the team, with errors in words', { timeout: 120_000 }, async () => {
    const team = await newBusinessTeam(server);
    const newcomer = await server.signUp(uniqueHandle('sam'));
    const handle = team.business.handle;
    const a = await signedIn(browser, server, team.admin, DESKTOP);
    const page = a.page;

    // The header leads to the console; /business opens the one business this person works for.
    await page.getByRole('link', { name: 'Business', exact: true }).click();
    // It opens on the console's first page (the inbox, when the build has it); the nav leads on.
    await page.waitForURL(new RegExp(`/business/${handle}/(inbox|settings)$`));
    const nav = page.getByRole('navigation', { name: 'Business sections' });
    await nav.getByRole('link', { name: 'Settings & team' }).click();
    await page.waitForURL(`${server.url}/business/${handle}/settings`);
    await nav.getByRole('link', { name: 'Settings & team' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Settings & team' }).getAttribute('aria-current'), 'page');

    // Profile.
    await page.getByLabel('Display name').fill('Harbour Bakery');
    await page.getByLabel('About').fill('Fresh bread every morning.');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Profile saved.').waitFor();
    await page.getByRole('heading', { name: 'Harbour Bakery', level: 1 }).waitFor();
    const profile = await team.business.client.businessSelf();
    assert.equal(profile.business.display_name, 'Harbour Bakery');
    assert.equal(profile.business.about, 'Fresh bread every morning.');

    // Sending rules: a zone that does not exist is refused in the server's words.
    await page.getByLabel('From').fill('22:00');
    await page.getByLabel('Until').fill('07:30');
    await page.getByLabel('At most').fill('3');
    await page.getByRole('button', { name: 'Add a cap' }).click();
    const purposes = page.getByRole('textbox', { name: 'Purpose', exact: true });
    await purposes.nth(1).fill('surveys');
    await page.getByLabel('At most').nth(1).fill('1');
    await page.getByLabel('In days').nth(1).fill('30');
    await page.getByLabel('Agents may export contacts').check();
    await page.getByLabel('Default time zone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'unknown IANA time zone "Mars/Olympus_Mons"' });
    await refusal.waitFor();
    assert.equal((await team.business.client.businessSelf()).settings.default_time_zone, 'UTC', 'nothing was saved');
    await page.getByLabel('Default time zone').fill('Europe/Paris');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await refusal.waitFor({ state: 'detached' });
    const { settings } = await team.business.client.businessSelf();
    assert.deepEqual(settings.quiet_hours, { start: '22:00', end: '07:30' });
    assert.deepEqual(settings.frequency_caps, { marketing: { max: 3, days: 7 }, surveys: { max: 1, days: 30 } });
    assert.equal(settings.agents_may_export, true);
    assert.equal(settings.default_time_zone, 'Europe/Paris');

    // Team: an admin may give agent and analyst, not owner or admin.
    const roleOptions = await page.getByLabel('Role', { exact: true }).locator('option').allTextContents();
    assert.deepEqual(roleOptions, ['Agent', 'Analyst']);
    await page.getByLabel('Their handle').fill(`@${newcomer.handle}`);
    await page.getByLabel('Role', { exact: true }).selectOption('analyst');
    await page.getByRole('button', { name: 'Add to team' }).click();
    await page.getByText(`@${newcomer.handle} joined the team as analyst.`).waitFor();
    const row = page.locator(`tr[data-member="${newcomer.handle}"]`);
    await row.waitFor();
    // An unknown handle: the server's words.
    await page.getByLabel('Their handle').fill('@nobody_by_that_name');
    await page.getByRole('button', { name: 'Add to team' }).click();
    await page.getByRole('alert').filter({ hasText: /not found|no account|nobody/i }).waitFor();

    // Change the newcomer's role; the admin's own row and the business account's have no controls.
    await row.getByLabel(`Role of @${newcomer.handle}`).selectOption('agent');
    await page.getByText(`@${newcomer.handle} is now agent.`).waitFor();
    const members = async () => (await team.business.client.businessMembers()).members;
    assert.equal((await members()).find((m) => m.handle === newcomer.handle)?.role, 'agent');
    const mine = page.locator(`tr[data-member="${team.admin.handle}"]`);
    assert.equal(await mine.getByRole('combobox').count(), 0, 'no control over one’s own role');
    assert.equal(await page.locator(`tr[data-member="${handle}"]`).getByRole('button').count(), 0, 'the business account cannot be removed');

    // Remove, after the app's own dialog (Cancel keeps them).
    await row.getByRole('button', { name: `Remove @${newcomer.handle}` }).click();
    const dialog = page.getByRole('dialog', { name: `Remove @${newcomer.handle} from the team?` });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.ok((await members()).some((m) => m.handle === newcomer.handle));
    await row.getByRole('button', { name: `Remove @${newcomer.handle}` }).click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached' });
    assert.ok(!(await members()).some((m) => m.handle === newcomer.handle));
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('shows an analyst the settings and team with no edit controls, and the server refuses them anyway', { timeout: 60_000 }, async () => {
    const team = await newBusinessTeam(server);
    const handle = team.business.handle;
    const b = await signedIn(browser, server, team.analyst, DESKTOP);
    const page = b.page;
    await page.goto(`${server.url}/business/${handle}/settings`);
    await page.getByRole('heading', { name: 'Team', exact: true }).waitFor();
    await page.locator(`tr[data-member="${team.agent.handle}"]`).waitFor();
    await page.getByText('you are analyst').waitFor();

    // Read-only: the facts are there, and not one control to change them.
    await page.getByText('21:00 to 08:00, in each recipient’s time zone').waitFor();
    await page.getByText('marketing: at most 2 in 7 days').waitFor();
    assert.equal(await page.locator('.biz-page').getByRole('textbox').count(), 0);
    assert.equal(await page.locator('.biz-page').getByRole('checkbox').count(), 0);
    assert.equal(await page.locator('.biz-page').getByRole('combobox').count(), 0);
    for (const name of ['Save profile', 'Save settings', 'Add to team', 'Add a cap', /^Remove/])
      assert.equal(await page.locator('.biz-page').getByRole('button', { name }).count(), 0, `no ${String(name)} button`);
    assert.equal(await page.locator('.biz-page').getByRole('button').allTextContents().then((t) => t.join()), 'Leave', 'only leaving the team');
    await page.getByText('Owners and admins manage the team.').waitFor();

    // The server refuses the analyst whatever the page shows.
    await rejectsWith(team.analyst.acting.updateBusiness({ display_name: 'Hijacked' }), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.updateBusiness({ settings: { agents_may_export: true } }), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.putBusinessMember(team.agent.handle, 'analyst'), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.removeBusinessMember(team.agent.accountId), 'forbidden', 403);
    // An agent is refused the same changes.
    await rejectsWith(team.agent.acting.updateBusiness({ about: 'x' }), 'forbidden', 403);
    await rejectsWith(team.agent.acting.putBusinessMember(team.analyst.handle, 'agent'), 'forbidden', 403);
    const self = await team.business.client.businessSelf();
    assert.notEqual(self.business.display_name, 'Hijacked');
    assert.equal(self.settings.agents_may_export, false);
    assert.deepEqual(b.errors, []);
    await b.context.close();
  });
});
