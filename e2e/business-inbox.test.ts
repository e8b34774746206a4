/**
 * The team inbox in Chromium against the real server: two team members in two browsers work the
 * same customer chat and see each other's assignment and internal notes as they happen; the
 * customer's new message appears for both without a reload; an agent replies with a canned reply.
 * An analyst reads the same chat (a customer's photo included) with no controls to act.
 * The customer, in a third browser, sees the business's display name with its verified mark in
 * the chat list and header, the reply signed "Business · agent", and nothing of the notes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { eventually, newBusinessTeam, type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, DESKTOP, messageLog, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('the team inbox', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('two agents see each other assign and add notes live; a customer message appears; the customer sees "Business · Agent" and no note', { timeout: 120_000 }, async () => {
    const team = await newBusinessTeam(server);
    const handle = team.business.handle;
    await team.business.client.updateBusiness({ display_name: 'Harbour Bakery' });
    await server.services.business.setVerified({ businessId: team.business.accountId, verified: true, by: team.business.accountId });
    await team.agent.acting.inbox.createCannedReply({ name: 'Opening hours', text: 'Hi {{handle}}, {{business}} is open every day from 7 to 19.' });
    const customer = await server.signUp(uniqueHandle('cust'));
    const chat = await customer.client.openDirect(handle);
    await customer.client.send(chat.id, { text: 'Do you have gluten-free bread?' });

    // Two team members, two browsers, the same chat.
    const a = await signedIn(browser, server, team.agent, DESKTOP);
    const b = await signedIn(browser, server, team.admin, DESKTOP);
    for (const { page } of [a, b]) {
      await page.goto(`${server.url}/business/${handle}/inbox`);
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      await page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`@${customer.handle}`) }).click();
      await page.getByRole('heading', { name: `@${customer.handle}`, level: 3 }).waitFor();
    }
    const timeline = (page: typeof a.page) => page.getByRole('list', { name: `Conversation with @${customer.handle}` });
    await timeline(a.page).getByText('Do you have gluten-free bread?').waitFor();

    // The agent takes the chat: the admin's page shows it at once.
    await a.page.getByRole('button', { name: 'Assign to me' }).click();
    await eventually("the agent in the admin's assignee field", async () => (await b.page.getByLabel('Assignee').inputValue()) === team.agent.accountId);
    await b.page.getByRole('list', { name: 'Conversations' }).getByText(`@${team.agent.handle}`).waitFor();

    // The admin leaves an internal note: the agent sees it, labelled, at once.
    await b.page.getByLabel('Internal note', { exact: true }).check();
    await b.page.getByRole('textbox', { name: 'Internal note for the team' }).fill('Regular customer, coeliac: check the allergen sheet');
    await b.page.getByRole('button', { name: 'Add note' }).click();
    const note = timeline(a.page).getByRole('listitem').filter({ hasText: 'Regular customer, coeliac' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /Internal note — customers never see this/);

    // The admin sets it pending; the agent's page follows.
    await b.page.getByLabel('Status', { exact: true }).selectOption('pending');
    await eventually("pending on the agent's page", async () => (await a.page.getByLabel('Status', { exact: true }).inputValue()) === 'pending');

    // The customer writes again: both pages show it without a reload, and it is open again.
    await customer.client.send(chat.id, { text: 'Also, are you open on Sunday?' });
    for (const { page } of [a, b]) await timeline(page).getByText('Also, are you open on Sunday?').waitFor();
    await eventually('open again', async () => (await a.page.getByLabel('Status', { exact: true }).inputValue()) === 'open');

    // The agent answers with a canned reply, its placeholders filled in.
    await a.page.getByLabel('Reply to customer').check();
    await a.page.getByLabel('Insert a canned reply').selectOption({ label: 'Opening hours' });
    const composer = a.page.getByRole('textbox', { name: `Reply to @${customer.handle} as Harbour Bakery` });
    assert.equal(await composer.inputValue(), `Hi ${customer.handle}, Harbour Bakery is open every day from 7 to 19.`);
    await a.page.getByRole('button', { name: 'Send reply' }).click();
    await timeline(b.page).getByText(`Harbour Bakery · ${team.agent.handle}`).waitFor();

    // The customer's own view: the business by name with its verified mark; the agent's signature; no note.
    const c = await signedIn(browser, server, customer, DESKTOP);
    const listed = c.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Harbour Bakery/ });
    await listed.waitFor();
    await listed.getByRole('img', { name: 'verified' }).waitFor();
    await listed.click();
    const header = c.page.getByRole('heading', { level: 2, name: /Harbour Bakery/ });
    await header.waitFor();
    await header.getByRole('img', { name: 'verified' }).waitFor();
    const reply = bubble(c.page, `Hi ${customer.handle}, Harbour Bakery is open every day`);
    await reply.waitFor();
    assert.match((await reply.textContent()) ?? '', new RegExp(`Harbour Bakery · ${team.agent.handle}`));
    assert.equal(await messageLog(c.page).getByText('coeliac').count(), 0);
    assert.equal(await c.page.getByText('Internal note').count(), 0);
    assert.equal((await c.page.content()).includes('allergen sheet'), false, 'the note is nowhere in the customer page');

    for (const { errors } of [a, b, c]) assert.deepEqual(errors, []);
    await Promise.all([a.context.close(), b.context.close(), c.context.close()]);
  });

  it('an analyst reads the inbox with no controls to act', { timeout: 60_000 }, async () => {
    const team = await newBusinessTeam(server);
    const customer = await server.signUp(uniqueHandle('cust'));
    const chat = await customer.client.openDirect(team.business.handle);
    await customer.client.send(chat.id, { text: 'Hello there' });
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 30, g: 120, b: 200 } } }).png().toBuffer();
    const { id: mediaId } = await customer.client.upload(png, { filename: 'receipt.png' });
    await customer.client.waitForMedia(mediaId);
    await customer.client.send(chat.id, { media: [mediaId] });
    const { page, context, errors } = await signedIn(browser, server, team.analyst, DESKTOP);
    await page.goto(`${server.url}/business/${team.business.handle}/inbox/${chat.id}`);
    await page.getByRole('list', { name: `Conversation with @${customer.handle}` }).getByText('Hello there').waitFor();
    await page.getByText('Your role reads the inbox.').waitFor();
    // The customer's photo shows, through the inbox's URLs signed for the business.
    const photo = page.getByRole('img', { name: 'receipt.png' });
    await photo.waitFor();
    await eventually('the photo loaded', () => photo.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0));
    assert.equal(await page.getByRole('button', { name: 'Send reply' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Assign to me' }).count(), 0);
    assert.equal(await page.getByLabel('Assignee').isDisabled(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
