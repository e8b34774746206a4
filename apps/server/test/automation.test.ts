/**
 * Automation for business accounts through the API: rules answer a contact once (even when the
 * job runs again), greeting and away messages, handover to a person and back, no loops between
 * automated accounts, a per-conversation rate limit, the assistant against a local stand-in
 * chat-completions server, signed rule webhooks, and every denial.
 */
import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { after, before, test } from 'node:test';
import type { Message } from '@mmd/sdk';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { buildApp } from '../src/app.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server recording requests and answering with `answer`. */
async function standIn(answer: (body: string) => { status: number; json: unknown }) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const { status, json } = answer(body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function automatedReplies(contact: User, conversationId: string): Promise<Message[]> {
  const { messages } = await contact.client.history(conversationId, { limit: 100 });
  return messages.filter((m) => m.automated);
}

/** Waits until every automation job so far has finished (nothing queued or running). */
async function settle(server: TestServer) {
  await eventually('automation jobs to finish', async () => {
    const stats = await server.services.queue.stats();
    return stats.queued === 0 && stats.running === 0;
  }, 15_000);
}

onEachDatabase('automation', (dialect) => {
  let server: TestServer;
  let stand: Awaited<ReturnType<typeof standIn>>;
  let hook: Awaited<ReturnType<typeof standIn>>;
  before(async () => {
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true, automationRepliesPerWindow: 4 } });
    stand = await standIn((body) => {
      const request = JSON.parse(body) as { messages: { role: string; content: string }[] };
      const last = request.messages.at(-1)?.content ?? '';
      return { status: 200, json: { choices: [{ message: { role: 'assistant', content: `Assistant here: you said "${last}"` } }] } };
    });
    hook = await standIn(() => ({ status: 204, json: null }));
  });
  after(async () => {
    await server.close();
    await stand.close();
    await hook.close();
  });

  async function business() {
    const shop = await server.signUp(undefined, { kind: 'business' });
    await shop.client.automation.updateSettings({ enabled: true });
    return shop;
  }

  test('a keyword rule answers a contact once, labelled automated, with the contact in its text', async () => {
    const shop = await business();
    const ann = await server.signUp();
    await shop.client.automation.createRule({ name: 'prices', trigger: { type: 'keywords', keywords: ['price'] }, actions: [{ type: 'reply', text: 'Hello {{handle}}, everything costs 10.' }, { type: 'tag', tag: 'sales' }] });
    const chat = await ann.client.openDirect(shop.handle);
    const sent = await ann.client.send(chat.id, { text: 'What is the price?' });
    const [reply] = await eventually('the rule reply', async () => {
      const replies = await automatedReplies(ann, chat.id);
      return replies.length ? replies : null;
    });
    assert.equal(reply!.text, `Hello ${ann.handle}, everything costs 10.`);
    assert.equal(reply!.sender_id, shop.accountId);
    await settle(server);
    assert.deepEqual((await shop.client.automation.conversation(chat.id)).tags, ['sales']);
    assert.deepEqual((await shop.client.automation.conversations({ tag: 'sales' })).map((c) => c.conversation_id), [chat.id]);

    // The job runs again (a worker died after sending): the reply is not sent twice.
    await server.db.db.deleteFrom('automation_runs').where('message_id', '=', sent.id).execute();
    await server.services.automationRunner.run({ businessId: shop.accountId, conversationId: chat.id, messageId: sent.id }, { final: false });
    assert.equal((await automatedReplies(ann, chat.id)).length, 1);

    // A message nothing matches gets no answer.
    await ann.client.send(chat.id, { text: 'thanks' });
    await settle(server);
    assert.equal((await automatedReplies(ann, chat.id)).length, 1);
  });

  test('a rule replies with buttons; tapping one is the contact\'s next message, which the next rule answers', async () => {
    const shop = await business();
    await shop.client.automation.createRule({
      name: 'menu',
      trigger: { type: 'keywords', keywords: ['menu'] },
      actions: [{ type: 'interactive', text: 'How can we help, {{handle}}?', buttons: [[{ type: 'reply', text: 'Opening hours' }, { type: 'reply', text: 'Prices' }]] }],
    });
    await shop.client.automation.createRule({ name: 'hours', trigger: { type: 'keywords', keywords: ['opening hours'] }, actions: [{ type: 'reply', text: 'Nine to five.' }] });
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    await ann.client.send(chat.id, { text: 'menu' });
    const [menu] = await eventually('the menu', async () => {
      const replies = await automatedReplies(ann, chat.id);
      return replies.length ? replies : null;
    });
    assert.equal(menu!.text, `How can we help, ${ann.handle}?`);
    assert.deepEqual(menu!.buttons?.flat().map((b) => b.text), ['Opening hours', 'Prices']);
    const tapped = menu!.buttons![0]![0]!;
    await ann.client.tapButton(menu!.id, tapped.id);
    await eventually('the answer to the tap', async () => (await automatedReplies(ann, chat.id)).some((m) => m.text === 'Nine to five.'));

    // Over an interactive limit: refused when the rule is saved, as a send would be.
    const row = Array.from({ length: 9 }, (_, i) => ({ type: 'reply' as const, text: `b${i}` }));
    await rejectsWith(shop.client.automation.createRule({ name: 'wide', trigger: { type: 'first_message' }, actions: [{ type: 'interactive', text: 'x', buttons: [row] }] }), 'interactive_limit', 400);
    const tried = await shop.client.automation.try({ text: 'menu please' });
    assert.deepEqual(tried.steps[0], { type: 'send', source: 'rule', text: 'How can we help, contact?', buttons: [[{ type: 'reply', text: 'Opening hours' }, { type: 'reply', text: 'Prices' }]] });
  });

  test('greets a first message once and answers outside business hours with the away message', async () => {
    const shop = await business();
    await shop.client.automation.updateSettings({
      hours: { timezone: 'Europe/Berlin', weekly: {} },
      greeting: { enabled: true, text: 'Welcome to {{business}}!' },
      away: { enabled: true, text: 'We are closed; we answer tomorrow.' },
    });
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    await ann.client.send(chat.id, { text: 'hi' });
    await eventually('greeting and away', async () => (await automatedReplies(ann, chat.id)).length === 2);
    await ann.client.send(chat.id, { text: 'hello again' });
    await settle(server);
    const texts = (await automatedReplies(ann, chat.id)).map((m) => m.text);
    assert.deepEqual(texts, [`Welcome to ${shop.handle}!`, 'We are closed; we answer tomorrow.'], 'no second greeting, away at most once per 12 h');
  });

  test('hands over to a person on request, stays silent, and resumes when handed back', async () => {
    const shop = await business();
    await shop.client.automation.createRule({ name: 'all', trigger: { type: 'pattern', pattern: '^order\\s+\\d+$' }, actions: [{ type: 'reply', text: 'Your order ships today.' }] });
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    await ann.client.send(chat.id, { text: 'Can I talk to an agent?' });
    await eventually('handover', async () => (await shop.client.automation.conversation(chat.id)).state === 'human');
    await eventually('handover text', async () => (await automatedReplies(ann, chat.id)).length === 1);
    await ann.client.send(chat.id, { text: 'order 42' });
    await settle(server);
    assert.equal((await automatedReplies(ann, chat.id)).length, 1, 'a person has the chat: no rule fires');

    await shop.client.automation.handover(chat.id, 'bot');
    await ann.client.send(chat.id, { text: 'order 43' });
    await eventually('the rule again', async () => (await automatedReplies(ann, chat.id)).length === 2);

    // Someone on the team answering by hand takes the chat over.
    await shop.client.send(chat.id, { text: 'Hi, Sam here.' });
    assert.equal((await shop.client.automation.conversation(chat.id)).state, 'human');
    await ann.client.send(chat.id, { text: 'order 44' });
    await settle(server);
    assert.equal((await automatedReplies(ann, chat.id)).length, 2);
  });

  test('never answers a bot, another business or its own messages (no loops)', async () => {
    const shop = await business();
    const other = await business();
    const bot = await server.signUp(undefined, { kind: 'bot' });
    for (const b of [shop, other]) await b.client.automation.createRule({ name: 'echo', trigger: { type: 'pattern', pattern: '.' }, actions: [{ type: 'reply', text: 'echo' }] });
    const chat = await other.client.openDirect(shop.handle);
    await other.client.send(chat.id, { text: 'ping' });
    // Bots cannot open chats: the business opens one with the bot, and the bot writes there.
    const botChat = await shop.client.openDirect(bot.handle);
    await bot.client.send(botChat.id, { text: 'ping' });
    await settle(server);
    assert.equal((await automatedReplies(other, chat.id)).length, 0);
    assert.equal((await automatedReplies(bot, botChat.id)).length, 0);
  });

  test('answers at most the configured number of messages per conversation per window', async () => {
    const shop = await business();
    await shop.client.automation.createRule({ name: 'every', trigger: { type: 'pattern', pattern: '.' }, actions: [{ type: 'reply', text: 'ok' }] });
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    for (let i = 0; i < 6; i += 1) {
      await ann.client.send(chat.id, { text: `message ${i}` });
      await settle(server);
    }
    assert.equal((await automatedReplies(ann, chat.id)).length, 4);
    const activity = await shop.client.automation.activity();
    assert.deepEqual(activity.map((a) => a.outcome).sort(), [...Array(4).fill(`rule:${(await shop.client.automation.rules())[0]!.id}`), 'rate_limited', 'rate_limited'].sort());
    assert.ok(activity.every((a) => a.conversation_id === chat.id));
  });

  test('the assistant answers where no rule matched, with recent messages as context, its key never shown', async () => {
    const shop = await business();
    const settings = await shop.client.automation.updateSettings({
      assistant: { enabled: true, url: `${stand.url}/v1`, model: 'local-model', api_key: 'sk-local-secret', context_messages: 5, system_prompt: 'Be brief.' },
    });
    assert.equal(settings.assistant.api_key_set, true);
    assert.ok(!JSON.stringify(await shop.client.automation.settings()).includes('sk-local-secret'));
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    await ann.client.send(chat.id, { text: 'first words' });
    await eventually('an answer', async () => (await automatedReplies(ann, chat.id)).length === 1);
    await ann.client.send(chat.id, { text: 'Do you deliver on Sundays?' });
    const replies = await eventually('a second answer', async () => {
      const r = await automatedReplies(ann, chat.id);
      return r.length === 2 ? r : null;
    });
    assert.equal(replies[1]!.text, 'Assistant here: you said "Do you deliver on Sundays?"');
    const request = stand.received.at(-1)!;
    assert.equal(request.headers.authorization, 'Bearer sk-local-secret');
    const body = JSON.parse(request.body) as { model: string; messages: { role: string; content: string }[] };
    assert.equal(body.model, 'local-model');
    assert.deepEqual(body.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(body.messages[0]!.content, 'Be brief.');

    // Asking for a person still hands over, assistant or not.
    await ann.client.send(chat.id, { text: 'human please' });
    await eventually('handover', async () => (await shop.client.automation.conversation(chat.id)).state === 'human');
  });

  test('a webhook action posts the message signed per Standard Webhooks', async () => {
    const shop = await business();
    const { webhook_secret: secret } = await shop.client.automation.settings();
    const rule = await shop.client.automation.createRule({ name: 'leads', trigger: { type: 'keywords', keywords: ['quote'] }, actions: [{ type: 'webhook', url: `${hook.url}/leads` }] });
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    const before = hook.received.length;
    await ann.client.send(chat.id, { text: 'I need a quote' });
    const delivery = await eventually('the webhook', () => hook.received[before]);
    // Verified by the standardwebhooks library, as a receiver would.
    const headers = { 'webhook-id': String(delivery.headers['webhook-id']), 'webhook-timestamp': String(delivery.headers['webhook-timestamp']), 'webhook-signature': String(delivery.headers['webhook-signature']) };
    const payload = new StandardWebhook(secret).verify(delivery.body, headers) as { type: string; data: { rule_id: string; message: { text: string }; contact: { handle: string } } };
    assert.equal(payload.type, 'automation.rule_matched');
    assert.equal(payload.data.rule_id, rule.id);
    assert.equal(payload.data.message.text, 'I need a quote');
    assert.equal(payload.data.contact.handle, ann.handle);
  });

  test('try a message shows which rule fires and what would be sent, without sending, across a DST change', async () => {
    const shop = await business();
    const template = await shop.client.automation.createTemplate({ name: 'hours', text: 'We open at 9, {{handle}}.' });
    await shop.client.automation.updateSettings({
      hours: { timezone: 'Europe/Berlin', weekly: { sat: [{ start: '09:00', end: '17:00' }], sun: [{ start: '09:00', end: '17:00' }] } },
    });
    const rule = await shop.client.automation.createRule({ name: 'when open', trigger: { type: 'outside_hours' }, actions: [{ type: 'template', template_id: template.id }] });
    // 07:30 UTC: 08:30 in Berlin on Saturday (CET), 09:30 on Sunday (CEST, after the change).
    const saturday = await shop.client.automation.try({ text: 'open?', at: Date.parse('2026-03-28T07:30:00Z'), contact_handle: 'ann' });
    assert.equal(saturday.outside_hours, true);
    assert.deepEqual(saturday.rule, { id: rule.id, name: 'when open' });
    assert.deepEqual(saturday.steps, [{ type: 'send', source: 'rule', text: 'We open at 9, ann.' }]);
    const sunday = await shop.client.automation.try({ text: 'open?', at: Date.parse('2026-03-29T07:30:00Z') });
    assert.equal(sunday.outside_hours, false);
    assert.equal(sunday.rule, null);
    assert.deepEqual(sunday.steps, []);
  });

  test('refuses persons and bots, hides other businesses, enforces limits and checks input', async () => {
    const person = await server.signUp();
    const bot = await server.signUp(undefined, { kind: 'bot' });
    for (const user of [person, bot]) {
      await rejectsWith(user.client.automation.settings(), 'business_only', 403);
      await rejectsWith(user.client.automation.updateSettings({ enabled: true }), 'business_only', 403);
      await rejectsWith(user.client.automation.rules(), 'business_only', 403);
      await rejectsWith(user.client.automation.createRule({ name: 'x', trigger: { type: 'first_message' }, actions: [{ type: 'handover' }] }), 'business_only', 403);
      await rejectsWith(user.client.automation.try({ text: 'hi' }), 'business_only', 403);
      await rejectsWith(user.client.automation.templates(), 'business_only', 403);
      await rejectsWith(user.client.automation.conversations(), 'business_only', 403);
    }
    await rejectsWith(server.anonymous.automation.settings(), 'unauthenticated', 401);

    const shop = await business();
    const rival = await business();
    const rule = await shop.client.automation.createRule({ name: 'mine', trigger: { type: 'first_message' }, actions: [{ type: 'handover' }] });
    const template = await shop.client.automation.createTemplate({ name: 'mine', text: 'hi' });
    await rejectsWith(rival.client.automation.updateRule(rule.id, { enabled: false }), 'not_found', 404);
    await rejectsWith(rival.client.automation.deleteRule(rule.id), 'not_found', 404);
    await rejectsWith(rival.client.automation.updateTemplate(template.id, { text: 'x' }), 'not_found', 404);
    await rejectsWith(rival.client.automation.deleteTemplate(template.id), 'not_found', 404);
    await rejectsWith(rival.client.automation.createRule({ name: 'theirs', trigger: { type: 'first_message' }, actions: [{ type: 'template', template_id: template.id }] }), 'validation_failed', 400);

    // Chats: only the business's own direct chats.
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    await rejectsWith(rival.client.automation.handover(chat.id, 'human'), 'not_found', 404);
    await rejectsWith(rival.client.automation.tag(chat.id, 'x'), 'not_found', 404);
    await rejectsWith(rival.client.automation.conversation(chat.id), 'not_found', 404);
    await rejectsWith(ann.client.automation.handover(chat.id, 'human'), 'business_only', 403);
    const group = await shop.client.createConversation({ kind: 'group', title: 'team', members: [ann.handle] });
    await rejectsWith(shop.client.automation.handover(group.id, 'human'), 'not_found', 404);
    assert.equal((await shop.client.automation.tag(chat.id, 'vip')).tags[0], 'vip');
    assert.deepEqual((await shop.client.automation.untag(chat.id, 'vip')).tags, []);
    for (let i = 0; i < 20; i += 1) await shop.client.automation.tag(chat.id, `t${i}`);
    await rejectsWith(shop.client.automation.tag(chat.id, 'one more'), 'automation_limit', 400);
    assert.equal((await shop.client.automation.tag(chat.id, 't3')).tags.length, 20, 'a tag it has is no new tag');

    // Input.
    await rejectsWith(shop.client.automation.updateSettings({ hours: { timezone: 'Mars/Base', weekly: {} } }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.updateSettings({ hours: { timezone: 'UTC', weekly: { mon: [{ start: '17:00', end: '09:00' }] } } }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.updateSettings({ greeting: { enabled: true, text: 'Hi {{first_name}}' } }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.updateSettings({ assistant: { enabled: true } }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.updateSettings({ assistant: { url: 'file:///etc/passwd' } }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.createRule({ name: 'long', trigger: { type: 'pattern', pattern: 'a'.repeat(201) }, actions: [{ type: 'handover' }] }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.createRule({ name: 'backref', trigger: { type: 'pattern', pattern: '(a)\\1' }, actions: [{ type: 'handover' }] }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.createRule({ name: 'hook', trigger: { type: 'first_message' }, actions: [{ type: 'webhook', url: 'ftp://x' }] }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.createRule({ name: 'none', trigger: { type: 'first_message' }, actions: [] }), 'validation_failed', 400);
    await rejectsWith(shop.client.automation.createTemplate({ name: 'mine', text: 'again' }), 'conflict', 409);

    // Limits: 50 rules.
    for (let i = 1; i < 50; i += 1) await shop.client.automation.createRule({ name: `r${i}`, trigger: { type: 'keywords', keywords: [`k${i}`] }, actions: [{ type: 'handover' }] });
    await rejectsWith(shop.client.automation.createRule({ name: 'one too many', trigger: { type: 'first_message' }, actions: [{ type: 'handover' }] }), 'automation_limit', 400);
    assert.equal((await shop.client.automation.rules()).length, 50);
  });

  test('random bodies and ids at every automation route, as a business, never cause a 5xx', async () => {
    const shop = await business();
    const ann = await server.signUp();
    const chat = await ann.client.openDirect(shop.handle);
    const rule = await shop.client.automation.createRule({ name: 'r', trigger: { type: 'first_message' }, actions: [{ type: 'tag', tag: 'x' }] });
    const template = await shop.client.automation.createTemplate({ name: 'fuzz', text: 'hi' });
    const routes: [string, string][] = [
      ['PUT', '/v1/automation'],
      ['POST', '/v1/automation/rules'],
      ['PATCH', `/v1/automation/rules/${rule.id}`],
      ['POST', '/v1/automation/templates'],
      ['PATCH', `/v1/automation/templates/${template.id}`],
      ['POST', '/v1/automation/try'],
      ['POST', `/v1/conversations/${chat.id}/handover`],
      ['POST', `/v1/conversations/${chat.id}/tags`],
      ['GET', '/v1/automation/conversations?state=human&tag=%00'],
      ['GET', '/v1/automation/activity?limit=0'],
    ];
    // Shapes close to valid ones reach past the schema into the service.
    const near = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ hours: fc.record({ timezone: fc.string({ maxLength: 70 }), weekly: fc.dictionary(fc.constantFrom('mon', 'sun', 'xyz'), fc.array(fc.record({ start: fc.constantFrom('09:00', '24:00', '9'), end: fc.constantFrom('17:00', '00:00') }))) }) }),
      fc.record({ name: fc.string({ maxLength: 5 }), trigger: fc.record({ type: fc.constant('pattern'), pattern: fc.string({ maxLength: 30 }) }), actions: fc.array(fc.record({ type: fc.constantFrom('reply', 'template', 'webhook', 'interactive'), text: fc.string({ maxLength: 30 }), url: fc.string(), template_id: fc.string() }), { maxLength: 3 }) }),
      fc.record({ text: fc.string({ maxLength: 50 }), at: fc.integer(), first_message: fc.boolean() }),
    );
    for (const [method, url] of routes) {
      await fc.assert(
        fc.asyncProperty(near, async (body) => {
          const res = await server.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${shop.token}`, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { payload: JSON.stringify(body) }) });
          assert.ok(res.statusCode < 500, `${method} ${url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
          if (res.statusCode >= 400) assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        }),
        { numRuns: 30, seed: 20261205 },
      );
    }
  });

  test('the answer is a durable job: a process without a worker leaves it queued, the next one with a worker sends it', async () => {
    const paused = await startTestServer({ dialect, worker: false });
    try {
      const shop = await paused.signUp(undefined, { kind: 'business' });
      await shop.client.automation.updateSettings({ enabled: true });
      await shop.client.automation.createRule({ name: 'hi', trigger: { type: 'keywords', keywords: ['hello'] }, actions: [{ type: 'reply', text: 'Hello back' }] });
      const ann = await paused.signUp();
      const chat = await ann.client.openDirect(shop.handle);
      await ann.client.send(chat.id, { text: 'hello' });
      assert.equal((await paused.services.queue.stats()).queued, 1, 'the job committed with the message');
      assert.equal((await automatedReplies(ann, chat.id)).length, 0);
      // Another process on the same database, as after a restart: its worker finds the job.
      const next = await buildApp({ config: paused.config, db: paused.db, bus: createLocalEventBus(), logger: false });
      await next.app.ready();
      try {
        await eventually('the reply from the next process', async () => (await automatedReplies(ann, chat.id)).length === 1, 15_000);
      } finally {
        await next.app.close();
      }
    } finally {
      await paused.close();
    }
  });
});
