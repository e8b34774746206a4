/**
 * The business console's contacts in Chromium against the real server: search the list, open a
 * profile, change tags and a typed attribute, read the consent timeline with each event's proof,
 * record an opt-out, download the contact's data (GDPR Art. 15) and erase it (Art. 17) after the
 * app's own confirmation dialog. An analyst reads the same profile with no control to change it,
 * and the server refuses them anyway.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { newBusinessTeam, rejectsWith, type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

const proof = { wording: 'Send me offers and news from the Harbour Bakery', at: '2026-01-15T10:00:00Z', evidence: 'paper form #1042', collected_via: 'shop counter' };

describe('the business contacts pages', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  async function world() {
    const team = await newBusinessTeam(server);
    const shop = team.business.client;
    await shop.contacts.defineAttribute('plan', 'text');
    await shop.contacts.defineAttribute('spent', 'number');
    const people = await Promise.all(['zoe', 'yann', 'xavi'].map((n) => server.signUp(uniqueHandle(n))));
    const [zoe, yann, xavi] = await Promise.all([
      shop.contacts.create({ handle: people[0]!.handle, name: 'Zoë Martin', external_id: 'C-1', tags: ['vip'], attributes: { plan: 'gold', spent: 12.5 }, locale: 'fr-FR' }),
      shop.contacts.create({ handle: people[1]!.handle, name: 'Yann Le Gall', external_id: 'C-2' }),
      shop.contacts.create({ handle: people[2]!.handle, name: 'Xavi Puig', external_id: 'C-3', tags: ['vip'] }),
    ]);
    // The admin records Zoë's opt-in with its proof: the timeline must say who did it.
    await team.admin.acting.contacts.recordConsent(zoe!.id, { purpose: 'marketing', action: 'opt_in', proof });
    return { team, zoe: zoe!, yann: yann!, xavi: xavi! };
  }

  it('searches, edits a contact, shows the consent timeline with its proof, exports and erases', { timeout: 120_000 }, async () => {
    const { team, zoe } = await world();
    const a = await signedIn(browser, server, team.admin, DESKTOP);
    const page = a.page;
    await page.goto(`${server.url}/business/${team.business.handle}/contacts`);
    const rows = page.locator('tr[data-contact]');
    await rows.nth(2).waitFor();
    assert.equal(await rows.count(), 3);

    // Search narrows the list as one types; a tag filters too.
    await page.getByLabel('Search contacts').fill('Zoë');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-contact]').length === 1);
    await page.getByLabel('Search contacts').fill('');
    await page.getByLabel('With tag').fill('vip');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-contact]').length === 2);
    await page.getByLabel('With tag').fill('');
    await page.getByLabel('Search contacts').fill('C-1');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-contact]').length === 1);
    await page.getByRole('link', { name: 'Zoë Martin' }).click();
    await page.getByRole('heading', { name: 'Zoë Martin', level: 2 }).waitFor();

    // The consent timeline: the opt-in with the words shown, the evidence and who recorded it.
    const history = page.getByRole('list', { name: 'Consent history, newest first' });
    const optIn = history.getByRole('listitem').filter({ hasText: 'Opted in to marketing' });
    await optIn.waitFor();
    const optInText = (await optIn.textContent()) ?? '';
    assert.match(optInText, /Send me offers and news from the Harbour Bakery/);
    assert.match(optInText, /paper form #1042/);
    assert.match(optInText, /shop counter/);
    assert.match(optInText, new RegExp(`@${team.admin.handle}`));
    assert.match((await page.locator('tr[data-purpose="marketing"]').textContent()) ?? '', /Opted in/);

    // Tags: add one, remove one.
    await page.getByLabel('New tag').fill('regular');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('button', { name: 'Remove tag regular' }).waitFor();
    await page.getByRole('button', { name: 'Remove tag vip' }).click();
    await page.getByRole('button', { name: 'Remove tag vip' }).waitFor({ state: 'detached' });
    assert.deepEqual((await team.business.client.contacts.get(zoe.id)).tags, ['regular']);

    // A typed attribute: a number stays a number.
    await page.getByLabel(/^spent/).fill('42.75');
    await page.getByRole('button', { name: 'Save attributes' }).click();
    await page.getByText('Attributes saved.').waitFor();
    assert.equal((await team.business.client.contacts.get(zoe.id)).attributes.spent, 42.75);

    // An opt-in claimed for the future is refused in the server's words; an opt-out is recorded.
    await page.getByText('Record a consent event').click();
    await page.getByLabel('Event').selectOption('opt_in');
    await page.getByLabel('Words they agreed to').fill('Send me offers and news from the Harbour Bakery');
    await page.getByLabel('When they agreed').fill('2099-01-01T10:00');
    await page.getByLabel('Evidence kept').fill('web form 7');
    await page.getByRole('button', { name: 'Record opt-in' }).click();
    await page.getByRole('alert').filter({ hasText: /future/i }).waitFor();
    await page.getByLabel('Event').selectOption('opt_out');
    await page.getByLabel('Purpose').selectOption('marketing');
    await page.getByRole('button', { name: 'Record opt-out' }).click();
    await history.getByRole('listitem').filter({ hasText: 'Opted out of marketing' }).waitFor();
    assert.equal((await team.business.client.contacts.consent(zoe.id)).state.marketing?.state, 'opted_out');
    assert.match((await page.locator('tr[data-purpose="marketing"]').textContent()) ?? '', /Opted out/);

    // GDPR Art. 15: everything held, as a JSON file.
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export their data' }).click()]);
    const exported = JSON.parse(readFileSync((await file.path()) ?? '', 'utf8')) as { contact: { id: string }; consent_events: unknown[] };
    assert.equal(exported.contact.id, zoe.id);
    assert.equal(exported.consent_events.length, 2);

    // GDPR Art. 17: after the app's own dialog (Cancel first keeps everything).
    await page.getByRole('button', { name: 'Erase their data…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase Zoë Martin?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await team.business.client.contacts.get(zoe.id)).erased_at, null);
    await page.getByRole('button', { name: 'Erase their data…' }).click();
    await dialog.getByRole('button', { name: 'Erase their data' }).click();
    await page.getByRole('heading', { name: 'Kept' }).waitFor();
    await page.getByText(/Art\. 17/).first().waitFor();
    assert.ok((await team.business.client.contacts.get(zoe.id)).erased_at);
    await page.getByText(/Erased on/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Erase their data…' }).count(), 0);
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('shows an analyst contacts read-only, and the server refuses their changes anyway', { timeout: 60_000 }, async () => {
    const { team, zoe } = await world();
    const b = await signedIn(browser, server, team.analyst, DESKTOP);
    const page = b.page;
    await page.goto(`${server.url}/business/${team.business.handle}/contacts/${zoe.id}`);
    await page.getByRole('heading', { name: 'Zoë Martin', level: 2 }).waitFor();
    await page.getByRole('list', { name: 'Consent history, newest first' }).getByRole('listitem').first().waitFor();
    const main = page.locator('.biz-page');
    assert.equal(await main.getByRole('textbox').count(), 0);
    assert.equal(await main.getByRole('combobox').count(), 0);
    assert.equal(await main.getByRole('button').count(), 0, 'no button at all: nothing to change, export or erase');
    assert.equal(await page.getByText('Record a consent event').count(), 0);
    await page.getByText('gold').waitFor();

    await page.goto(`${server.url}/business/${team.business.handle}/contacts`);
    await page.locator('tr[data-contact]').nth(2).waitFor();
    assert.equal(await page.getByText('Add a contact').count(), 0);

    await rejectsWith(team.analyst.acting.contacts.update(zoe.id, { add_tags: ['x'] }), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.contacts.recordConsent(zoe.id, { purpose: 'marketing', action: 'opt_out' }), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.contacts.export(zoe.id), 'forbidden', 403);
    await rejectsWith(team.analyst.acting.contacts.erase(zoe.id), 'forbidden', 403);
    // Agents change contacts but neither export (unless the business allows it) nor erase.
    await rejectsWith(team.agent.acting.contacts.export(zoe.id), 'forbidden', 403);
    await rejectsWith(team.agent.acting.contacts.erase(zoe.id), 'forbidden', 403);
    assert.deepEqual((await team.business.client.contacts.get(zoe.id)).tags, ['vip']);
    assert.deepEqual(b.errors, []);
    await b.context.close();
  });
});
