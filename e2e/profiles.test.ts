/**
 * Who people are, in a real browser against the real server: editing one's display name, about
 * line and photo in Settings, and the other person seeing them live in the chat list, the chat
 * header and a group's member list and senders.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { TestServer } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

/** Waits until the image has loaded and returns its natural size. */
async function loadedSize(page: Page, selector: string) {
  const img = page.locator(selector).first();
  await img.waitFor();
  await page.waitForFunction((el) => el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0, await img.elementHandle());
  return img.evaluate((el) => [(el as HTMLImageElement).naturalWidth, (el as HTMLImageElement).naturalHeight]);
}

describe('profiles in the messenger', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('a new name, about line and photo set in Settings reach the other person live', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await bob.client.openDirect(alice.handle);
    await bob.client.send(chat.id, { text: 'hi there' });
    const group = await bob.client.createConversation({ kind: 'group', title: 'Climbers', members: [alice.handle] });
    await alice.client.send(group.id, { text: 'hello climbers' });
    const a = await signedIn(browser, server, alice);
    const b = await signedIn(browser, server, bob);
    try {
      // Bob has the chat open: for now it is titled with Alice's handle, initials for a photo.
      await b.page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      await b.page.getByRole('heading', { name: `@${alice.handle}`, level: 2 }).waitFor();

      await a.page.goto(`${server.url}/settings`);
      await a.page.getByLabel('Display name').fill('  Alice Liddell  ');
      await a.page.getByLabel('About').fill('Down the rabbit hole 🐇');
      await a.page.getByRole('button', { name: 'Save profile' }).click();
      await a.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      const photo = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#e07020' } }).jpeg().withExif({ IFD0: { Make: 'SecretCam' } }).toBuffer();
      await a.page.getByLabel('Add photo').setInputFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: photo });
      await a.page.getByRole('button', { name: 'Remove photo' }).waitFor();
      // Her own preview is the square photo.
      assert.deepEqual(await loadedSize(a.page, '.profile-photo-row img.avatar'), [320, 320]);
      const mine = await alice.client.profiles.mine();
      assert.equal(mine.display_name, 'Alice Liddell');
      assert.equal(mine.about, 'Down the rabbit hole 🐇');

      // Bob sees the name in the header and the chat list, and her photo, without reloading.
      await b.page.getByRole('heading', { name: 'Alice Liddell', level: 2 }).waitFor();
      await b.page.getByRole('link', { name: /Alice Liddell/ }).waitFor();
      assert.deepEqual(await loadedSize(b.page, '.chat-head img.avatar'), [96, 96]);
      assert.deepEqual(await loadedSize(b.page, '.chat-link img.avatar'), [96, 96]);

      // In the group: her messages and the member list carry her name beside the handle.
      await b.page.goto(`${server.url}/chats/${encodeURIComponent(group.id)}`);
      await b.page.locator('.sender').filter({ hasText: 'Alice Liddell' }).first().waitFor();
      await b.page.getByRole('button', { name: 'Members' }).click();
      const members = b.page.getByRole('dialog');
      await members.getByText('Alice Liddell').waitFor();
      assert.deepEqual(await loadedSize(b.page, '.members img.avatar'), [96, 96]);

      // Removing the photo puts initials back for Bob.
      await a.page.getByRole('button', { name: 'Remove photo' }).click();
      await a.page.getByLabel('Add photo').waitFor({ state: 'attached' });
      await b.page.keyboard.press('Escape');
      await b.page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      await b.page.locator('.chat-head span.avatar').filter({ hasText: 'AL' }).waitFor();
      assert.deepEqual(a.errors, []);
      assert.deepEqual(b.errors, []);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it("a direct chat's header shows online and last seen, hidden both ways by the last-seen setting", async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const chat = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice);
    try {
      await a.page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      const header = a.page.locator('.chat-head');
      await header.getByText('Direct chat').waitFor();
      // Bob opens the app: Alice sees him online (the header asks every 10 s).
      const b = await signedIn(browser, server, bob);
      await header.getByText('online', { exact: true }).waitFor({ timeout: 15_000 });
      // He closes it: "last seen today at …".
      await b.context.close();
      await header.getByText(/^last seen today at \d{1,2}:\d{2}/).waitFor({ timeout: 15_000 });
      // Bob hides his last seen: Alice sees neither.
      await bob.client.setPrivacy({ last_seen: 'nobody' });
      await a.page.reload();
      await header.getByText('Direct chat').waitFor();
      assert.equal(await header.getByText(/last seen|online/).count(), 0);
      // Both ways: Bob shares again, but Alice now hides hers in Settings, so she cannot see his.
      await bob.client.setPrivacy({ last_seen: 'everyone' });
      await a.page.reload();
      await header.getByText(/^last seen today/).waitFor();
      await a.page.goto(`${server.url}/settings`);
      await a.page.getByRole('group', { name: 'Who can see when I am online and last seen' }).getByRole('radio', { name: 'Nobody' }).check();
      const hidden = async () => (await alice.client.privacy()).last_seen === 'nobody';
      for (let i = 0; i < 50 && !(await hidden()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal((await alice.client.privacy()).last_seen, 'nobody');
      await a.page.goto(`${server.url}/chats/${encodeURIComponent(chat.id)}`);
      await header.getByText('Direct chat').waitFor();
      assert.equal(await header.getByText(/last seen|online/).count(), 0);
      assert.deepEqual(a.errors, []);
    } finally {
      await a.context.close();
    }
  });

  it('finds people by a word of their name in "New chat" and opens a chat with the one picked', async () => {
    const [alice, bob, carl] = await Promise.all([server.signUp(), server.signUp(), server.signUp()]);
    const word = `Zebulon${process.pid}`;
    await bob.client.profiles.update({ display_name: `${word} Builder` });
    await bob.client.profiles.setPhoto(await sharp({ create: { width: 200, height: 200, channels: 3, background: '#30a050' } }).png().toBuffer(), 'image/png');
    await carl.client.profiles.update({ display_name: `Carl ${word}son` });
    const a = await signedIn(browser, server, alice);
    try {
      await a.page.getByRole('button', { name: 'New chat' }).click();
      const dialog = a.page.getByRole('dialog', { name: 'New chat' });
      await dialog.getByLabel('Their handle').fill('Ze');
      await dialog.getByText('three letters of a name').waitFor();
      await dialog.getByLabel('Their handle').fill(word.slice(0, 5).toLowerCase());
      const found = dialog.getByRole('region', { name: 'People found' });
      const pickBob = found.getByRole('button', { name: `Message ${word} Builder @${bob.handle}` });
      await pickBob.waitFor();
      // A prefix of any word of the name: "Carl Zebulon…son" is found too.
      await found.getByRole('button', { name: new RegExp(`^Message Carl ${word}son`) }).waitFor();
      assert.deepEqual(await loadedSize(a.page, '.people-found img.avatar'), [96, 96]);
      await pickBob.click();
      await a.page.getByRole('heading', { name: `${word} Builder`, level: 2 }).waitFor();
      assert.equal((await alice.client.conversations()).filter((c) => c.kind === 'direct' && c.peer?.account_id === bob.accountId).length, 1);
      assert.deepEqual(a.errors, []);
    } finally {
      await a.context.close();
    }
  });

  it('the theme chosen in Settings applies at once, survives a reload, and "system" follows the system', async () => {
    const alice = await server.signUp();
    const a = await signedIn(browser, server, alice);
    const rootBackground = () => a.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    try {
      await a.page.emulateMedia({ colorScheme: 'light' });
      await a.page.goto(`${server.url}/settings`);
      const theme = a.page.getByRole('group', { name: 'Theme' });
      assert.equal(await theme.getByRole('radio', { name: 'Same as the system' }).isChecked(), true);
      const light = 'rgb(246, 247, 249)';
      const dark = 'rgb(15, 18, 22)';
      assert.equal(await rootBackground(), light);
      await theme.getByRole('radio', { name: 'Dark' }).check();
      assert.equal(await rootBackground(), dark);
      await a.page.reload();
      assert.equal(await rootBackground(), dark, 'kept across a reload');
      assert.equal(await a.page.getByRole('group', { name: 'Theme' }).getByRole('radio', { name: 'Dark' }).isChecked(), true);
      // Light wins over a dark system; "system" then follows it.
      await a.page.emulateMedia({ colorScheme: 'dark' });
      await a.page.getByRole('group', { name: 'Theme' }).getByRole('radio', { name: 'Light' }).check();
      assert.equal(await rootBackground(), light);
      await a.page.getByRole('group', { name: 'Theme' }).getByRole('radio', { name: 'Same as the system' }).check();
      assert.equal(await rootBackground(), dark);
      await a.page.emulateMedia({ colorScheme: 'light' });
      assert.equal(await rootBackground(), light);
      assert.deepEqual(a.errors, []);
    } finally {
      await a.context.close();
    }
  });
});
