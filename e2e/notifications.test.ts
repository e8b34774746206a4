/**
 * Not missing a message, in a real browser against the real server: a message arriving in a
 * chat that is not the open one shows a toast (or a system notification, once permitted) and
 * bumps the unread count in the tab's title; a muted chat stays quiet. The service worker shows
 * a notification for a push — fetching the text with the device's own session, since the push
 * carries none — or only "New message" when it cannot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PushPayload } from '@mmd/contracts';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

/** Notifications the page made with `new Notification` (recorded by an init script). */
async function recordedNotifications(page: Page): Promise<{ title: string; body: string }[]> {
  return page.evaluate(() => (window as unknown as { __notifications: { title: string; body: string }[] }).__notifications);
}

async function shownByWorker(page: Page): Promise<{ title: string; body: string; tag: string }[]> {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
  });
}

/** The worker's notifications once there are some (it fetches the message first). */
async function awaitShown(page: Page): Promise<{ title: string; body: string; tag: string }[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const shown = await shownByWorker(page);
    if (shown.length > 0 || Date.now() > deadline) return shown;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('notifications in the messenger', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('a message in another chat shows a toast and bumps the title count; a muted chat stays quiet', async () => {
    const [alice, bob, carol, dave] = await Promise.all([server.signUp(), server.signUp(), server.signUp(), server.signUp()]);
    const withBob = await alice.client.openDirect(bob.handle);
    const withCarol = await alice.client.openDirect(carol.handle);
    const withDave = await alice.client.openDirect(dave.handle);
    await alice.client.updateChatSettings(withDave.id, { mute: 'always' });
    const { context, page, errors } = await signedIn(browser, server, alice);
    try {
      await page.goto(`${server.url}/chats/${encodeURIComponent(withCarol.id)}`);
      await page.getByRole('heading', { name: `@${carol.handle}` }).waitFor();
      await page.waitForFunction(() => document.title === 'Messages · MMD');
      await dave.client.send(withDave.id, { text: 'muted chatter' });
      await bob.client.send(withBob.id, { text: 'are you coming tonight?' });
      // Without notification permission the alert is a toast in the page.
      await page.getByRole('status').filter({ hasText: `@${bob.handle}: are you coming tonight?` }).waitFor();
      // Both count as unread (the badge counts muted chats too); only bob's made a sound and a toast.
      await page.waitForFunction(() => document.title === '(2) Messages · MMD');
      assert.equal(await page.getByRole('status').filter({ hasText: 'muted chatter' }).count(), 0);
      // A message in the open chat is read as it arrives: no alert, no count.
      await carol.client.send(withCarol.id, { text: 'in the open chat' });
      await page.getByRole('log', { name: 'Messages' }).getByText('in the open chat').waitFor();
      assert.equal(await page.getByRole('status').filter({ hasText: 'in the open chat' }).count(), 0);
      assert.equal(await page.title(), '(2) Messages · MMD');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('Settings turns alerts off (and on again) for this device: the count still shows, no toast', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const withBob = await alice.client.openDirect(bob.handle);
    const { context, page } = await signedIn(browser, server, alice);
    try {
      await page.goto(`${server.url}/settings`);
      const box = page.getByRole('group', { name: 'Notifications' });
      const notify = box.getByRole('checkbox', { name: 'Notify me of new messages' });
      assert.equal(await notify.isChecked(), true);
      assert.equal(await box.getByRole('checkbox', { name: 'Play a sound' }).isChecked(), true);
      assert.equal(await box.getByRole('checkbox', { name: 'Show message previews in pushes' }).isChecked(), false);
      await notify.uncheck();
      assert.equal(await box.getByRole('checkbox', { name: 'Play a sound' }).isDisabled(), true);
      await page.goto(server.url);
      await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`@${bob.handle}`) }).waitFor();
      await bob.client.send(withBob.id, { text: 'quietly now' });
      // The count and the alert come from the same update: once the title shows it, a toast would be there.
      await page.waitForFunction(() => document.title === '(1) Messages · MMD');
      assert.equal(await page.getByRole('status').filter({ hasText: 'quietly now' }).count(), 0);
      await page.goto(`${server.url}/settings`);
      await page.getByRole('group', { name: 'Notifications' }).getByRole('checkbox', { name: 'Notify me of new messages' }).check();
      await page.goto(server.url);
      await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`@${bob.handle}`) }).waitFor();
      await bob.client.send(withBob.id, { text: 'loud again' });
      await page.getByRole('status').filter({ hasText: `@${bob.handle}: loud again` }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('with notifications allowed, a message arriving while the person is elsewhere is a system notification', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const withBob = await alice.client.openDirect(bob.handle);
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: server.url });
    await context.addInitScript((token) => {
      if (!window.localStorage.getItem('mmd.token')) window.localStorage.setItem('mmd.token', token);
    }, alice.token);
    // Plain JavaScript (a class compiled by the test's loader would call its helpers, absent in the page).
    await context.addInitScript({
      content: `
        window.__notifications = [];
        const Real = window.Notification;
        class Recording extends Real {
          constructor(title, options) {
            super(title, options);
            window.__notifications.push({ title, body: (options && options.body) || '' });
          }
        }
        Object.defineProperty(window, 'Notification', { value: Recording, configurable: true, writable: true });
      `,
    });
    const page = await context.newPage();
    try {
      await page.goto(server.url);
      // The list is loaded (the message must arrive live, not in the first snapshot).
      await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`@${bob.handle}`) }).waitFor();
      await bob.client.send(withBob.id, { text: 'ping from bob' });
      await page.waitForFunction(() => (window as unknown as { __notifications: unknown[] }).__notifications.length > 0);
      assert.deepEqual(await recordedNotifications(page), [{ title: `@${bob.handle}`, body: 'ping from bob' }]);
      await page.waitForFunction(() => document.title === '(1) Messages · MMD');
    } finally {
      await context.close();
    }
  });

  it('the service worker shows a pushed message, fetching its text with the device session, else "New message"', async () => {
    const [alice, bob] = await Promise.all([server.signUp(), server.signUp()]);
    const withBob = await alice.client.openDirect(bob.handle);
    const sent = await bob.client.send(withBob.id, { text: 'see you at eight' });
    const { context, page: app } = await signedIn(browser, server, alice);
    await context.grantPermissions(['notifications'], { origin: server.url });
    try {
      // A blank tab watches the context's service workers; the app's own tab closes later, so
      // the worker sees MMD closed (an open, focused app alerts by itself).
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      const registrationId = new Promise<string>((resolve) => {
        cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
          const mine = registrations.find((r) => r.scopeURL === `${server.url}/` && !r.isDeleted);
          if (mine) resolve(mine.registrationId);
        });
      });
      await cdp.send('ServiceWorker.enable');
      // What turning notifications on does, short of a browser push service (none runs offline):
      // the worker is registered and the session left where it can read it.
      await app.evaluate(async (token) => {
        await navigator.serviceWorker.register('/sw.js', { scope: '/' });
        await navigator.serviceWorker.ready;
        await (await caches.open('mmd-session')).put('/__mmd/session-token', new Response(token));
      }, alice.token);
      // Off the app before closing it: a closing tab can still be listed among the worker's
      // windows for a moment, and an app tab there, focused, means "the app alerts by itself".
      await app.goto(`${server.url}/healthz`);
      await app.close();
      const payload: PushPayload = { v: 1, type: 'message', conversation_id: withBob.id, message_id: sent.id, unread: 1 };
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: await registrationId, data: JSON.stringify(payload) });
      // A page of the origin that is not the app, to read what the worker showed (the worker
      // leaves alerts to a focused app page, and every headless page counts as focused).
      await page.goto(`${server.url}/healthz`);
      assert.deepEqual(await awaitShown(page), [{ title: `@${bob.handle}`, body: 'see you at eight', tag: `chat:${withBob.id}` }]);

      // Signed out (the session gone from the worker's reach): it cannot read the message.
      await page.evaluate(async () => {
        for (const n of await (await navigator.serviceWorker.ready).getNotifications()) n.close();
        await (await caches.open('mmd-session')).delete('/__mmd/session-token');
      });
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: await registrationId, data: JSON.stringify(payload) });
      assert.deepEqual(await awaitShown(page), [{ title: 'MMD', body: 'New message', tag: `chat:${withBob.id}` }]);
    } finally {
      await context.close();
    }
  });
});
