/**
 * Friction on what spreads too fast, in the browser: a person forwarding a picture that is
 * spreading fast is asked to confirm; recipients see "Spreading fast"; a share held for review
 * says so to its sender only; the safety console lists the held cluster live with its chart,
 * chats and sharers, and clearing it delivers what waited to the recipient's open chat without a
 * reload. The coordinated-sharing tab lists a ring of accounts that co-shared three pictures, and
 * a moderator puts one of them under review from there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestServer, User } from '../apps/server/test/harness.ts';
import { SPREAD_TIERS_PER_HOUR, noData, signUpModerator, smallPhoto, uploadAndWait } from '../apps/server/test/safety-fixtures.ts';
import { bubble, closeBrowserSuite, DESKTOP, openBrowserSuite, screenshot, signedIn, skipBrowser } from './browser.ts';

describe('spreading fast, from the messenger to the safety console', { skip: skipBrowser || noData }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite(SPREAD_TIERS_PER_HOUR));
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('confirm before forwarding, the label, a held share, and a moderator clearing it live', { timeout: 240_000 }, async () => {
    const poster = await server.signUp();
    const members: User[] = [];
    for (let i = 0; i < 5; i++) members.push(await server.signUp());
    const [bob, carol, dave, erin, frank] = members as [User, User, User, User, User];
    const group = await poster.client.createConversation({ kind: 'group', title: 'Rumours', members: members.map((m) => m.handle) });
    const item = await uploadAndWait(poster.client, await smallPhoto('Dune.jpg', 640));
    const post = await poster.client.send(group.id, { text: 'look at this', media: [item.id] });
    // Two more chats through the API: the picture is now "spreading fast" (2 new chats in the hour).
    for (const m of [bob, carol]) await m.client.send((await m.client.openDirect((await server.signUp()).handle)).id, { forward_of: post.id });

    // Dave forwards it from the browser: the third chat needs his confirmation.
    const daveFriend = await server.signUp();
    const daveChat = await dave.client.openDirect(daveFriend.handle);
    const d = await signedIn(browser, server, dave, DESKTOP);
    await d.page.goto(`${server.url}/chats/${group.id}`);
    const row = bubble(d.page, 'look at this');
    await row.hover();
    await row.getByRole('button', { name: 'Message actions' }).click();
    await d.page.getByRole('menuitem', { name: 'Forward' }).click();
    const asked: string[] = [];
    d.page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await d.page.getByRole('dialog', { name: 'Forward to…' }).getByRole('button', { name: daveFriend.handle }).click();
    await d.page.getByText(/^Forwarded to/).waitFor();
    assert.deepEqual(asked, ['This is spreading fast. Forward it anyway?']);

    // His friend sees it labelled.
    const f = await signedIn(browser, server, daveFriend, DESKTOP);
    await f.page.goto(`${server.url}/chats/${daveChat.id}`);
    await bubble(f.page, 'look at this').getByText('Spreading fast').waitFor();

    // Two more shares reach the hold tier: Frank's waits for review, and only Frank sees it, marked so.
    await erin.client.send((await erin.client.openDirect((await server.signUp()).handle)).id, { forward_of: post.id, confirm_spread: true });
    const frankFriend = await server.signUp();
    const frankChat = await frank.client.openDirect(frankFriend.handle);
    const held = await frank.client.send(frankChat.id, { forward_of: post.id, confirm_spread: true });
    assert.equal(held.status, 'pending');
    const fr = await signedIn(browser, server, frank, DESKTOP);
    await fr.page.goto(`${server.url}/chats/${frankChat.id}`);
    await bubble(fr.page, 'look at this').getByText(/Held for review/).waitFor();
    const ff = await signedIn(browser, server, frankFriend, DESKTOP);
    await ff.page.goto(`${server.url}/chats/${frankChat.id}`);
    await ff.page.getByRole('log', { name: 'Messages' }).waitFor();
    assert.equal(await bubble(ff.page, 'look at this').count(), 0, 'the recipient sees nothing while it is held');

    // The console: the held cluster first, its facts, chart and chats; clearing it delivers Frank's share live.
    const moderator = await signUpModerator(server);
    const m = await signedIn(browser, server, moderator, DESKTOP);
    await m.page.goto(`${server.url}/console/spreading`);
    await m.page.getByText('1 cluster held, waiting for a decision.').waitFor();
    const first = m.page.locator('.spread-table tbody tr').first();
    await first.getByText('Held — needs a decision').waitFor();
    await first.getByRole('button', { name: /^Open cluster/ }).click();
    const panel = m.page.getByRole('article', { name: /^Cluster spc_/ });
    await panel.getByTestId('cluster-held').getByText('1 message').waitFor();
    await panel.getByRole('img', { name: /Shares per minute over .*5 new chats/ }).waitFor();
    assert.equal(await panel.getByRole('table', { name: 'Chats it reached' }).locator('tbody tr').count(), 5);
    await screenshot(m.page, 'console-spreading.png');
    await panel.getByRole('button', { name: 'Clear' }).click();
    await panel.getByText('Cleared: 1 held message released.').waitFor();
    await panel.getByTestId('cluster-state').getByText('Cleared').waitFor();
    await bubble(ff.page, 'look at this').getByText('Spreading fast').waitFor({ timeout: 15_000 });
  });

  it('the coordinated-sharing tab lists a ring with its evidence; a moderator reviews one account’s shares', { timeout: 240_000 }, async () => {
    const photos = await Promise.all(['Aqua.jpg', 'Storm.jpg', 'Wood.jpg'].map((n) => smallPhoto(n, 400)));
    const ring = [await server.signUp(), await server.signUp(), await server.signUp()];
    for (const photo of photos)
      for (const member of ring) {
        const media = await uploadAndWait(member.client, photo);
        await member.client.send((await member.client.openDirect((await server.signUp()).handle)).id, { media: [media.id], confirm_spread: true });
      }
    const moderator = await signUpModerator(server);
    const m = await signedIn(browser, server, moderator, DESKTOP);
    await m.page.goto(`${server.url}/console/networks`);
    const card = m.page.getByRole('article').filter({ has: m.page.getByRole('rowheader', { name: `@${ring[0]!.handle}` }) });
    await card.getByTestId('network-evidence').getByText(/Co-shared 3 pictures/).waitFor();
    await card.getByRole('button', { name: `Review shares of @${ring[1]!.handle}` }).click();
    await card.getByTestId(`status-${ring[1]!.handle}`).getByText('Shares reviewed').waitFor();
    await screenshot(m.page, 'console-networks.png');
    const next = await uploadAndWait(ring[1]!.client, photos[0]!);
    const waiting = await ring[1]!.client.send((await ring[1]!.client.openDirect((await server.signUp()).handle)).id, { media: [next.id], confirm_spread: true });
    assert.equal(waiting.status, 'pending', 'their next share waits for review');
  });
});
