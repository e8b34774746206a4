/**
 * The subscribe page (/c/<business>) and a one-tap unsubscribe link (/u/<token>) in Chromium
 * against the real server. A visitor who is not signed in reads who is asking and each purpose in
 * the business's exact words, with no box ticked; signed in, they tick one, subscribe, and are
 * told to confirm in their chat — where the business's question waits and nothing counts until
 * YES. The unsubscribe link says what it would stop, changes nothing until the button is pressed,
 * and needs no sign-in. Settings → Businesses shows a person each business's record about them,
 * with the proof it gave, and stops it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { eventually, newBusinessTeam, type TestServer } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

const NOON = Date.parse('2030-06-01T12:00:00Z');

describe('subscribing to a business and unsubscribing', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite({ publicUrl: 'https://mmd.example' }));
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('shows exactly what one agrees to, and counts nothing before YES in the chat', { timeout: 120_000 }, async () => {
    const { business } = await newBusinessTeam(server);
    await business.client.updateBusiness({ display_name: 'Harbour Bakery' });
    await business.client.contacts.putPurpose('marketing', { wording: 'Send me the weekly bread offers. I can reply STOP at any time.' });
    const person = await server.signUp();
    const gate = () => server.services.contacts.gate.check({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing', at: NOON });

    // Not signed in: the page is readable, with a sign-in form and no subscribe button.
    const visitor = await browser.newContext({ viewport: DESKTOP });
    const anon = await visitor.newPage();
    await anon.goto(`${server.url}/c/${business.handle}`);
    await anon.getByRole('heading', { name: 'Get messages from Harbour Bakery' }).waitFor();
    await anon.getByText('Send me the weekly bread offers. I can reply STOP at any time.').waitFor();
    await anon.getByText('Not verified').waitFor();
    await anon.getByRole('heading', { name: 'Sign in to subscribe' }).waitFor();
    assert.equal(await anon.getByRole('button', { name: 'Subscribe' }).count(), 0);
    await visitor.close();

    const { page, errors, context } = await signedIn(browser, server, person, DESKTOP);
    await page.goto(`${server.url}/c/${business.handle}`);
    const offers = page.getByRole('checkbox', { name: /weekly bread offers/ });
    await offers.waitFor();
    assert.equal(await offers.isChecked(), false, 'no box is ticked for the person');
    assert.equal(await page.getByRole('checkbox').count(), 2, 'marketing and surveys are offered');
    const subscribe = page.getByRole('button', { name: 'Subscribe' });
    assert.equal(await subscribe.isDisabled(), true, 'nothing chosen, nothing to send');
    await offers.check();
    await subscribe.click();
    await page.getByText('Almost done.').waitFor();
    const refused = await gate();
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent', 'nothing counts before the confirmation');

    // The question waits in the chat; answering YES there is the consent.
    await page.getByRole('link', { name: 'Open your chat with Harbour Bakery' }).click();
    await page.getByText('Reply YES to confirm').first().waitFor();
    const chat = (await person.client.conversations()).find((c) => c.kind === 'direct');
    assert.ok(chat);
    await person.client.send(chat.id, { text: 'YES' });
    assert.deepEqual(await gate(), { ok: true });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('an unsubscribe link says what it stops and stops it with one tap, without signing in', { timeout: 120_000 }, async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof: { wording: 'Offers from the bakery', at: '2026-01-01T09:00:00Z', evidence: 'signed card 12' } }] });
    const gate = () => server.services.contacts.gate.check({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing', at: NOON });
    const key = { businessId: business.accountId, accountId: person.accountId, purpose: 'marketing' };
    const token = server.services.contacts.people.unsubscribeToken(key);
    // What a campaign puts on its button: the web app's page under MMD_PUBLIC_URL.
    const link = server.services.contacts.people.unsubscribeUrl(key);
    assert.equal(link, `https://mmd.example/u/${token}`);

    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(link.replace('https://mmd.example', server.url));
    await page.getByText(`Stop offers and news from ${business.handle}`).waitFor();
    assert.deepEqual(await gate(), { ok: true }, 'opening the link changed nothing');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByText('will not send you offers and news any more').waitFor();
    await eventually('the opt-out', async () => {
      const v = await gate();
      return !v.ok && v.reason === 'no_consent';
    });

    await page.goto(`${server.url}/u/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`);
    await page.getByText('This unsubscribe link is not valid.').waitFor();
    await context.close();
  });

  it('Settings → Businesses shows why a business may message you, with its proof, and stops it', { timeout: 120_000 }, async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.create({
      handle: person.handle,
      consent: [{ purpose: 'marketing', proof: { wording: 'Weekly offers from the bakery', at: '2026-01-01T09:00:00Z', evidence: 'signed card 12', collected_via: 'shop counter' } }],
    });
    const gate = () => server.services.contacts.gate.check({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing', at: NOON });
    assert.deepEqual(await gate(), { ok: true });

    const { page, errors, context } = await signedIn(browser, server, person, DESKTOP);
    await page.goto(`${server.url}/settings`);
    const card = page.getByRole('region', { name: `@${business.handle}` });
    await card.waitFor();
    await card.locator('li[data-purpose="marketing"]').getByText('the business says you agreed (recorded with proof)').waitFor();
    await card.getByText('Why am I getting this? The full record').click();
    await card.getByText('their proof: signed card 12').waitFor();
    await card.getByText('collected via shop counter').waitFor();
    await card.getByRole('button', { name: `Stop offers and news from @${business.handle}` }).click();
    await page.getByText(`@${business.handle} will not send you offers and news any more.`).waitFor();
    const refused = await gate();
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent');
    assert.equal(await card.getByRole('button', { name: /^Stop offers/ }).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
