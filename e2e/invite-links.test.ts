/**
 * Invite links and channel posts in Chromium against the real server: an admin makes a link in
 * the members dialog and sees it as a QR code; someone else opens /join/<token>, sees what it
 * opens and joins; a channel's post shows the channel's name (not its admin's) and its view
 * count; a channel's shareable /c/<handle> link previews it and subscribes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('invite links and channel posts', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('an admin makes a link with its QR code; someone opening it previews and joins the group', { timeout: 120_000 }, async () => {
    const owner = await server.signUp();
    const friend = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'Climbers', members: [friend.handle] });
    await owner.client.send(group.id, { text: 'Saturday at the crag?' });

    const admin = await signedIn(browser, server, owner, DESKTOP);
    await admin.page.goto(`${server.url}/chats/${group.id}`);
    await admin.page.getByRole('button', { name: 'Members' }).click();
    await admin.page.getByRole('button', { name: 'Create link' }).click();
    await admin.page.getByRole('img', { name: 'QR code of the invite link to Climbers' }).waitFor();
    const url = await admin.page.getByRole('textbox', { name: 'Invite link' }).first().inputValue();
    assert.match(url, new RegExp(`^${server.url}/join/[A-Za-z0-9_-]{24}$`));
    assert.deepEqual(admin.errors, []);
    await admin.context.close();

    const stranger = await server.signUp();
    const { page, errors, context } = await signedIn(browser, server, stranger, DESKTOP);
    await page.goto(url);
    await page.getByRole('heading', { name: 'Climbers' }).waitFor();
    await page.getByText('Group · 2 members').waitFor();
    // Previewing joins nobody.
    assert.equal((await owner.client.conversation(group.id)).member_count, 2);
    await page.getByRole('button', { name: 'Join group' }).click();
    await page.waitForURL(`${server.url}/chats/${group.id}`);
    await bubble(page, 'Saturday at the crag?').waitFor();
    assert.equal((await stranger.client.conversation(group.id)).my_role, 'member');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("a channel's post shows the channel's name and its views; /c/<handle> previews and subscribes", { timeout: 120_000 }, async () => {
    const owner = await server.signUp();
    const handle = uniqueHandle('daily');
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'Daily news', handle });
    const reader = await server.signUp();
    await reader.client.join(channel.id);
    await owner.client.send(channel.id, { text: 'Morning edition' });

    const { page, errors, context } = await signedIn(browser, server, reader, DESKTOP);
    await page.goto(`${server.url}/chats/${channel.id}`);
    const post = bubble(page, 'Morning edition');
    await post.waitFor();
    await post.locator('.sender').filter({ hasText: 'Daily news' }).waitFor();
    // Opening the channel counted the reader's view, once.
    await post.getByText(/1\s+view/).waitFor();
    assert.ok(!(await post.textContent())?.includes(owner.handle), "the admin's handle is not shown");
    assert.deepEqual(errors, []);
    await context.close();

    const newcomer = await server.signUp();
    const visit = await signedIn(browser, server, newcomer, DESKTOP);
    await visit.page.goto(`${server.url}/c/${handle}`);
    await visit.page.getByRole('heading', { name: 'Daily news' }).waitFor();
    await visit.page.getByText('Channel · @').waitFor();
    await visit.page.getByRole('button', { name: 'Subscribe' }).click();
    await visit.page.waitForURL(`${server.url}/chats/${channel.id}`);
    await bubble(visit.page, 'Morning edition').waitFor();
    assert.equal((await newcomer.client.conversation(channel.id)).my_role, 'member');
    // The newcomer's view is counted too: two subscribers, two views.
    await bubble(visit.page, 'Morning edition').getByText(/2\s+views/).waitFor();
    assert.deepEqual(visit.errors, []);
    await visit.context.close();
  });
});
