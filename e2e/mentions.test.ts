/**
 * @mentions and read receipts in a real browser against the real server: "@" in a group's
 * composer offers its members by handle and display name, driven by the keyboard; the sent
 * mention is highlighted, and the person mentioned sees it marked and jumps to it with the @
 * button. Turning read receipts off in Settings hides reads both ways in direct chats.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, messageLog, openBrowserSuite, signedIn, skipBrowser, violations } from './browser.ts';

describe('mentions and read receipts in the messenger', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('"@" suggests members by handle and name; the keyboard picks one; the mention is sent and highlighted', async () => {
    const [alice, bob, carol, outsider] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp()]);
    await carol.client.profiles.update({ display_name: 'Zelda Quill' });
    const group = await alice.client.createConversation({ kind: 'group', title: 'Trip', members: [bob.handle, carol.handle] });
    const { context, page, errors } = await signedIn(browser, server, alice);
    try {
      await page.goto(`${server.url}/chats/${encodeURIComponent(group.id)}`);
      const composer = page.getByLabel('Message', { exact: true });
      await composer.click();
      // By display name: "zel" finds Carol, whose handle says nothing of it.
      await composer.pressSequentially('Tickets, @zel');
      const list = page.getByRole('listbox', { name: 'Members to mention' });
      await list.waitFor();
      assert.deepEqual(await list.getByRole('option').allTextContents(), [`@${carol.handle}Zelda Quill`]);
      assert.deepEqual(await violations(page), []);
      await composer.press('Enter');
      await list.waitFor({ state: 'detached' });
      assert.equal(await composer.inputValue(), `Tickets, @${carol.handle} `);
      // By handle; the arrow keys move through the list (only members are offered, never me nor outsiders).
      await composer.pressSequentially('and @');
      await list.waitFor();
      const offered = await list.getByRole('option').allTextContents();
      assert.equal(offered.length, 2);
      assert.ok(offered.every((o) => !o.includes(alice.handle) && !o.includes(outsider.handle)));
      // Bob's whole handle (test handles share long prefixes, so a part of one would match Carol
      // too): the list narrows to him, his option active once it has re-rendered.
      await composer.pressSequentially(bob.handle);
      const bobOption = `mentions-${group.id}-${bob.accountId}`;
      await page.waitForFunction((id) => document.querySelector('[aria-activedescendant]')?.getAttribute('aria-activedescendant') === id, bobOption, { timeout: 10_000 });
      assert.equal(await composer.getAttribute('aria-activedescendant'), bobOption);
      await composer.press('Escape');
      await list.waitFor({ state: 'detached' });
      await composer.press('Enter');
      const sent = bubble(page, 'Tickets');
      await sent.waitFor();
      assert.deepEqual(await sent.locator('.mention').allTextContents(), [`@${carol.handle}`, `@${bob.handle}`]);
      const [message] = (await bob.client.history(group.id)).messages;
      assert.deepEqual(message?.mentions.map((m) => m.account_id), [carol.accountId, bob.accountId]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('the person mentioned sees the chat marked, the mention marked, and the @ button jumps to it', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const group = await alice.client.createConversation({ kind: 'group', title: 'Rota', members: [bob.handle] });
    await alice.client.send(group.id, { text: `@${bob.handle} can you take Sunday?` });
    // Enough after it that it is off screen when the chat opens at its newest message.
    for (let i = 0; i < 40; i++) await alice.client.send(group.id, { text: `filler ${i}` });
    const { context, page, errors } = await signedIn(browser, server, bob);
    try {
      const row = page.getByRole('link', { name: /Rota.*mentions you/ });
      await row.waitFor();
      await row.click();
      const jump = page.getByRole('button', { name: 'Go to the mention of you' });
      await jump.waitFor();
      await jump.click();
      const mentioned = bubble(page, 'can you take Sunday');
      await mentioned.locator('.bubble.mentions-me').waitFor();
      assert.ok(await mentioned.isVisible());
      assert.equal(await mentioned.locator('.mention-me').count(), 1);
      await jump.waitFor({ state: 'detached' });
      // The web app marks the chat read on screen first and then tells the server (markRead), so
      // the server's count follows the screen shortly after, not at once.
      await eventually(async () => (await bob.client.conversation(group.id)).unread_mentions === 0);
      assert.ok(await messageLog(page).isVisible());
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('read receipts off in Settings: my reads are not shown, and I do not see theirs', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const hello = await alice.client.send(chat.id, { text: 'did you read this?' });
    const { context, page, errors } = await signedIn(browser, server, bob);
    try {
      await page.goto(`${server.url}/settings`);
      const toggle = page.getByRole('checkbox', { name: 'Send read receipts' });
      await toggle.waitFor();
      assert.equal(await toggle.isChecked(), true);
      await toggle.uncheck();
      await eventually(async () => (await bob.client.privacy()).read_receipts === false);
      await page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      await bubble(page, 'did you read this?').waitFor();
      // Bob read it (his own marks say so) but Alice is not told.
      await eventually(async () => (await bob.client.conversation(chat.id)).read_seq >= hello.seq);
      assert.equal((await alice.client.conversation(chat.id)).peer?.read_seq, 0);
      assert.equal((await alice.client.receipts(hello.id)).per_recipient?.[0]?.status, 'delivered');
      // Bob's own message, read by Alice: his tick stops at delivered.
      const composer = page.getByLabel('Message', { exact: true });
      await composer.fill('yes');
      await composer.press('Enter');
      const reply = await eventually(async () => (await alice.client.history(chat.id)).messages.find((m) => m.text === 'yes'));
      await alice.client.markRead(chat.id, reply.seq);
      const ticks = bubble(page, /^yes$/).getByRole('img', { name: 'Delivered' });
      await ticks.waitFor();
      assert.equal(await bubble(page, /^yes$/).getByRole('img', { name: 'Read' }).count(), 0);
      // The saved choice takes a while to come (as on a loaded server): until it is here, no box is
      // offered, so nothing can be checked against a state the page made up.
      await page.route('**/v1/account/privacy', async (route) => {
        if (route.request().method() === 'GET') await new Promise((r) => setTimeout(r, 1_000));
        await route.continue();
      });
      await page.goto(`${server.url}/settings`);
      await page.getByRole('checkbox', { name: 'Send read receipts' }).check();
      await eventually(async () => (await bob.client.privacy()).read_receipts === true);
      assert.equal((await alice.client.receipts(hello.id)).per_recipient?.[0]?.status, 'read');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

/** Polls until `probe` gives something truthy, for at most twenty seconds (a loaded CI run once needed more than ten). */
async function eventually<T>(probe: () => Promise<T>): Promise<NonNullable<T>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
