/**
 * Webhook deliveries are checked again before every attempt: a message deleted for everyone or
 * taken down after its event was written is not sent on a retry or a replay, and an account
 * removed from a conversation hears its own removal there and nothing else. Withdrawn deliveries
 * show as `dropped` with the reason in the log, and replaying one is refused.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { MmdError } from '@mmd/sdk';
import { type TestServer, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';
import { signUpModerator } from './safety-fixtures.ts';

interface Received {
  headers: IncomingHttpHeaders;
  json: { type: string; data: { type: string; conversation_id: string | null; data: Record<string, unknown> } };
  /** The HTTP status this receiver answered with. */
  answered: number;
}

/** A local receiver answering each request with the status `answer` picks for it. */
async function receiver(answer: (r: Omit<Received, 'answered'>) => number) {
  const requests: Received[] = [];
  const server: Server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = { headers: req.headers, json: JSON.parse(body) as Received['json'] };
      const status = answer(r);
      requests.push({ ...r, answered: status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const textOf = (r: Received) => (r.json.type === 'message.created' ? (r.json.data.data.text as string) : null);

onEachDatabase('webhooks-withdrawal', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: {
        outboundAllowPrivate: true,
        outboundTimeoutMs: 5000,
        webhookRetryBaseMs: 20,
        webhookRetryMaxDelayMs: 200,
        // Long enough that nothing here is given up: a delivery leaves the queue only by being sent or withdrawn.
        webhookRetryWindowMs: 120_000,
        webhookDisableAfterMs: 600_000,
      },
    });
  });
  after(() => server.close());

  async function botOf() {
    const owner = await server.signUp();
    const created = await owner.client.createBot({ handle: uniqueHandle('wd'), name: 'Withdrawn' });
    return { owner, bot: created.bot, botClient: server.anonymous.as(created.token) };
  }

  test('a message deleted for everyone while its delivery fails is withdrawn, not retried, and its replay is refused', async (t) => {
    // The receiver refuses the first message (500) and takes everything else.
    const rx = await receiver((r) => (textOf(r as Received) === 'regretted' ? 500 : 200));
    t.after(() => rx.close());
    const { bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url, events: ['message.created'] });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    const regretted = await person.client.send(chat.id, { text: 'regretted' });
    await eventually('the first attempt failed', () => rx.requests.some((r) => textOf(r) === 'regretted'));
    await person.client.deleteMessage(regretted.id);
    await person.client.send(chat.id, { text: 'after' });
    // The conversation's lane was held by the failing delivery; withdrawn, it lets the next one through.
    await eventually('the next message went out', () => rx.requests.some((r) => textOf(r) === 'after' && r.answered === 200), 20_000);
    const log = await botClient.webhookDeliveries(hook.id);
    const withdrawn = log.deliveries.find((d) => d.cursor !== null && rx.requests.some((r) => textOf(r) === 'regretted' && r.headers['webhook-id'] === d.id));
    assert.ok(withdrawn, 'the deleted message is in the log');
    assert.equal(withdrawn.status, 'dropped');
    assert.match(withdrawn.last_error ?? '', /withdrawn: the message was deleted for everyone/);
    assert.equal(withdrawn.next_attempt_at, null);
    const tries = rx.requests.filter((r) => r.headers['webhook-id'] === withdrawn.id);
    assert.equal(tries.length, withdrawn.attempts, 'every request it made is counted, and no more were made');
    assert.ok(tries.every((r) => r.answered === 500), 'the receiver never accepted it');
    const afterIndex = rx.requests.findIndex((r) => textOf(r) === 'after');
    assert.ok(rx.requests.slice(afterIndex).every((r) => r.headers['webhook-id'] !== withdrawn.id), 'not retried once withdrawn');
    assert.deepEqual((await botClient.webhookDeliveries(hook.id, { status: 'dropped' })).deliveries.map((d) => d.id), [withdrawn.id]);
    await rejectsWith(botClient.replayDelivery(hook.id, withdrawn.id), 'delivery_withdrawn', 409);
    assert.equal((await botClient.webhookDeliveries(hook.id, { status: 'dropped' })).deliveries.length, 1, 'the refused replay changed nothing');
  });

  test('replaying a delivery whose message was since deleted or taken down is refused', async (t) => {
    const rx = await receiver(() => 204);
    t.after(() => rx.close());
    const { bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url, events: ['message.created'] });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    const deleted = await person.client.send(chat.id, { text: 'to delete' });
    const removed = await person.client.send(chat.id, { text: 'to take down' });
    const kept = await person.client.send(chat.id, { text: 'kept' });
    await eventually('three delivered', async () => (await botClient.webhookDeliveries(hook.id, { status: 'succeeded' })).deliveries.length === 3);
    const idOf = (text: string) => rx.requests.find((r) => textOf(r) === text)!.headers['webhook-id'] as string;
    await person.client.deleteMessage(deleted.id);
    const mod = await signUpModerator(server);
    await mod.client.takedown({ message_id: removed.id, reason: 'webhook withdrawal test' });
    for (const [text, why] of [['to delete', /deleted for everyone/], ['to take down', /taken down/]] as const) {
      const refused = await botClient.replayDelivery(hook.id, idOf(text)).then(
        () => assert.fail(`the delivery of "${text}" was replayed`),
        (err: unknown) => err,
      );
      assert.ok(refused instanceof MmdError);
      assert.equal(refused.code, 'delivery_withdrawn');
      assert.equal(refused.status, 409);
      assert.match(refused.message, why);
    }
    // The log still says they were delivered then; only sending them again is refused.
    const log = await botClient.webhookDeliveries(hook.id);
    for (const text of ['to delete', 'to take down']) assert.equal(log.deliveries.find((d) => d.id === idOf(text))?.status, 'succeeded');
    // A message still there replays as before.
    const before = rx.requests.length;
    assert.equal((await botClient.replayDelivery(hook.id, idOf('kept'))).status, 'pending');
    await eventually('replayed', () => rx.requests.length > before);
    assert.equal(rx.requests.at(-1)!.headers['webhook-id'], idOf('kept'));
    assert.equal(textOf(rx.requests.at(-1)!), kept.text);
  });

  test('a bot removed from a group while its deliveries fail hears its own removal there, and no earlier message', async (t) => {
    // Everything fails but the bot's own join and removal, so the group's lane is held by failing
    // message deliveries when it is removed. (Its own membership events are never withdrawn: a
    // failing join would hold the lane until the receiver takes it.)
    const rx = await receiver((r) => (r.json.type === 'member.removed' || r.json.type === 'member.joined' ? 200 : 500));
    t.after(() => rx.close());
    const { owner, bot, botClient } = await botOf();
    const hook = await botClient.createWebhook({ url: rx.url });
    const group = await owner.client.createConversation({ kind: 'group', title: 'Leaving' });
    await owner.client.addMember(group.id, bot.handle);
    await owner.client.send(group.id, { text: 'one' });
    await owner.client.send(group.id, { text: 'two' });
    await eventually('a failing attempt in the group', () => rx.requests.some((r) => r.json.data.conversation_id === group.id), 10_000);
    await owner.client.removeMember(group.id, bot.id);
    const removal = await eventually('the removal went out', () => rx.requests.find((r) => r.json.type === 'member.removed' && r.json.data.conversation_id === group.id), 20_000);
    assert.equal(removal.json.data.data.account_id, bot.id);
    assert.equal(removal.answered, 200);
    // In order: the removal went out only after what came before it was settled (withdrawn), and nothing follows it.
    const accepted = rx.requests.filter((r) => r.json.data.conversation_id === group.id && r.answered === 200);
    assert.deepEqual(accepted.map((r) => r.json.type), ['member.joined', 'member.removed']);
    const log = (await botClient.webhookDeliveries(hook.id)).deliveries.filter((d) => d.conversation_id === group.id);
    const messages = log.filter((d) => d.event_type === 'message.created');
    assert.equal(messages.length, 2);
    for (const d of messages) {
      assert.equal(d.status, 'dropped');
      assert.match(d.last_error ?? '', /no longer a member/);
    }
    assert.ok(log.every((d) => d.status !== 'pending'), 'nothing of the group is left to retry');
    // What the owner writes there now does not reach the bot's webhook at all.
    const seen = rx.requests.length;
    await owner.client.send(group.id, { text: 'after' });
    const ownerNote = await owner.client.createConversation({ kind: 'group', title: 'Control' });
    await owner.client.addMember(ownerNote.id, bot.handle);
    await eventually('a later event of another group reached it', () => rx.requests.slice(seen).some((r) => r.json.data.conversation_id === ownerNote.id));
    assert.ok(rx.requests.slice(seen).every((r) => r.json.data.conversation_id !== group.id));
  });
});
