/**
 * Every page of the business console checked with axe-core in Chromium, at desktop and phone
 * sizes, as an admin (every control shown): settings and team, contacts, a contact's profile with
 * its consent timeline, an import's error report, the segment builder, the template editor with
 * its preview, the campaigns list, form and page, and analytics. Fails on any serious or critical
 * violation, on anything wider than a phone's window, and on a page reached by the keyboard
 * whose focused control is not visibly outlined.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { newBusinessTeam, type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, PHONE, signedIn, skipBrowser, violations } from './browser.ts';

/** Elements of the console wider than the window (tables scroll inside their own box). */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.biz *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest('.table-scroll'))
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`)
      .slice(0, 5),
  );
}

describe('accessibility of the business console (axe-core)', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('no serious or critical violation, nothing wider than a phone, a visible focus', { timeout: 240_000 }, async () => {
    const team = await newBusinessTeam(server);
    const shop = team.business.client;
    await shop.contacts.defineAttribute('first_name', 'text');
    await shop.contacts.defineAttribute('spend', 'number');
    const person = await server.signUp(uniqueHandle('amy'));
    const contact = await shop.contacts.create({ handle: person.handle, name: 'Amy Ng', tags: ['vip'], attributes: { first_name: 'Amy', spend: 12 } });
    await shop.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: { wording: 'Send me offers and news', at: '2026-02-01T09:00:00Z', evidence: 'form 1' } });
    const job = await shop.contactImports.upload(`handle,time_zone\n${person.handle},Mars/Base\nnobody_at_all,\n`);
    const segment = await shop.segments.create({ name: 'VIPs', rule: { all: [{ tag: 'vip' }, { any: [{ attribute: 'spend', op: 'gt', value: 10 }, { locale: 'fr' }] }] } });
    const template = await shop.createTemplate({
      name: 'Hello',
      purpose: 'marketing',
      variables: [{ name: 'code', example: 'HI5' }],
      variants: { en: { text: 'Hi {{first_name}}, code {{code}}', buttons: [[{ type: 'url', text: 'Shop', url: 'https://shop.example/' }]] }, fr: { text: 'Salut {{first_name}}' } },
    });
    const h = team.business.handle;
    const screens: [string, string, (p: Page) => Promise<unknown>][] = [
      ['settings', `/business/${h}/settings`, (p) => p.locator(`tr[data-member="${team.agent.handle}"]`).waitFor()],
      ['contacts', `/business/${h}/contacts`, (p) => p.locator('tr[data-contact]').first().waitFor()],
      ['contact', `/business/${h}/contacts/${contact.id}`, (p) => p.getByRole('list', { name: 'Consent history, newest first' }).waitFor()],
      ['import', `/business/${h}/contacts/import/${job.id}`, (p) => p.getByRole('table', { name: 'Refused rows' }).waitFor({ timeout: 30_000 })],
      ['new import', `/business/${h}/contacts/import`, (p) => p.getByLabel('File (CSV, JSON or NDJSON)').waitFor()],
      ['segments', `/business/${h}/segments`, (p) => p.locator('tr[data-segment]').first().waitFor()],
      ['segment', `/business/${h}/segments/${segment.id}`, (p) => p.getByTestId('segment-count').waitFor()],
      ['templates', `/business/${h}/templates`, (p) => p.locator('tr[data-template]').first().waitFor()],
      ['template', `/business/${h}/templates/${template.id}`, (p) => p.getByTestId('template-preview').getByText('code HI5').waitFor({ timeout: 30_000 })],
      ['campaigns', `/business/${h}/campaigns`, (p) => p.getByRole('heading', { name: 'Campaigns', level: 2 }).waitFor()],
      ['new campaign', `/business/${h}/campaigns/new`, (p) => p.getByLabel('Campaign name').waitFor()],
      ['analytics', `/business/${h}/analytics`, (p) => p.getByRole('heading', { name: 'Analytics', level: 2 }).waitFor()],
    ];
    const problems = new Map<string, string[]>();
    for (const viewport of [DESKTOP, PHONE]) {
      const size = viewport === DESKTOP ? 'desktop' : 'phone';
      const s = await signedIn(browser, server, team.admin, viewport);
      for (const [name, url, ready] of screens) {
        await s.page.goto(`${server.url}${url}`);
        await ready(s.page);
        const found = await violations(s.page);
        if (viewport === PHONE) found.push(...(await overflowing(s.page)).map((e) => `wider than the phone: ${e}`));
        if (found.length) problems.set(`${name} (${size})`, found);
      }
      assert.deepEqual(s.errors, [], `${size}: no script errors`);
      await s.context.close();
    }
    assert.deepEqual(Object.fromEntries(problems), {});

    // The keyboard reaches the controls, and the focused one is outlined.
    const k = await signedIn(browser, server, team.admin, DESKTOP);
    await k.page.goto(`${server.url}/business/${h}/segments/${segment.id}`);
    await k.page.getByTestId('segment-count').waitFor();
    await k.page.getByLabel('Segment name').focus();
    for (let i = 0; i < 4; i++) await k.page.keyboard.press('Tab');
    const focus = await k.page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName.toLowerCase(), label: el.getAttribute('aria-label') ?? el.id, outline: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) };
    });
    assert.notEqual(focus.tag, 'body', 'Tab moved into the builder');
    assert.ok(focus.outline !== 'none' && focus.width >= 2, `a visible focus outline on ${focus.tag} ${focus.label}: ${JSON.stringify(focus)}`);
    // Arrow keys move between a template's locale tabs.
    await k.page.goto(`${server.url}/business/${h}/templates/${template.id}`);
    await k.page.getByRole('tab', { name: /^en/ }).focus();
    await k.page.keyboard.press('ArrowRight');
    assert.equal(await k.page.evaluate(() => document.activeElement?.textContent), 'fr');
    assert.equal(await k.page.getByRole('tab', { name: 'fr' }).getAttribute('aria-selected'), 'true');
    await k.context.close();
  });
});
