import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { type TestServer, eventually, newBot, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

/** A web site on loopback: pages with metadata, a picture, a redirect; it counts what it is asked. */
async function startSite() {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
  const hits = new Map<string, number>();
  const site = http.createServer((req, res) => {
    hits.set(req.url ?? '/', (hits.get(req.url ?? '/') ?? 0) + 1);
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    if (path === '/page') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html><head><title>fallback</title>
        <meta property="og:title" content="A page &amp; its &lt;title&gt;">
        <meta property="og:description" content="What the page says">
        <meta property="og:site_name" content="Site">
        <meta property="og:image" content="/pic.png">
        </head><body>${'x'.repeat(600_000)}</body></html>`);
    } else if (path === '/pic.png') {
      res.setHeader('content-type', 'image/png');
      res.end(png);
    } else if (path === '/to-metadata') {
      // Every redirect is checked again: a public page must not bounce the fetcher inward.
      res.statusCode = 302;
      res.setHeader('location', 'http://169.254.169.254/latest/meta-data/');
      res.end();
    } else if (path === '/inward-picture') {
      res.setHeader('content-type', 'text/html');
      res.end('<head><meta property="og:title" content="Inward"><meta property="og:image" content="http://169.254.169.254/pic.png"></head>');
    } else if (path === '/bare') {
      res.setHeader('content-type', 'text/html');
      res.end('<html><head><title>Just a title</title></head></html>');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  return { base, hits, close: () => new Promise<void>((resolve) => site.close(() => resolve())) };
}

onEachDatabase('link previews', (dialect) => {
  let server: TestServer;
  let site: Awaited<ReturnType<typeof startSite>>;
  before(async () => {
    site = await startSite();
    // Tests reach their site on loopback: the operator's setting allows it here.
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true, linkPreviewsPerMinute: 5 } });
  });
  after(async () => {
    await server.close();
    await site.close();
  });

  async function pair() {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    return { alice, bob, chat };
  }

  test('a message with a link gets the page’s title, description and picture (processed by the media engine), in an event and in history', async () => {
    const { alice, bob, chat } = await pair();
    const cursor = await bob.client.updatesState();
    const sent = await alice.client.send(chat.id, { text: `look *here*: ${site.base}/page?a=1 !` });
    assert.equal(sent.link_preview, undefined, 'made later, by a job: never on the request path');
    const message = await eventually('the preview', async () => (await bob.client.message(sent.id)).link_preview, 20_000);
    assert.equal(message.url, `${site.base}/page?a=1`);
    assert.equal(message.title, 'A page & its <title>');
    assert.equal(message.description, 'What the page says');
    assert.equal(message.site_name, 'Site');
    assert.ok(message.image, 'the picture');
    assert.equal(message.image.kind, 'image');
    assert.equal(message.image.status, 'ready');
    // Whoever reads the message may fetch the picture, through MMD (never the site's URL).
    const item = await bob.client.media(message.image.id);
    assert.ok(Object.values(item.renditions ?? {}).length > 0 || JSON.stringify(item).includes('/v1/files/'));
    assert.doesNotMatch(JSON.stringify(item), /127\.0\.0\.1:\d+\/pic/);
    const events = (await bob.client.updates({ cursor })).events.filter((e) => e.type === 'message.link_preview');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type === 'message.link_preview' && events[0]!.data.link_preview?.title, 'A page & its <title>');
    const history = (await bob.client.history(chat.id)).messages;
    assert.equal(history.at(-1)!.link_preview?.title, 'A page & its <title>');
    // The album stays empty: the picture rides beside it.
    assert.deepEqual(history.at(-1)!.media, []);
  });

  test('a link shared again is served from the cache: the page is fetched once', async () => {
    const { alice, bob, chat } = await pair();
    const url = `${site.base}/page?cache=${Date.now()}`;
    const first = await alice.client.send(chat.id, { text: url });
    await eventually('the first preview', async () => (await bob.client.message(first.id)).link_preview, 20_000);
    const second = await bob.client.send(chat.id, { text: `again ${url}` });
    const preview = await eventually('the second preview', async () => (await alice.client.message(second.id)).link_preview, 20_000);
    assert.equal(preview.title, 'A page & its <title>');
    assert.equal(site.hits.get(new URL(url).pathname + new URL(url).search), 1);
  });

  test('the sender removes a preview for everyone; others cannot', async () => {
    const { alice, bob, chat } = await pair();
    const stranger = await server.signUp();
    const sent = await alice.client.send(chat.id, { text: `${site.base}/bare` });
    await eventually('the preview', async () => (await bob.client.message(sent.id)).link_preview, 20_000);
    await rejectsWith(bob.client.removeLinkPreview(sent.id), 'forbidden', 403);
    await rejectsWith(stranger.client.removeLinkPreview(sent.id), 'not_found', 404);
    const cursor = await bob.client.updatesState();
    await alice.client.removeLinkPreview(sent.id);
    assert.equal((await bob.client.message(sent.id)).link_preview, undefined);
    const events = (await bob.client.updates({ cursor })).events.filter((e) => e.type === 'message.link_preview');
    assert.deepEqual(events.map((e) => e.data), [{ message_id: sent.id, link_preview: null }]);
    // An edit that drops the link drops its preview; one keeping it keeps it.
    const kept = await alice.client.send(chat.id, { text: `${site.base}/bare?edit` });
    await eventually('the preview to edit', async () => (await bob.client.message(kept.id)).link_preview, 20_000);
    assert.ok((await alice.client.edit(kept.id, `still ${site.base}/bare?edit`)).link_preview);
    assert.equal((await alice.client.edit(kept.id, 'no link now')).link_preview, undefined);
    assert.equal((await bob.client.message(kept.id)).link_preview, undefined);
    // Again: already gone, answered the same.
    await alice.client.removeLinkPreview(sent.id);
    const plain = await alice.client.send(chat.id, { text: 'no link here' });
    await rejectsWith(alice.client.removeLinkPreview(plain.id), 'not_found', 404);
  });

  test('a Telegram-API bot’s links are previewed unless it turns previews off, as Telegram lets it', async () => {
    const bot = await newBot(server);
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    await person.client.send(chat.id, { text: 'hi' });
    const call = async (method: string, params: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/telegram/bot${bot.token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
      const body = (await res.json()) as { ok: boolean; result: { message_id: number; chat: { id: number } }[] & { message_id: number } };
      assert.equal(body.ok, true);
      return body.result;
    };
    const [update] = (await call('getUpdates', {})) as unknown as { message: { chat: { id: number } } }[];
    const chatId = update!.message.chat.id;
    await call('sendMessage', { chat_id: chatId, text: `${site.base}/bare?tg=off`, link_preview_options: { is_disabled: true } });
    await call('sendMessage', { chat_id: chatId, text: `${site.base}/bare?tg=old`, disable_web_page_preview: true });
    await call('sendMessage', { chat_id: chatId, text: `${site.base}/bare?tg=on` });
    const history = (await person.client.history(chat.id)).messages;
    const on = history.find((m) => m.text?.endsWith('tg=on'))!;
    await eventually('the bot’s preview', async () => (await person.client.message(on.id)).link_preview, 20_000);
    assert.equal(site.hits.get('/bare?tg=off'), undefined);
    assert.equal(site.hits.get('/bare?tg=old'), undefined);
  });

  test('redirects and pictures are checked like the page: cloud metadata is refused even where private targets are allowed', async () => {
    const { alice, bob, chat } = await pair();
    const bounced = await alice.client.send(chat.id, { text: `${site.base}/to-metadata` });
    const inward = await alice.client.send(chat.id, { text: `${site.base}/inward-picture` });
    const preview = await eventually('the preview without its picture', async () => (await bob.client.message(inward.id)).link_preview, 20_000);
    assert.equal(preview.title, 'Inward');
    assert.equal(preview.image, null);
    const row = await eventually('the bounced one settled', async () => server.db.db.selectFrom('link_previews').select('status').where('message_id', '=', bounced.id).where('status', '!=', 'pending').executeTakeFirst(), 20_000);
    assert.equal(row.status, 'none');
  });

  test('a sender’s page fetches are limited per minute; links in code, or sent with link_preview false, make no preview', async () => {
    const { alice, bob, chat } = await pair();
    const coded = await alice.client.send(chat.id, { text: `\`${site.base}/page?code\`` });
    const declined = await alice.client.send(chat.id, { text: `${site.base}/page?declined`, link_preview: false });
    const sent: { id: string }[] = [];
    for (let i = 0; i < 6; i++) sent.push(await alice.client.send(chat.id, { text: `${site.base}/bare?n=${i}&t=${Date.now()}` }));
    await eventually(
      'every preview settled',
      async () => {
        const rows = await server.db.db.selectFrom('link_previews').select(['message_id', 'status']).where('message_id', 'in', sent.map((m) => m.id)).execute();
        return rows.every((r) => r.status !== 'pending') ? rows : null;
      },
      30_000,
    );
    const shown = (await Promise.all(sent.map((m) => bob.client.message(m.id)))).filter((m) => m.link_preview);
    assert.equal(shown.length, 5, 'five fetches a minute here (linkPreviewsPerMinute)');
    for (const m of [coded, declined]) assert.equal(await server.db.db.selectFrom('link_previews').select('status').where('message_id', '=', m.id).executeTakeFirst(), undefined);
    assert.equal(site.hits.get('/page?code'), undefined);
    assert.equal(site.hits.get('/page?declined'), undefined);
  });
});

onEachDatabase('link previews, default outbound policy', (dialect) => {
  let server: TestServer;
  let site: Awaited<ReturnType<typeof startSite>>;
  before(async () => {
    site = await startSite();
    server = await startTestServer({ dialect });
  });
  after(async () => {
    await server.close();
    await site.close();
  });

  test('refuses loopback and private targets by default: no request leaves, no preview, no reason given', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const targets = [`${site.base}/page`, `http://localhost:${new URL(site.base).port}/page`, 'http://[::ffff:127.0.0.1]/page', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/'];
    const sent: { id: string }[] = [];
    for (const url of targets) sent.push(await alice.client.send(chat.id, { text: url }));
    const rows = await eventually(
      'every preview settled',
      async () => {
        const r = await server.db.db.selectFrom('link_previews').select(['message_id', 'status']).where('message_id', 'in', sent.map((m) => m.id)).execute();
        return r.length === targets.length && r.every((x) => x.status !== 'pending') ? r : null;
      },
      30_000,
    );
    assert.deepEqual(rows.map((r) => r.status), targets.map(() => 'none'));
    assert.equal(site.hits.size, 0, 'the site on loopback was never asked');
    for (const m of sent) assert.equal((await bob.client.message(m.id)).link_preview, undefined);
  });
});
