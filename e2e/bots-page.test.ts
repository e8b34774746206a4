/**
 * The "Bots & automation" page and the "/" menu, in Chromium against the real server: a person
 * creates a bot (the token shows once and works), sets its commands, rotates the token (the old
 * one dies), registers a webhook to a local receiver that fails, reads the delivery log and
 * replays the failed delivery once the receiver is fixed; then, in a chat with the bot, "/" lists
 * its commands and the keyboard picks one.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MmdClient } from '@mmd/sdk';
import type { Browser } from 'playwright-core';
import { eventually, rejectsWith, type TestServer } from '../apps/server/test/harness.ts';
import { bubble, closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

/** A webhook receiver on loopback that answers what `status` says, and remembers each delivery's webhook-id. */
function receiver() {
  const state = { status: 500, received: [] as { id: string; type: string }[] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      try {
        state.received.push({ id: String(req.headers['webhook-id'] ?? ''), type: (JSON.parse(body) as { type: string }).type });
      } catch {
        // not JSON: still answered
      }
      res.writeHead(state.status).end();
    });
  });
  const url = () => `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return {
    state,
    server,
    /** Listens (once) and gives the receiver's URL. */
    listen: () => new Promise<string>((resolve) => (server.listening ? resolve(url()) : server.listen(0, '127.0.0.1', () => resolve(url())))),
  };
}

describe('the Bots & automation page', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  const hook = receiver();

  before(async () => {
    // Loopback receivers, and a retry window short enough that a failing delivery fails in the test.
    ({ server, browser } = await openBrowserSuite({
      outboundAllowPrivate: true,
      webhookRetryBaseMs: 50,
      webhookRetryMaxDelayMs: 100,
      webhookRetryWindowMs: 600,
    }));
  });
  after(async () => {
    hook.server.close();
    await closeBrowserSuite({ server, browser });
  });

  it('creates a bot, shows its token once, rotates it, sets commands and webhooks, replays a failed delivery; "/" lists the commands', { timeout: 180_000 }, async () => {
    const owner = await server.signUp();
    const fan = await server.signUp();
    const hookUrl = await hook.listen();
    const o = await signedIn(browser, server, owner, DESKTOP);

    // Reached from the header.
    await o.page.getByRole('link', { name: 'Bots', exact: true }).click();
    await o.page.getByRole('heading', { name: 'Bots & automation', level: 1 }).waitFor();
    await o.page.getByText('You have no bots yet.').waitFor();

    // Create: the token shows once, and it is the bot's bearer token.
    const handle = `weather${process.pid}`;
    await o.page.getByLabel('Handle').fill(`@${handle}`);
    await o.page.getByLabel('Name', { exact: true }).fill('Weather');
    await o.page.getByRole('button', { name: 'Create bot' }).click();
    const secret = o.page.getByRole('region', { name: `The token of @${handle}` });
    await secret.waitFor();
    const token = (await secret.locator('code').textContent())?.trim() ?? '';
    const botClient = new MmdClient({ baseUrl: server.url, token });
    const me = await botClient.botMe();
    assert.equal(me.handle, handle);
    await secret.getByRole('button', { name: 'I have saved it' }).click();
    await secret.waitFor({ state: 'detached' });
    const panel = o.page.getByRole('article', { name: new RegExp(`@${handle}`) });
    await panel.waitFor();

    // Commands, one per line.
    await panel.getByText('Commands', { exact: true }).click();
    await panel.getByLabel('Commands, one per line').fill('start - Start over\nhelp - What I can do\nforecast - Tomorrow’s weather');
    await panel.getByRole('button', { name: 'Save commands' }).click();
    await panel.getByText('Saved 3 commands.').waitFor();
    assert.deepEqual(
      (await owner.client.botCommands(me.id)).map((c) => c.command),
      ['start', 'help', 'forecast'],
    );

    // Rotate: after a confirmation, a new token; the old one stops at once.
    await panel.getByRole('button', { name: 'Rotate token' }).click();
    await o.page.getByRole('dialog', { name: `Rotate the token of @${handle}?` }).getByRole('button', { name: 'Rotate token' }).click();
    const rotated = o.page.getByRole('region', { name: `The new token of @${handle}` });
    await rotated.waitFor();
    const newToken = (await rotated.locator('code').textContent())?.trim() ?? '';
    assert.notEqual(newToken, token);
    await rejectsWith(botClient.botMe(), 'unauthenticated', 401);
    assert.equal((await new MmdClient({ baseUrl: server.url, token: newToken }).botMe()).id, me.id);
    await rotated.getByRole('button', { name: 'I have saved it' }).click();

    // A webhook: its signing secret shows once.
    await panel.getByLabel('Webhook URL').fill(hookUrl);
    await panel.getByLabel('Event types (optional)').fill('message.created');
    await panel.getByRole('button', { name: 'Add webhook' }).click();
    const signing = o.page.getByRole('region', { name: `The signing secret of the webhook to ${hookUrl}` });
    await signing.waitFor();
    assert.match((await signing.locator('code').textContent()) ?? '', /^whsec_/);
    await signing.getByRole('button', { name: 'I have saved it' }).click();
    const item = panel.getByRole('listitem').filter({ hasText: hookUrl });
    await item.getByText('Active').waitFor();

    // Someone writes to the bot; the receiver answers 500 until the retry window ends: failed.
    const chat = await fan.client.openDirect(handle);
    await fan.client.send(chat.id, { text: 'hello bot' });
    await eventually('a failed delivery', async () => {
      const [webhook] = await owner.client.webhooks({ bot: me.id });
      const { deliveries } = await owner.client.webhookDeliveries(webhook!.id);
      return deliveries.some((d) => d.status === 'failed');
    }, 30_000);
    await item.getByRole('button', { name: 'Delivery log' }).click();
    const failedRow = item.getByRole('row').filter({ hasText: 'message.created' }).filter({ hasText: 'Failed' });
    await failedRow.waitFor();
    assert.match((await failedRow.textContent()) ?? '', /500/);
    const firstId = hook.state.received.at(-1)?.id;
    assert.ok(firstId, 'the receiver saw the delivery');

    // The receiver is fixed; Replay sends the same delivery (same webhook-id) and it succeeds.
    hook.state.status = 200;
    const before = hook.state.received.length;
    await failedRow.getByRole('button', { name: /^Replay message\.created/ }).click();
    await eventually('the replayed delivery', () => hook.state.received.length > before && hook.state.status === 200, 15_000);
    assert.equal(hook.state.received.at(-1)?.id, firstId, 'a replay keeps the webhook-id');
    await eventually('the log says delivered', async () => {
      await item.getByRole('button', { name: 'Refresh' }).click();
      return (await item.getByRole('row').filter({ hasText: 'Delivered' }).count()) > 0;
    }, 15_000);

    // In a chat with the bot, "/" lists its commands; the keyboard picks one and sends it.
    const f = await signedIn(browser, server, fan, DESKTOP);
    await f.page.goto(`${server.url}/chats/${chat.id}`);
    const composer = f.page.getByLabel('Message', { exact: true });
    await composer.fill('/');
    const menu = f.page.getByRole('listbox', { name: `Commands of @${handle}` });
    await menu.waitFor();
    assert.deepEqual(await menu.getByRole('option').allInnerTexts(), ['/start\nStart over', '/help\nWhat I can do', '/forecast\nTomorrow’s weather']);
    await composer.pressSequentially('f');
    assert.equal(await menu.getByRole('option').count(), 1, 'typing narrows the list');
    await composer.press('Backspace');
    await composer.press('ArrowDown');
    assert.deepEqual(await menu.getByRole('option', { selected: true }).allInnerTexts(), ['/help\nWhat I can do']);
    await composer.press('Enter');
    await bubble(f.page, '/help').waitFor();
    await menu.waitFor({ state: 'detached' });
    const seen = await eventually('the bot receives /help', async () => {
      const page = await new MmdClient({ baseUrl: server.url, token: newToken }).history(chat.id);
      return page.messages.find((m) => m.text === '/help');
    });
    assert.equal(seen.sender_id, fan.accountId);

    // A chat with a person has no "/" menu.
    const other = await fan.client.openDirect(owner.handle);
    await f.page.goto(`${server.url}/chats/${other.id}`);
    await composer.fill('/');
    await f.page.waitForLoadState('networkidle');
    assert.equal(await f.page.getByRole('listbox').count(), 0);

    assert.deepEqual(o.errors, []);
    assert.deepEqual(f.errors, []);
    await o.context.close();
    await f.context.close();
  });

  it('a business sets its own account’s webhooks on the page', { timeout: 90_000 }, async () => {
    const shop = await server.signUp(undefined, { kind: 'business' });
    const hookUrl = await hook.listen();
    const s = await signedIn(browser, server, shop, DESKTOP);
    await s.page.goto(`${server.url}/bots`);
    const own = s.page.getByRole('region', { name: `Webhooks of @${shop.handle}` });
    await own.getByText('No webhooks').waitFor();
    await own.getByLabel('Webhook URL').fill(hookUrl);
    await own.getByRole('button', { name: 'Add webhook' }).click();
    const signing = s.page.getByRole('region', { name: `The signing secret of the webhook to ${hookUrl}` });
    await signing.waitFor();
    assert.match((await signing.locator('code').textContent()) ?? '', /^whsec_/);
    await own.getByRole('listitem').filter({ hasText: hookUrl }).getByText('every event').waitFor();
    const [webhook] = await shop.client.webhooks();
    assert.equal(webhook?.url, hookUrl);
    // Disabled from the page, the server says so.
    await own.getByRole('button', { name: 'Disable' }).click();
    await own.getByRole('button', { name: 'Enable' }).waitFor();
    assert.equal((await shop.client.webhook(webhook!.id)).status, 'disabled');
    assert.deepEqual(s.errors, []);
    await s.context.close();
  });
});
