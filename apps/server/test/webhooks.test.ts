/**
 * Webhooks: deliveries signed per Standard Webhooks (checked with the `standardwebhooks` library),
 * at least once with stable ids, in order per conversation, retried with backoff, isolated per
 * receiver (one that hangs or redirects delays nobody else), given up after the retry window and
 * replayable, auto-disabled after prolonged failure with a notice to the owner; every endpoint's
 * denials; URL validation against private targets.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import type { MmdClient } from '@mmd/sdk';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: { cursor: number; type: string; conversation_id: string | null; data: Record<string, unknown> } };
}

/** A local receiver whose answer the test decides per request. */
async function receiver(answer: (r: Received, res: ServerResponse) => void = (_r, res) => res.writeHead(204).end()) {
  const requests: Received[] = [];
  const open = new Set<ServerResponse>();
  let maxOpen = 0;
  let decide = answer;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r: Received = { headers: req.headers, body, json: JSON.parse(body) };
      requests.push(r);
      open.add(res);
      maxOpen = Math.max(maxOpen, open.size);
      res.on('close', () => open.delete(res));
      decide(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return {
    url,
    requests,
    open,
    /** Most requests this receiver had open at once. */
    get maxOpen() {
      return maxOpen;
    },
    setAnswer(fn: typeof answer) {
      decide = fn;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const texts = (rs: Received[]) => rs.filter((r) => r.json.type === 'message.created').map((r) => r.json.data.data.text as string);

onEachDatabase('webhooks', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: {
        outboundAllowPrivate: true,
        outboundTimeoutMs: 5000,
        webhookConcurrency: 2,
        webhookPerReceiverConcurrency: 2,
        webhookRetryBaseMs: 20,
        webhookRetryMaxDelayMs: 200,
        webhookRetryWindowMs: 1500,
        webhookDisableAfterMs: 3000,
        webhookMaxPerAccount: 3,
      },
    });
  });
  after(() => server.close());

  async function botOf(owner?: User) {
    const person = owner ?? (await server.signUp());
    const created = await person.client.createBot({ handle: uniqueHandle('hook'), name: 'Hooked' });
    return { owner: person, bot: created.bot, botClient: server.anonymous.as(created.token) };
  }

  /** A person with a direct chat open to the bot. */
  async function chatWith(botHandle: string) {
    const person = await server.signUp();
    const chat = await person.client.openDirect(botHandle);
    return { person, chat };
  }

  test('a delivery is signed per Standard Webhooks, carries the event, and its id is the log entry id', async (t) => {
    const rx = await receiver();
    t.after(() => rx.close());
    const { bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url, events: ['message.created'] });
    assert.match(hook.secret, /^whsec_/);
    assert.equal(hook.account_id, bot.id);
    assert.deepEqual(hook.events, ['message.created']);
    const { person, chat } = await chatWith(bot.handle);
    const sent = await person.client.send(chat.id, { text: 'hello bot' });
    await botClient.send(chat.id, { text: 'the bot does not hear itself' });
    await person.client.send(chat.id, { text: 'second' });
    await eventually('two deliveries', () => rx.requests.length >= 2);

    const verifier = new StandardWebhook(hook.secret);
    for (const r of rx.requests) {
      const verified = verifier.verify(r.body, r.headers as Record<string, string>) as Received['json'];
      assert.equal(verified.type, 'message.created');
    }
    // A tampered body or another secret fails verification.
    const first = rx.requests[0]!;
    assert.throws(() => verifier.verify(first.body.replace('hello', 'HELLO'), first.headers as Record<string, string>));
    assert.throws(() => new StandardWebhook(`whsec_${Buffer.from('x'.repeat(24)).toString('base64')}`).verify(first.body, first.headers as Record<string, string>));

    assert.equal(first.json.data.type, 'message.created');
    assert.equal(first.json.data.conversation_id, chat.id);
    assert.equal(first.json.data.data.id, sent.id);
    assert.ok(!Number.isNaN(Date.parse(first.json.timestamp)));
    assert.deepEqual(texts(rx.requests), ['hello bot', 'second'], "only others' messages, only the asked-for types");

    const log = await botClient.webhookDeliveries(hook.id);
    assert.equal(log.deliveries.length, 2);
    assert.deepEqual(new Set(log.deliveries.map((d) => d.id)), new Set(rx.requests.map((r) => r.headers['webhook-id'])));
    const d = log.deliveries.find((x) => x.id === first.headers['webhook-id'])!;
    assert.equal(d.status, 'succeeded');
    assert.equal(d.attempts, 1);
    assert.equal(d.last_status, 204);
    assert.equal(typeof d.last_latency_ms, 'number');
    assert.equal(d.cursor, first.json.data.cursor);
  });

  test('joins, leaves and receipts of its own messages reach the webhook too', async (t) => {
    // The receiver refuses the bot's join until the bot has been removed again, so the join is
    // retried after the removal: the account's own membership events still go out, in order.
    let removed = false;
    const rx = await receiver((r, res) => {
      if (r.json.type === 'member.joined' && !removed) res.writeHead(503).end('later');
      else res.writeHead(204).end();
    });
    t.after(() => rx.close());
    const { owner, bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url });
    const { person, chat } = await chatWith(bot.handle);
    const reply = await botClient.send(chat.id, { text: 'hi' });
    await person.client.markRead(chat.id, reply.seq);
    const group = await owner.client.createConversation({ kind: 'group', title: 'Crew' });
    await owner.client.addMember(group.id, bot.handle);
    await eventually('the first, refused join attempt', () => rx.requests.some((r) => r.json.type === 'member.joined'));
    await owner.client.removeMember(group.id, bot.id);
    removed = true;
    await eventually('receipt, join and removal delivered', () => {
      const types = rx.requests.map((r) => `${r.json.type}:${r.json.data.conversation_id}`);
      return types.includes(`receipt.updated:${chat.id}`) && types.includes(`member.removed:${group.id}`);
    }, 15_000);
    const inGroup = rx.requests.filter((r) => r.json.data.conversation_id === group.id).map((r) => r.json.type);
    assert.deepEqual(inGroup.slice(-2), ['member.joined', 'member.removed'], 'the join went out after all, before the removal');
    const log = await botClient.webhookDeliveries(hook.id);
    assert.ok(log.deliveries.filter((x) => x.status === 'dropped').length === 0, 'nothing about the bot itself was withdrawn');
  });

  test('deliveries of one conversation arrive in order, through failures and retries', async (t) => {
    let failures = 3;
    const rx = await receiver((_r, res) => {
      if (failures-- > 0) res.writeHead(500).end('try again');
      else res.writeHead(200).end('ok');
    });
    t.after(() => rx.close());
    const { bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url, events: ['message.created'] });
    const { person, chat } = await chatWith(bot.handle);
    const sent = ['one', 'two', 'three', 'four', 'five'];
    for (const text of sent) await person.client.send(chat.id, { text });
    await eventually('all five accepted', () => {
      const ok = rx.requests.filter((_r, i) => i >= 3);
      return new Set(texts(ok)).size === 5;
    }, 15_000);
    // The first three answers were 500s; every later request came in conversation order, and a
    // retried delivery kept its webhook-id.
    const accepted = texts(rx.requests.slice(3));
    const firstSeen = accepted.filter((x, i) => accepted.indexOf(x) === i);
    assert.deepEqual(firstSeen, sent);
    const ids = rx.requests.map((r) => r.headers['webhook-id']);
    assert.equal(ids[0], ids[1], 'the failed delivery is retried with the same id');
    const log = await botClient.webhookDeliveries(hook.id);
    const one = log.deliveries.find((d) => d.id === ids[0])!;
    assert.equal(one.status, 'succeeded');
    assert.equal(one.attempts, 4);
  });

  test('a receiver that hangs or redirects delays nobody else', async (t) => {
    const hang = await receiver(() => {}); // never answers
    const good = await receiver();
    const redirect = await receiver((_r, res) => res.writeHead(302, { location: good.url }).end());
    t.after(() => Promise.all([hang.close(), good.close(), redirect.close()]));
    const a = await botOf();
    const b = await botOf();
    const c = await botOf();
    await a.botClient.createWebhook({ url: hang.url, events: ['message.created'] });
    await b.botClient.createWebhook({ url: good.url, events: ['message.created'] });
    const cHook = await c.botClient.createWebhook({ url: redirect.url, events: ['message.created'] });
    // The hanging receiver gets events from several conversations (it could use up a worker's slots).
    const person = await server.signUp();
    const chats = await Promise.all([a.bot.handle, b.bot.handle, c.bot.handle].map((h) => person.client.openDirect(h)));
    const others = await Promise.all([1, 2, 3].map(async () => (await server.signUp()).client));
    const aChats = await Promise.all(others.map((o) => o.openDirect(a.bot.handle)));
    for (let i = 0; i < 5; i++) {
      for (const [j, o] of others.entries()) await o.send(aChats[j]!.id, { text: `to a ${i}` });
      await person.client.send(chats[1]!.id, { text: `to b ${i}` });
      await person.client.send(chats[2]!.id, { text: `to c ${i}` });
    }
    await eventually('the good receiver got everything', () => texts(good.requests).length >= 5, 15_000);
    assert.deepEqual(texts(good.requests), ['to b 0', 'to b 1', 'to b 2', 'to b 3', 'to b 4']);
    assert.ok(hang.requests.length >= 1, 'the hanging receiver was called');
    assert.ok(hang.maxOpen <= 2, `per-receiver concurrency holds: ${hang.maxOpen} requests open at once`);
    // The redirect was not followed (the good receiver never saw c's messages), and it is logged as a failure.
    assert.ok(texts(good.requests).every((x) => x.startsWith('to b')));
    const log = await eventually('a failed attempt', async () => (await c.botClient.webhookDeliveries(cHook.id)).deliveries.find((d) => d.attempts > 0));
    assert.equal(log.last_status, 302);
    assert.match(log.last_error ?? '', /redirect/);
  });

  test('a delivery failing past the retry window is given up, then replayed with the same id', async (t) => {
    let healthy = false;
    const rx = await receiver((_r, res) => res.writeHead(healthy ? 200 : 503).end());
    t.after(() => rx.close());
    const { bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url, events: ['message.created'] });
    const { person, chat } = await chatWith(bot.handle);
    await person.client.send(chat.id, { text: 'lost?' });
    const failed = await eventually('given up', async () => (await botClient.webhookDeliveries(hook.id, { status: 'failed' })).deliveries[0], 15_000);
    assert.ok(failed.attempts > 1, `retried before giving up (${failed.attempts})`);
    assert.equal(failed.last_status, 503);
    assert.equal(failed.next_attempt_at, null);
    await rejectsWith(botClient.replayDelivery(hook.id, 'whd_unknown'), 'not_found', 404);
    healthy = true;
    const replayed = await botClient.replayDelivery(hook.id, failed.id);
    assert.equal(replayed.status, 'pending');
    await eventually('replayed', async () => (await botClient.webhookDeliveries(hook.id, { status: 'succeeded' })).deliveries[0]?.id === failed.id);
    assert.equal(rx.requests.at(-1)!.headers['webhook-id'], failed.id);
    assert.equal(texts([rx.requests.at(-1)!])[0], 'lost?');
  });

  test('a webhook failing for too long is disabled, its owner is told, and re-enabling resumes it', async (t) => {
    let healthy = false;
    const rx = await receiver((_r, res) => res.writeHead(healthy ? 200 : 500).end());
    t.after(() => rx.close());
    const { owner, bot } = await botOf();
    // The owner sets the bot's webhook on its behalf.
    const hook = await owner.client.createWebhook({ url: rx.url, events: ['message.created'], bot: bot.id });
    assert.deepEqual((await owner.client.webhooks({ bot: bot.id })).map((w) => w.id), [hook.id]);
    const { person, chat } = await chatWith(bot.handle);
    const start = await owner.client.updatesState();
    let n = 0;
    const disabled = await eventually('disabled', async () => {
      await person.client.send(chat.id, { text: `ping ${n++}` });
      await new Promise((r) => setTimeout(r, 200));
      const w = await owner.client.webhook(hook.id);
      return w.status === 'disabled' ? w : null;
    }, 30_000);
    assert.match(disabled.disabled_reason ?? '', /failed/);
    const notice = (await owner.client.updates({ cursor: start, timeout: 0, limit: 200 })).events.find((e) => e.type === 'webhook.disabled');
    assert.ok(notice && notice.type === 'webhook.disabled', 'the owner got a webhook.disabled event');
    assert.equal(notice.data.webhook_id, hook.id);
    // Disabled: nothing is sent, and events meanwhile are not queued (the bot catches up with
    // GET /v1/updates); re-enabled: deliveries that were still being retried are sent.
    healthy = true;
    const before = rx.requests.length;
    await person.client.send(chat.id, { text: 'while disabled' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.requests.length, before);
    const waiting = (await owner.client.webhookDeliveries(hook.id, { status: 'pending' })).deliveries;
    assert.ok(waiting.length > 0, 'the newest pings were still being retried when it was disabled');
    const enabled = await owner.client.updateWebhook(hook.id, { enabled: true });
    assert.equal(enabled.status, 'active');
    assert.equal(enabled.failing_since, null);
    await eventually('the waiting deliveries are sent', async () => (await owner.client.webhookDeliveries(hook.id, { status: 'pending' })).deliveries.length === 0, 15_000);
    const resent = new Set(rx.requests.slice(before).map((r) => r.headers['webhook-id']));
    for (const d of waiting) assert.ok(resent.has(d.id), `${d.id} was sent after re-enabling`);
    assert.ok(!texts(rx.requests).includes('while disabled'));
  });

  test("another account's webhooks are not found; API keys and people cannot register them; limits hold", async (t) => {
    const rx = await receiver();
    t.after(() => rx.close());
    const { owner, bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url });
    const stranger = await botOf();
    const otherPerson = await server.signUp();
    for (const client of [stranger.botClient, otherPerson.client] as MmdClient[]) {
      await rejectsWith(client.webhook(hook.id), 'not_found', 404);
      await rejectsWith(client.updateWebhook(hook.id, { enabled: false }), 'not_found', 404);
      await rejectsWith(client.deleteWebhook(hook.id), 'not_found', 404);
      await rejectsWith(client.webhookDeliveries(hook.id), 'not_found', 404);
      await rejectsWith(client.replayDelivery(hook.id, 'whd_x'), 'not_found', 404);
    }
    await rejectsWith(otherPerson.client.createWebhook({ url: rx.url, bot: bot.id }), 'not_found', 404);
    await rejectsWith(otherPerson.client.webhooks({ bot: bot.id }), 'not_found', 404);
    // The bot's token cannot use the owner's route for another bot either.
    await rejectsWith(botClient.createWebhook({ url: rx.url, bot: stranger.bot.id }), 'person_only', 403);
    // People have no webhooks of their own; API keys manage none.
    await rejectsWith(otherPerson.client.createWebhook({ url: rx.url }), 'forbidden', 403);
    const business = await server.signUp(undefined, { kind: 'business' });
    const { key } = await business.client.createApiKey({ name: 'k', scopes: ['messages:read', 'messages:write', 'conversations:write', 'updates:read'] });
    await rejectsWith(server.anonymous.as(key).createWebhook({ url: rx.url }), 'insufficient_scope', 403);
    await rejectsWith(server.anonymous.as(key).webhooks(), 'insufficient_scope', 403);
    await rejectsWith(server.anonymous.createWebhook({ url: rx.url }), 'unauthenticated', 401);
    // A business with a session may.
    assert.equal((await business.client.createWebhook({ url: rx.url })).account_id, business.accountId);
    // The owner sees and manages the bot's webhook.
    assert.equal((await owner.client.webhook(hook.id)).id, hook.id);
    // Limits: three per account here; bad event types; bad input.
    await botClient.createWebhook({ url: rx.url });
    await botClient.createWebhook({ url: rx.url });
    await rejectsWith(botClient.createWebhook({ url: rx.url }), 'limit_reached', 409);
    await botClient.deleteWebhook(hook.id);
    await rejectsWith(botClient.webhook(hook.id), 'not_found', 404);
    await rejectsWith(botClient.createWebhook({ url: rx.url, events: ['no.such.event'] }), 'validation_failed', 400);
    await rejectsWith(botClient.webhookDeliveries('whk_nope'), 'not_found', 404);
    const res = await server.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries?limit=0`, headers: { authorization: `Bearer ${owner.token}` } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'validation_failed');
  });

  test('custom deliveries for other capabilities: their own body and headers, durable, ordered, no Standard Webhooks signature', async (t) => {
    const rx = await receiver();
    t.after(() => rx.close());
    const { bot } = await botOf();
    const webhooks = server.services.webhooks;
    assert.equal(await webhooks.enqueueCustom(null, { accountId: bot.id, purpose: 'relay', lane: 'x', type: 'update', body: '{}' }), false, 'nothing to deliver to yet');
    const id = await webhooks.setCustom({ accountId: bot.id, purpose: 'relay', url: rx.url });
    for (const n of [1, 2, 3]) {
      const queued = await webhooks.enqueueCustom(null, { accountId: bot.id, purpose: 'relay', lane: 'chat-1', type: 'update', body: JSON.stringify({ update_id: n }), headers: { 'X-Telegram-Bot-Api-Secret-Token': 's3cret' } });
      assert.equal(queued, true);
    }
    await eventually('three custom deliveries', () => rx.requests.length === 3);
    assert.deepEqual(rx.requests.map((r) => (r.json as unknown as { update_id: number }).update_id), [1, 2, 3]);
    for (const r of rx.requests) {
      assert.equal(r.headers['x-telegram-bot-api-secret-token'], 's3cret');
      assert.equal(r.headers['webhook-signature'], undefined);
    }
    // One per purpose (setting again replaces the URL); its info counts what waits; removing it drops the rest.
    assert.equal(await webhooks.setCustom({ accountId: bot.id, purpose: 'relay', url: rx.url }), id);
    rx.setAnswer((_r, res) => res.writeHead(500).end());
    await webhooks.enqueueCustom(null, { accountId: bot.id, purpose: 'relay', lane: 'chat-1', type: 'update', body: '{"update_id":4}' });
    const info = await eventually('a failed attempt recorded', async () => {
      const i = await webhooks.customInfo({ accountId: bot.id, purpose: 'relay' });
      return i?.lastError ? i : null;
    });
    assert.equal(info.pendingCount, 1);
    assert.match(info.lastError ?? '', /HTTP 500/);
    await webhooks.removeCustom({ accountId: bot.id, purpose: 'relay', dropPending: true });
    assert.equal(await webhooks.customInfo({ accountId: bot.id, purpose: 'relay' }), null);
    await assert.rejects(webhooks.setCustom({ accountId: bot.id, purpose: 'relay', url: 'https://169.254.169.254/' }), (err: { code?: string }) => err.code === 'validation_failed');
  });

  test('the delivery log keeps settled deliveries for a week', async (t) => {
    let offset = 0;
    const timed = await startTestServer({ dialect, clock: () => Date.now() + offset, config: { outboundAllowPrivate: true } });
    const rx = await receiver();
    t.after(async () => {
      await rx.close();
      await timed.close();
    });
    const owner = await timed.signUp();
    const { bot, token } = await owner.client.createBot({ handle: uniqueHandle('week'), name: 'Week' });
    const hook = await timed.anonymous.as(token).createWebhook({ url: rx.url, events: ['message.created'] });
    const person = await timed.signUp();
    const chat = await person.client.openDirect(bot.handle);
    await person.client.send(chat.id, { text: 'old' });
    await eventually('delivered', () => rx.requests.length === 1);
    offset = 8 * 24 * 60 * 60 * 1000;
    await person.client.send(chat.id, { text: 'new' });
    await eventually('delivered', () => rx.requests.length === 2);
    const log = await eventually('the old entry swept', async () => {
      const l = await owner.client.webhookDeliveries(hook.id);
      return l.deliveries.length === 1 ? l : null;
    });
    assert.equal(log.deliveries[0]!.id, rx.requests[1]!.headers['webhook-id']);
  });

  test('with private targets refused (the default), refuses http, private, loopback, link-local and metadata targets and unresolvable hosts', async (t) => {
    const strict = await startTestServer({ dialect });
    t.after(() => strict.close());
    const owner = await strict.signUp();
    const { token } = await owner.client.createBot({ handle: uniqueHandle('strict'), name: 'Strict' });
    const botClient = strict.anonymous.as(token);
    for (const url of [
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.0.0.5/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/hook',
      'https://[fd00:ec2::254]/hook',
      'https://0x7f000001/hook',
      'ftp://example.com/hook',
      'https://user:pass@example.com/hook',
      'not a url',
      'https://nothing-here.invalid/hook',
    ]) {
      await rejectsWith(botClient.createWebhook({ url }), 'validation_failed', 400).catch((err) => assert.fail(`${url}: ${err}`));
    }
    assert.deepEqual(await botClient.webhooks(), []);
  });
});
