/**
 * What a new user stumbled on, in a real browser (Debian's Chromium through playwright-core)
 * against the real server: message menus that ran off a phone's screen, a forward toasted while the
 * server refused it, messages that arrived unseen while the reader was scrolled up, outcomes of
 * reports the reporter never learned, and a handful of smaller rough edges.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { locateBinaries } from '@mmd/media';
import type { Message } from '@mmd/sdk';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { DATA, signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import {
  bubble,
  closeBrowserSuite,
  DESKTOP,
  messageLog,
  openActions,
  openBrowserSuite,
  PHONE,
  signedIn,
  skipBrowser,
} from './browser.ts';

/** Every notice (toast) shown now. */
async function toasts(page: Page): Promise<string[]> {
  return page.locator('.notices .notice span').allTextContents();
}

describe('the messenger, as a new user finds it', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('keeps every message menu on a phone screen, for my wide messages and for others’', {
    timeout: 90_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const direct = await alice.client.openDirect(bob.handle);
    const wide =
      'A long message that fills the width of a phone screen from one side to the other, and then some more words';
    await alice.client.send(direct.id, { text: 'short one from alice' });
    await bob.client.send(direct.id, { text: wide });
    await bob.client.send(direct.id, { text: 'ok' });
    await alice.client.send(direct.id, { text: 'last word from alice' });

    const b = await signedIn(browser, server, bob, PHONE);
    await b.page.goto(`${server.url}/chats/${direct.id}`);
    for (const text of [wide, 'ok', 'short one from alice', 'last word from alice']) {
      const menu = await openActions(b.page, text);
      const box = await menu.boundingBox();
      assert.ok(box, 'the menu is laid out');
      assert.ok(box.x >= 0, `the menu for “${text.slice(0, 20)}” starts on screen (x = ${box.x})`);
      assert.ok(
        box.x + box.width <= PHONE.width,
        `the menu for “${text.slice(0, 20)}” ends on screen (right = ${box.x + box.width})`,
      );
      // Its items are all visible inside the message list (not cut off by the composer).
      const list = await messageLog(b.page).boundingBox();
      assert.ok(list);
      assert.ok(
        box.y >= list.y - 1 && box.y + box.height <= list.y + list.height + 1,
        `the menu for “${text.slice(0, 20)}” is inside the message list`,
      );
      await b.page.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
    }
    assert.deepEqual(b.errors, []);
    await b.context.close();
  });

  it('says “Forwarded” only when the server forwarded it; a failed message offers no forward, reply or reaction', {
    timeout: 90_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const direct = await alice.client.openDirect(bob.handle);
    const group = await bob.client.createConversation({ kind: 'group', title: 'Forward target' });
    const original = await alice.client.send(direct.id, { text: 'soon to be deleted' });

    const b = await signedIn(browser, server, bob, DESKTOP);
    await b.page.goto(`${server.url}/chats/${direct.id}`);
    const menu = await openActions(b.page, 'soon to be deleted');
    await menu.getByRole('menuitem', { name: 'Forward' }).click();
    const dialog = b.page.getByRole('dialog', { name: 'Forward to…' });
    await dialog.waitFor();
    // Alice deletes it while Bob picks where to forward it: the server answers 404.
    await alice.client.deleteMessage(original.id);
    await dialog.getByRole('button', { name: 'Forward target' }).click();
    await b.page.getByText(/^Not forwarded/).waitFor();
    assert.deepEqual(
      (await toasts(b.page)).filter((t) => /^Forwarded/.test(t)),
      [],
      'no “Forwarded” toast for a forward the server refused',
    );
    assert.equal((await bob.client.history(group.id)).messages.length, 0, 'nothing was forwarded');

    // A message whose send failed (here: refused by the server after the fact) offers no forward,
    // reply or reaction — only what still makes sense.
    const a = await signedIn(browser, server, alice, DESKTOP);
    await a.page.goto(`${server.url}/chats/${direct.id}`);
    await alice.client.send(direct.id, { text: 'this one failed' });
    await bubble(a.page, 'this one failed').waitFor();
    // Make it what a message whose media was blocked is: failed, and (never delivered) without a
    // seq of its own — a private negative placeholder, shown to its sender after the message before.
    const failed = (await alice.client.history(direct.id)).messages.find((m) => m.text === 'this one failed');
    assert.ok(failed);
    await server.db.db
      .updateTable('messages')
      .set({ status: 'failed', seq: -1000, held_after: failed.seq - 1 })
      .where('id', '=', failed.id)
      .execute();
    await a.page.reload();
    await bubble(a.page, 'this one failed').getByText('Not delivered').waitFor();
    const failedMenu = await openActions(a.page, 'this one failed');
    const items = await failedMenu.getByRole('menuitem').allTextContents();
    for (const refused of ['Forward', 'Reply'])
      assert.ok(!items.includes(refused), `a failed message offers no ${refused} (${items.join(', ')})`);
    assert.equal(
      await failedMenu.getByRole('menuitem', { name: /^React / }).count(),
      0,
      'a failed message offers no reaction',
    );
    assert.ok(items.includes('Delete for everyone'));
    await a.context.close();
    await b.context.close();
  });

  it('shows a “new messages” pill and an unread divider for a message that arrives while I am scrolled up; the open chat never flashes a badge', {
    timeout: 90_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const direct = await alice.client.openDirect(bob.handle);
    let last = 0;
    for (let i = 1; i <= 40; i++) last = (await alice.client.send(direct.id, { text: `filler ${i}` })).seq;
    await bob.client.markRead(direct.id, last);

    const b = await signedIn(browser, server, bob, DESKTOP);
    await b.page.goto(`${server.url}/chats/${direct.id}`);
    await bubble(b.page, 'filler 40').waitFor();
    assert.equal(await b.page.locator('.unread-divider').count(), 0, 'nothing unread, no divider');
    // Watch the open chat's entry in the list for any badge, however brief.
    await b.page.evaluate(() => {
      const w = window as unknown as { badges: number };
      w.badges = 0;
      new MutationObserver(() => {
        if (document.querySelector('.chat-link.active .badge')) w.badges++;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    // At the bottom, a new message simply shows: no pill.
    await alice.client.send(direct.id, { text: 'while at the bottom' });
    await bubble(b.page, 'while at the bottom').waitFor();
    assert.equal(await b.page.getByRole('button', { name: /new message/ }).count(), 0);

    // Scrolled up, the next one is announced by a pill and marked by a divider. On a busy machine
    // the message can arrive before the list's scroll event does: hold that event back until the
    // pill shows, so the list must judge from where it really is.
    const log = messageLog(b.page);
    await log.evaluate((el) => {
      const w = window as unknown as { holdScroll: (e: Event) => void };
      w.holdScroll = (e) => {
        if (e.target === el) e.stopPropagation();
      };
      window.addEventListener('scroll', w.holdScroll, { capture: true });
      el.scrollTop = 0;
    });
    await b.page.waitForTimeout(300);
    await alice.client.send(direct.id, { text: 'arrived while you were up there' });
    const pill = b.page.getByRole('button', { name: /^1 new message/ });
    await pill.waitFor();
    await b.page.evaluate(() => {
      window.removeEventListener('scroll', (window as unknown as { holdScroll: (e: Event) => void }).holdScroll, { capture: true });
    });
    const fresh = bubble(b.page, 'arrived while you were up there');
    const logBox = await log.boundingBox();
    const freshBox = await fresh.boundingBox();
    assert.ok(logBox && freshBox);
    assert.ok(freshBox.y > logBox.y + logBox.height, 'the reader stays where they were');
    assert.equal(await log.evaluate((el) => el.scrollTop), 0);
    const divider = b.page.locator('.unread-divider');
    assert.equal(await divider.count(), 1);
    assert.equal(await divider.textContent(), 'New messages');
    assert.equal(
      await divider.evaluate((el) => el.nextElementSibling?.querySelector('.bubble > .text')?.textContent),
      'arrived while you were up there',
      'the divider sits just above the new message',
    );
    await alice.client.send(direct.id, { text: 'and another' });
    await b.page.getByRole('button', { name: /^2 new messages/ }).waitFor();

    // The pill takes the reader down, and goes.
    await b.page.getByRole('button', { name: /^2 new messages/ }).click();
    await b.page.waitForFunction(() => {
      const el = document.querySelector('[role="log"]');
      return el && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
    });
    await pill.waitFor({ state: 'detached' });
    await b.page.waitForTimeout(500);
    assert.equal(
      await b.page.evaluate(() => (window as unknown as { badges: number }).badges),
      0,
      'the open chat never showed an unread badge',
    );
    assert.deepEqual(b.errors, []);
    await b.context.close();
  });

  it('a reporter who was away finds the outcome under Notices; the sender sees “Removed by moderators” once', {
    timeout: 150_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const moderator = await signUpModerator(server);
    const direct = await alice.client.openDirect(bob.handle);
    const photo = readFileSync(path.join(DATA, 'photos', 'Elephants.jpg'));
    const sent: Message[] = [];
    for (const text of ['elephants', 'elephants again']) {
      const item = await alice.client.upload(photo, { filename: `${text}.jpg`, contentType: 'image/jpeg' });
      assert.equal((await alice.client.waitForMedia(item.id)).status, 'ready');
      sent.push(await alice.client.send(direct.id, { text, media: [item.id] }));
    }
    const polite = await alice.client.send(direct.id, { text: 'a polite message' });
    await bob.client.report({ message_id: sent[0]!.id, reason: 'harassment' });
    await bob.client.report({ message_id: polite.id, reason: 'spam' });

    // Alice has the chat open; Bob is not signed in anywhere while the moderator decides.
    const a = await signedIn(browser, server, alice, DESKTOP);
    await a.page.goto(`${server.url}/chats/${direct.id}`);
    await bubble(a.page, 'elephants again').waitFor();
    const reviews = (await moderator.client.reviews()).reviews;
    await moderator.client.decideReview(reviews.find((r) => r.message?.id === polite.id)!.id, {
      action: 'dismiss',
    });
    await moderator.client.decideReview(reviews.find((r) => r.message?.id === sent[0]!.id)!.id, {
      action: 'takedown',
    });

    // Both copies of the photo go; Alice is told they were removed by moderators (not that she deleted them), once.
    await bubble(a.page, 'elephants again').waitFor({ state: 'detached', timeout: 30_000 });
    await bubble(a.page, 'elephants').waitFor({ state: 'detached' });
    assert.equal(await messageLog(a.page).getByText('Removed by moderators').count(), 2);
    assert.equal(await messageLog(a.page).getByText('This message was deleted').count(), 0);
    const removedToasts = (await toasts(a.page)).filter((t) => /removed/i.test(t));
    assert.deepEqual(
      removedToasts,
      ['Moderators removed your message: it breaks the rules.'],
      'one toast, not one per message',
    );
    // History says so too, after a reload.
    await a.page.reload();
    await messageLog(a.page).getByText('Removed by moderators').first().waitFor();
    assert.equal(await messageLog(a.page).getByText('Removed by moderators').count(), 2);

    // Bob signs in later: a dot on Notices, and both outcomes in the list.
    const b = await signedIn(browser, server, bob, PHONE);
    const notices = b.page.getByRole('button', { name: 'Notices, 2 new' });
    await notices.waitFor();
    await notices.click();
    const dialog = b.page.getByRole('dialog', { name: 'Notices' });
    await dialog.getByText('A moderator removed the message.').waitFor();
    await dialog.getByText('A moderator found no rule broken, so the message stays.').waitFor();
    await dialog.getByText(/You reported a message for harassment or threats/).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await b.page.getByRole('button', { name: 'Notices', exact: true }).waitFor();
    // Seen stays seen after a reload.
    await b.page.reload();
    await b.page.getByRole('button', { name: 'Notices', exact: true }).waitFor();
    for (const x of [a, b]) assert.deepEqual(x.errors, []);
    for (const x of [a, b]) await x.context.close();
  });

  it('explains the handle rule in words, names the device for its browser, and asks with its own dialog, never window.confirm', {
    timeout: 90_000,
  }, async () => {
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    const native: string[] = [];
    page.on('dialog', (d) => {
      native.push(d.message());
      void d.dismiss();
    });
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Handle').fill('bad handle!');
    await page.getByLabel('Password').fill('a long and unusual passphrase 42');
    await page.getByRole('button', { name: 'Create account' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const said = (await alert.textContent()) ?? '';
    assert.match(said, /3 to 32 characters: letters, digits and underscores, starting with a letter/);
    assert.doesNotMatch(said, /pattern|\^\[|\{2,31\}/, 'no regular expression');

    const handle = `newbie${Date.now() % 1_000_000}`;
    await page.getByLabel('Handle').fill(handle);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    const token = await page.evaluate(() => window.localStorage.getItem('mmd.token'));
    assert.ok(token);
    const me = server.anonymous.as(token);
    assert.deepEqual(
      (await me.devices()).map((d) => d.name),
      ['Chrome on Linux'],
    );

    // Deleting asks in the app's own dialog; Cancel keeps the message, Delete removes it.
    const friend = await server.signUp();
    const chat = await me.openDirect(friend.handle);
    await me.send(chat.id, { text: 'delete me maybe' });
    await page.goto(`${server.url}/chats/${chat.id}`);
    let menu = await openActions(page, 'delete me maybe');
    await menu.getByRole('menuitem', { name: 'Delete for everyone' }).click();
    const ask = page.getByRole('dialog', { name: 'Delete this message for everyone?' });
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal(await bubble(page, 'delete me maybe').count(), 1, 'Cancel keeps it');
    menu = await openActions(page, 'delete me maybe');
    await menu.getByRole('menuitem', { name: 'Delete for everyone' }).click();
    await ask.getByRole('button', { name: 'Delete', exact: true }).click();
    await messageLog(page).getByText('This message was deleted').waitFor();
    assert.deepEqual(native, [], 'no native confirm() dialog');
    await context.close();
  });

  it('has an icon at /favicon.ico (browsers ask for it on every site)', async () => {
    for (const [url, type] of [
      ['/favicon.ico', 'image/x-icon'],
      ['/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await fetch(`${server.url}${url}`);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('content-type'), type);
      assert.ok((await res.arrayBuffer()).byteLength > 100);
    }
  });

  it('shows a video’s length on its thumbnail as its player does', { timeout: 150_000 }, async () => {
    // 2.6 seconds: rounding said 0:03 on the thumbnail while the player said 0:02.
    const { ffmpeg } = await locateBinaries();
    const scratch = mkdtempSync(path.join(tmpdir(), 'mmd-ux-'));
    const clip = path.join(scratch, 'short.mp4');
    execFileSync(ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
      '-t',
      '2.6',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const item = await alice.client.upload(readFileSync(clip), {
      filename: 'short.mp4',
      contentType: 'video/mp4',
    });
    rmSync(scratch, { recursive: true, force: true });
    const ready = await alice.client.waitForMedia(item.id, { timeoutMs: 90_000 });
    assert.equal(ready.status, 'ready');
    await alice.client.send(chat.id, { text: 'a short clip', media: [item.id] });

    const b = await signedIn(browser, server, bob, DESKTOP);
    await b.page.goto(`${server.url}/chats/${chat.id}`);
    const row = bubble(b.page, 'a short clip');
    const play = row.locator('button.media-hit:enabled[aria-label^="Play "]');
    await play.waitFor({ timeout: 60_000 });
    const badge = (await row.locator('.media-duration').textContent()) ?? '';
    await play.click();
    const video = row.locator('video');
    await video.waitFor();
    await b.page.waitForFunction(
      (el) => Number.isFinite((el as HTMLVideoElement).duration) && (el as HTMLVideoElement).duration > 0,
      await video.elementHandle(),
      { timeout: 30_000 },
    );
    // What Chromium's own controls show: whole seconds, cut (media_control_time_display_element.cc).
    const player = await video.evaluate((el: HTMLVideoElement) => {
      const s = Math.floor(el.duration);
      return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    });
    assert.equal(badge, player, 'the thumbnail and the player agree');
    assert.equal(badge, '0:02');
    await b.context.close();
  });

  it('shows what a reply quotes even when the original is further back than the loaded page', {
    timeout: 90_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const original = await alice.client.send(chat.id, { text: 'shall we meet at the lighthouse?' });
    // More than two pages (50 each) in between: the original is not loaded when the chat opens,
    // even if the list fetches one older page while it settles.
    for (let i = 1; i <= 120; i++) await bob.client.send(chat.id, { text: `chatter ${i}` });
    await bob.client.send(chat.id, { text: 'yes, at noon', reply_to: original.id });

    const a = await signedIn(browser, server, alice, PHONE);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    const reply = bubble(a.page, 'yes, at noon');
    await reply.waitFor();
    await reply.locator('.quote').getByText('shall we meet at the lighthouse?').waitFor();
    assert.equal(await reply.getByText('Reply to an earlier message').count(), 0);
    assert.equal(
      await bubble(a.page, 'shall we meet at the lighthouse?').count(),
      0,
      'the original itself is still not loaded',
    );
    await a.context.close();
  });

  it('keeps “Beginning of the conversation”, the day chip and the unread divider apart at the top of a long chat', {
    timeout: 90_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    for (let i = 0; i < 30; i++) await alice.client.send(chat.id, { text: `line ${i}` });
    const b = await signedIn(browser, server, bob, PHONE);
    await b.page.goto(`${server.url}/chats/${chat.id}`);
    await bubble(b.page, 'line 29').waitFor();
    await messageLog(b.page).evaluate((el) => {
      el.scrollTop = 0;
    });
    const beginning = messageLog(b.page).getByText('Beginning of the conversation');
    await beginning.waitFor();
    const top = await beginning.boundingBox();
    const day = await messageLog(b.page).locator('.day').first().boundingBox();
    assert.ok(top && day);
    assert.ok(
      top.y + top.height <= day.y,
      `“Beginning” (${top.y}–${top.y + top.height}) ends above the day chip (${day.y})`,
    );
    // Bob had not read any of it: the unread divider sits between the two, over neither.
    const divider = await b.page.locator('.unread-divider').boundingBox({ timeout: 5000 });
    assert.ok(divider);
    assert.ok(
      top.y + top.height <= divider.y && divider.y + divider.height <= day.y,
      `the divider (${divider.y}–${divider.y + divider.height}) sits between them`,
    );
    await b.context.close();
  });

  it('finds a channel by @handle in the join form, and by #handle as the CLI used to write it', {
    timeout: 60_000,
  }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const name = `news${Date.now() % 1_000_000}`;
    await alice.client.createConversation({ kind: 'channel', handle: name, title: 'Village news' });
    const b = await signedIn(browser, server, bob, DESKTOP);
    for (const written of [`@${name}`, `#${name}`]) {
      await b.page.getByRole('button', { name: 'New chat' }).click();
      const dialog = b.page.getByRole('dialog', { name: 'New chat' });
      await dialog.getByRole('tab', { name: 'Join a channel' }).click();
      await dialog.getByLabel('Channel handle').fill(written);
      await dialog.getByRole('button', { name: 'Find' }).click();
      await dialog.getByText('Village news').waitFor();
      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'detached' });
    }
    assert.deepEqual(b.errors, []);
    await b.context.close();
  });
});
