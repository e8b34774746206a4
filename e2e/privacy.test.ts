/**
 * Who can reach me, in a real browser against the real server: choosing "nobody" in Settings
 * turns an add into an invitation that shows above the chat list and joins on a click; blocking
 * from a direct chat's header asks first and then holds; a group admin's history switch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('privacy in the messenger', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('"nobody" in Settings turns adds into invitations the person accepts from the chat list', async () => {
    const [alice, dan] = await Promise.all([server.signUp(), server.signUp()]);
    const { context, page, errors } = await signedIn(browser, server, dan);
    try {
      await page.goto(`${server.url}/settings`);
      const nobody = page.getByRole('group', { name: 'Who can add me to groups and channels' }).getByRole('radio', { name: /^Nobody/ });
      await nobody.check();
      const nobodyAdds = { add_me: 'nobody', last_seen: 'everyone', photo: 'everyone', find_me: 'everyone', read_receipts: true } as const;
      assert.deepEqual(await eventuallyEqual(() => dan.client.privacy(), nobodyAdds), nobodyAdds);

      await page.goto(server.url);
      await page.getByRole('heading', { name: 'Chats' }).waitFor();
      const group = await alice.client.createConversation({
        kind: 'group',
        title: 'Book club',
        members: [dan.handle],
      });
      assert.deepEqual(group.invited, [dan.handle]);
      const invitations = page.getByRole('region', { name: 'Invitations' });
      await invitations.getByText('invites you to the group').waitFor();
      await invitations.getByRole('button', { name: 'Join Book club' }).click();
      await page.getByRole('heading', { name: 'Book club', level: 2 }).waitFor();
      assert.equal((await dan.client.conversation(group.id)).my_role, 'member');
      await invitations.waitFor({ state: 'detached' });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("blocks from a direct chat's header after asking, and a group admin switches earlier history off", async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await bob.client.openDirect(alice.handle);
    await bob.client.send(chat.id, { text: 'hello' });
    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'Hikers',
      members: [bob.handle],
    });
    const { context, page, errors } = await signedIn(browser, server, alice);
    try {
      await page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      await page.getByRole('button', { name: `Block @${bob.handle}` }).click();
      const dialog = page.getByRole('dialog', { name: `Block @${bob.handle}?` });
      await dialog.getByRole('button', { name: 'Block' }).click();
      await page.getByText(`@${bob.handle} is blocked.`).waitFor();
      assert.deepEqual(
        (await alice.client.blocks()).map((b) => b.handle),
        [bob.handle],
      );
      await assert.rejects(bob.client.send(chat.id, { text: 'still there?' }));

      await page.goto(`${server.url}/chats/${encodeURIComponent(group.id)}`);
      await page.getByRole('button', { name: 'Members' }).click();
      const history = page.getByRole('checkbox', { name: 'New members see earlier messages' });
      assert.equal(await history.isChecked(), true);
      await history.uncheck();
      assert.equal(
        await eventuallyEqual(async () => (await alice.client.conversation(group.id)).history_visible, false),
        false,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

/** Polls until `probe` returns `wanted` (deep-equal), for at most five seconds; returns the last value. */
async function eventuallyEqual<T>(probe: () => Promise<T>, wanted: T): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await probe();
    try {
      assert.deepEqual(value, wanted);
      return value;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
