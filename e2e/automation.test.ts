/**
 * The automation panel of the "Bots & automation" page, in Chromium against the real server: a
 * business turns automation on, saves a template, adds a keyword rule that sends it and a pattern
 * rule, reorders them, tries a message in the "try" box (the rule that would fire and its text,
 * nothing sent), and a contact writing for real gets the automated answer. A person sees that
 * automation is for business accounts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, type TestServer } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, PHONE, signedIn, skipBrowser } from './browser.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe-core violations on the page as it is now. */
async function violations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const found = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: object): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run({ resultTypes: ['violations'] })).violations;
  })) as { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
}

describe('the automation panel', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('edits rules and templates, tries a message without sending it, and answers a contact', { timeout: 180_000 }, async () => {
    const shop = await server.signUp(undefined, { kind: 'business' });
    const ann = await server.signUp();
    const { context, page, errors } = await signedIn(browser, server, shop);
    try {
      await page.goto(`${server.url}/bots`);
      const panel = page.getByRole('region', { name: 'Automation' });
      await panel.getByRole('form', { name: 'Automation settings' }).waitFor();

      // Settings: on.
      await panel.getByRole('checkbox', { name: 'Automation on' }).check();
      await panel.getByRole('button', { name: 'Save settings' }).click();
      await panel.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      assert.equal((await shop.client.automation.settings()).enabled, true);

      // A template, then a rule that sends it.
      const templates = panel.getByRole('form', { name: 'New template' });
      await templates.getByLabel('Template name').fill('prices');
      await templates.getByLabel('Template text').fill('Hi {{handle}}, our prices start at 10.');
      await templates.getByRole('button', { name: 'Save template' }).click();
      await panel.getByText('Hi {{handle}}, our prices start at 10.').waitFor();

      const newRule = panel.getByRole('form', { name: 'New rule' });
      await newRule.getByLabel('Rule name').fill('Orders');
      await newRule.getByLabel('When', { exact: true }).selectOption('pattern');
      await newRule.getByLabel(/^Pattern/).fill('order\\s*#?\\d+');
      await newRule.getByLabel('Then', { exact: true }).selectOption('reply');
      await newRule.getByLabel('Reply text').fill('Your order is on its way.');
      await newRule.getByRole('button', { name: 'Add rule' }).click();
      await panel.getByRole('listitem', { name: 'Rule Orders' }).waitFor();

      await newRule.getByLabel('Rule name').fill('Prices');
      await newRule.getByLabel('When', { exact: true }).selectOption('keywords');
      await newRule.getByLabel('Keywords (comma-separated)').fill('price, cost');
      await newRule.getByLabel('Then', { exact: true }).selectOption('template');
      await newRule.getByLabel('Template', { exact: true }).selectOption({ label: 'prices' });
      await newRule.getByLabel('Also tag the chat (optional)').fill('sales');
      await newRule.getByRole('button', { name: 'Add rule' }).click();
      const prices = panel.getByRole('listitem', { name: 'Rule Prices' });
      await prices.getByText('Then: Send template “prices”; Tag “sales”').waitFor();

      // A bad pattern is refused with the server's reason.
      await newRule.getByLabel('Rule name').fill('Broken');
      await newRule.getByLabel('When', { exact: true }).selectOption('pattern');
      await newRule.getByLabel(/^Pattern/).fill('(a)\\1');
      await newRule.getByLabel('Then', { exact: true }).selectOption('handover');
      await newRule.getByRole('button', { name: 'Add rule' }).click();
      await newRule.getByRole('alert').filter({ hasText: /RE2/ }).waitFor();

      // Reorder: Prices first.
      await panel.getByRole('button', { name: 'Move Prices up' }).click();
      await eventually('the new order', async () => (await shop.client.automation.rules()).map((r) => r.name).join() === 'Prices,Orders');
      await panel.getByRole('listitem').first().getByText('Prices', { exact: true }).waitFor();

      // Try a message: the rule and what it would send; nothing is sent.
      const tryBox = panel.getByRole('form', { name: 'Try a message' });
      await tryBox.getByLabel('A contact writes').fill('What does it cost?');
      await tryBox.getByRole('button', { name: 'Try' }).click();
      const result = panel.getByRole('status', { name: 'Try result' });
      await result.getByText('Rule “Prices” would fire.').waitFor();
      await result.getByText('Would send (rule): Hi contact, our prices start at 10.').waitFor();
      await result.getByText('Would tag the chat “sales”').waitFor();
      await tryBox.getByLabel('A contact writes').fill('hello');
      await tryBox.getByRole('button', { name: 'Try' }).click();
      await result.getByText('No rule matches.').waitFor();
      await result.getByText('Nothing would be sent.').waitFor();
      assert.equal((await shop.client.conversations()).length, 0, 'trying sends nothing');
      // The editor with a result, on a desktop and at phone width: no serious accessibility problems.
      assert.deepEqual(await violations(page), []);
      await page.setViewportSize(PHONE);
      assert.deepEqual(await violations(page), []);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no sideways scrolling at phone width (${overflow}px)`);
      await page.setViewportSize(DESKTOP);

      // A contact writing for real gets the answer, labelled automated.
      const chat = await ann.client.openDirect(shop.handle);
      await ann.client.send(chat.id, { text: 'price please' });
      const reply = await eventually('the automated reply', async () => (await ann.client.history(chat.id)).messages.find((m) => m.automated));
      assert.equal(reply.text, `Hi ${ann.handle}, our prices start at 10.`);

      // The activity list says why it answered.
      await page.goto(`${server.url}/bots`);
      await panel.getByRole('region', { name: 'Recent activity' }).getByText('rule “Prices” fired (1 sent)', { exact: false }).waitFor();

      // In the chat's header: take the chat over, then hand it back.
      await page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      const header = page.locator('.chat-head');
      await header.getByText('Automation answers').waitFor();
      await header.getByRole('button', { name: 'Take over' }).click();
      await header.getByText('A person has this chat').waitFor();
      assert.equal((await shop.client.automation.conversation(chat.id)).state, 'human');
      await header.getByRole('button', { name: 'Hand back to automation' }).click();
      await header.getByText('Automation answers').waitFor();
      assert.equal((await shop.client.automation.conversation(chat.id)).state, 'bot');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('tells a person that automation is for business accounts', async () => {
    const person = await server.signUp();
    const { context, page, errors } = await signedIn(browser, server, person);
    try {
      await page.goto(`${server.url}/bots`);
      const panel = page.getByRole('region', { name: 'Automation' });
      await panel.getByText('is for business accounts').waitFor();
      assert.equal(await panel.getByRole('form').count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
