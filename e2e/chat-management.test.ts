/**
 * Managing chats in a real browser against the real server: mute, pin, archive and mark unread
 * from a chat's own menu, delete for me and clear chat — each followed live by the same person's
 * other device, and none of it touching the other person.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { TestServer } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, messageLog, openActions, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

/** A chat's entry in the list, by the handle it is titled with. */
function chatRow(page: Page, handle: string) {
  return page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`@${handle}`) });
}

async function chatOption(page: Page, name: string) {
  await page.getByRole('button', { name: 'Chat options' }).click();
  await page.getByRole('menu').getByRole('menuitem', { name }).click();
}

describe('managing chats in the messenger', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('mutes, pins, archives and marks a chat unread; my other device follows live', async () => {
    const [alice, bob, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const withBob = await alice.client.openDirect(bob.handle);
    const withCarol = await alice.client.openDirect(carol.handle);
    await bob.client.send(withBob.id, { text: 'hi from bob' });
    await carol.client.send(withCarol.id, { text: 'hi from carol' });
    const laptop = await signedIn(browser, server, alice);
    const phone = await signedIn(browser, server, alice);
    try {
      const page = laptop.page;
      // Carol wrote last, so she is on top until Bob's chat is pinned.
      const rows = phone.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link');
      await rows.first().filter({ hasText: `@${carol.handle}` }).waitFor();

      await page.goto(`${server.url}/chats/${encodeURIComponent(withBob.id)}`);
      await chatOption(page, 'Mute for 8 hours');
      await chatRow(page, bob.handle).locator('[data-mark="muted"]').waitFor();
      await chatRow(phone.page, bob.handle).locator('[data-mark="muted"]').waitFor();
      await chatOption(page, 'Pin chat');
      await rows.first().filter({ hasText: `@${bob.handle}` }).locator('[data-mark="pinned"]').waitFor();
      const settings = await alice.client.chatSettings(withBob.id);
      assert.ok(settings.muted_until !== null && settings.pinned_at !== null);
      // Bob's own list knows nothing of it.
      assert.equal((await bob.client.chatSettings(withBob.id)).muted_until, null);

      await page.goto(`${server.url}/chats/${encodeURIComponent(withCarol.id)}`);
      await chatOption(page, 'Archive chat');
      await page.getByRole('button', { name: /^Archived/ }).waitFor();
      await chatRow(page, carol.handle).waitFor({ state: 'detached' });
      await chatRow(phone.page, carol.handle).waitFor({ state: 'detached' });
      await page.getByRole('button', { name: /^Archived/ }).click();
      await page.getByRole('list', { name: 'Archived chats' }).getByRole('link', { name: new RegExp(`@${carol.handle}`) }).waitFor();
      await page.getByRole('button', { name: 'Back to chats' }).first().click();

      await page.goto(`${server.url}/chats/${encodeURIComponent(withBob.id)}`);
      await chatOption(page, 'Mark as unread');
      await chatRow(page, bob.handle).locator('[data-mark="unread"]').waitFor();
      await chatRow(phone.page, bob.handle).locator('[data-mark="unread"]').waitFor();
      // Opening it (here, on the phone) takes the mark away everywhere.
      await chatRow(phone.page, bob.handle).click();
      await chatRow(page, bob.handle).locator('[data-mark="unread"]').waitFor({ state: 'detached' });
      assert.equal((await alice.client.chatSettings(withBob.id)).marked_unread, false);
      assert.deepEqual([...laptop.errors, ...phone.errors], []);
    } finally {
      await laptop.context.close();
      await phone.context.close();
    }
  });

  it('deletes a message for me and clears the chat on all my devices; the other person keeps everything', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    await bob.client.send(chat.id, { text: 'keep this' });
    await bob.client.send(chat.id, { text: 'hide this' });
    const laptop = await signedIn(browser, server, alice);
    const phone = await signedIn(browser, server, alice);
    try {
      const url = `${server.url}/chats/${encodeURIComponent(chat.id)}`;
      await laptop.page.goto(url);
      await phone.page.goto(url);
      await bubble(phone.page, 'hide this').waitFor();
      const menu = await openActions(laptop.page, 'hide this');
      await menu.getByRole('menuitem', { name: 'Delete for me' }).click();
      await laptop.page.getByRole('dialog', { name: 'Delete this message for you?' }).getByRole('button', { name: 'Delete for me' }).click();
      await bubble(laptop.page, 'hide this').waitFor({ state: 'detached' });
      await bubble(phone.page, 'hide this').waitFor({ state: 'detached' });
      await bubble(phone.page, 'keep this').waitFor();

      await chatOption(laptop.page, 'Clear chat');
      await laptop.page.getByRole('dialog', { name: 'Clear this chat?' }).getByRole('button', { name: 'Clear chat' }).click();
      await bubble(laptop.page, 'keep this').waitFor({ state: 'detached' });
      await bubble(phone.page, 'keep this').waitFor({ state: 'detached' });
      await bob.client.send(chat.id, { text: 'after the clear' });
      await bubble(phone.page, 'after the clear').waitFor();
      // After a reload too, only what came after.
      await laptop.page.reload();
      await bubble(laptop.page, 'after the clear').waitFor();
      assert.equal(await bubble(laptop.page, 'keep this').count(), 0);
      assert.deepEqual(
        (await bob.client.history(chat.id)).messages.map((m) => m.text),
        ['keep this', 'hide this', 'after the clear'],
      );
      assert.deepEqual([...laptop.errors, ...phone.errors], []);
    } finally {
      await laptop.context.close();
      await phone.context.close();
    }
  });

  it("reports and blocks an account from the chat menu; the owner deletes a group and it leaves every member's list", async () => {
    const [alice, spammer, carol] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const chat = await spammer.client.openDirect(alice.handle);
    await spammer.client.send(chat.id, { text: 'cheap watches' });
    const group = await alice.client.createConversation({ kind: 'group', title: 'Short-lived', members: [carol.handle] });
    const a = await signedIn(browser, server, alice);
    const c = await signedIn(browser, server, carol);
    try {
      await a.page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      await chatOption(a.page, `Report @${spammer.handle}`);
      const dialog = a.page.getByRole('dialog', { name: `Report @${spammer.handle}` });
      await dialog.getByRole('radio', { name: /Spam or scam/ }).check();
      await dialog.getByRole('checkbox', { name: `Also block @${spammer.handle}` }).check();
      await dialog.getByRole('button', { name: 'Report' }).click();
      await a.page.getByText(`@${spammer.handle} is blocked.`, { exact: false }).waitFor();
      const { reports } = await alice.client.myReports();
      assert.equal(reports.length, 1);
      assert.equal(reports[0]!.reason, 'spam');
      assert.deepEqual((await alice.client.blocks()).map((b) => b.handle), [spammer.handle]);
      await assert.rejects(spammer.client.send(chat.id, { text: 'still there?' }), (err: { code?: string }) => err.code === 'forbidden');

      const carolsRow = c.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Short-lived/ });
      await carolsRow.waitFor();
      await a.page.goto(`${server.url}/chats/${encodeURIComponent(group.id)}`);
      await chatOption(a.page, 'Delete group');
      await a.page.getByRole('dialog', { name: 'Delete Short-lived?' }).getByRole('button', { name: 'Delete group' }).click();
      await a.page.getByRole('heading', { name: 'Chats' }).waitFor();
      await carolsRow.waitFor({ state: 'detached' });
      await c.page.getByText('You were removed from a conversation.').waitFor();
      assert.equal((await carol.client.conversations()).some((x) => x.id === group.id), false);
      assert.deepEqual([...a.errors, ...c.errors], []);
    } finally {
      await a.context.close();
      await c.context.close();
    }
  });

  it('pins a message into a bar that jumps to it, and stars messages into my own Starred list', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    await bob.client.send(chat.id, { text: 'meet at noon' });
    for (let i = 0; i < 40; i++) await alice.client.send(chat.id, { text: `filler ${i}` });
    const a = await signedIn(browser, server, alice);
    const b = await signedIn(browser, server, bob);
    try {
      const url = `${server.url}/chats/${encodeURIComponent(chat.id)}`;
      await a.page.goto(url);
      await b.page.goto(url);
      await bubble(a.page, 'filler 39').waitFor();
      // Scrolled up to it on Alice's side; Bob's view stays at the bottom.
      await bubble(a.page, 'meet at noon').scrollIntoViewIfNeeded();
      const menu = await openActions(a.page, 'meet at noon');
      await menu.getByRole('menuitem', { name: 'Pin', exact: true }).click();
      const bar = b.page.getByRole('button', { name: /^Pinned message: meet at noon/ });
      await bar.waitFor();
      const log = messageLog(b.page);
      const inView = async () => {
        const [box, frame] = [await bubble(b.page, 'meet at noon').boundingBox(), await log.boundingBox()];
        return Boolean(box && frame && box.y >= frame.y - 1 && box.y + box.height <= frame.y + frame.height + 1);
      };
      assert.equal(await inView(), false, 'the pinned message starts out of view');
      await bar.click();
      for (let i = 0; i < 50 && !(await inView()); i++) await b.page.waitForTimeout(100);
      assert.equal(await inView(), true, 'the bar jumps to the pinned message');
      assert.deepEqual((await bob.client.pins(chat.id)).map((p) => p.message.text), ['meet at noon']);

      const starMenu = await openActions(a.page, 'meet at noon');
      await starMenu.getByRole('menuitem', { name: 'Star', exact: true }).click();
      await bubble(a.page, 'meet at noon').getByText('Starred', { exact: false }).waitFor();
      await a.page.getByRole('button', { name: 'Starred messages' }).click();
      const dialog = a.page.getByRole('dialog', { name: 'Starred messages' });
      await dialog.getByRole('button', { name: /meet at noon/ }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.deepEqual((await alice.client.starred()).map((s) => s.message.text), ['meet at noon']);
      assert.deepEqual(await bob.client.starred(), []);
      assert.deepEqual([...a.errors, ...b.errors], []);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('keeps a draft across a reload, edits my last message with the Up arrow, and takes files dropped on the chat', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const other = await alice.client.createConversation({ kind: 'group', title: 'Typos', members: [bob.handle] });
    const typo = await alice.client.send(other.id, { text: 'see you at noom' });
    const a = await signedIn(browser, server, alice);
    try {
      await a.page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      const composer = a.page.getByLabel('Message', { exact: true });
      await composer.fill('an unfinished thought');
      for (let i = 0; i < 50 && (await alice.client.drafts()).length === 0; i++) await a.page.waitForTimeout(100);
      assert.deepEqual((await alice.client.drafts()).map((d) => d.text), ['an unfinished thought']);
      await a.page.reload();
      const reloaded = a.page.getByLabel('Message', { exact: true });
      await reloaded.waitFor();
      // The drafts come from the server after the page loads (they follow me across devices):
      // the box fills in once they arrive.
      for (let i = 0; i < 50 && (await reloaded.inputValue()) === ''; i++) await a.page.waitForTimeout(100);
      assert.equal(await reloaded.inputValue(), 'an unfinished thought');

      await a.page.goto(`${server.url}/chats/${encodeURIComponent(other.id)}`);
      await bubble(a.page, 'see you at noom').waitFor();
      const box = a.page.getByLabel('Message', { exact: true });
      await box.focus();
      await a.page.keyboard.press('ArrowUp');
      await a.page.getByText('Editing message').waitFor();
      assert.equal(await box.inputValue(), 'see you at noom');
      await box.fill('see you at noon');
      await a.page.keyboard.press('Enter');
      await bubble(a.page, 'see you at noon').waitFor();
      assert.equal((await alice.client.message(typo.id)).text, 'see you at noon');

      // A file dragged from the desktop onto the chat joins the attachments, as the attach button's do.
      const files = await a.page.evaluateHandle(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['%PDF-1.4 minimal'], 'notes.pdf', { type: 'application/pdf' }));
        return dt;
      });
      await a.page.dispatchEvent('.chat', 'dragover', { dataTransfer: files });
      await a.page.dispatchEvent('.chat', 'drop', { dataTransfer: files });
      await a.page.getByRole('list', { name: 'Attachments' }).getByRole('listitem').first().waitFor();
      assert.equal(await a.page.getByRole('button', { name: 'Remove notes.pdf' }).count(), 1);
      assert.deepEqual(a.errors, []);
    } finally {
      await a.context.close();
    }
  });

  it('edits a photo\'s caption from its menu, and removes it; the photo stays and the other person sees each change', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const png = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#3a7' } }).png().toBuffer();
    const upload = await alice.client.upload(png, { filename: 'meadow.png' });
    await alice.client.waitForMedia(upload.id);
    const photo = await alice.client.send(chat.id, { text: 'the meadow', media: [upload.id] });
    const a = await signedIn(browser, server, alice);
    try {
      const page = a.page;
      await page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      const menu = await openActions(page, 'the meadow');
      await menu.getByRole('menuitem', { name: 'Edit caption' }).click();
      await page.getByText('Editing caption').waitFor();
      const box = page.getByLabel('Message', { exact: true });
      await box.fill('the meadow in June');
      await page.getByRole('button', { name: 'Save' }).click();
      await bubble(page, 'the meadow in June').waitFor();
      assert.equal((await bob.client.message(photo.id)).text, 'the meadow in June');
      // Emptied, the caption goes and the photo stays; the menu then offers to add one.
      await (await openActions(page, 'the meadow in June')).getByRole('menuitem', { name: 'Edit caption' }).click();
      await box.fill('');
      await page.getByRole('button', { name: 'Save' }).click();
      await bubble(page, 'the meadow in June').waitFor({ state: 'detached' });
      const seen = await bob.client.message(photo.id);
      assert.equal(seen.text, null);
      assert.equal(seen.media.length, 1);
      const row = messageLog(page).locator(`[data-message-id="${photo.id}"]`);
      await row.hover();
      await row.getByRole('button', { name: 'Message actions' }).click();
      await page.getByRole('menu').getByRole('menuitem', { name: 'Add a caption' }).waitFor();
    } finally {
      await a.context.close();
    }
  });
});
