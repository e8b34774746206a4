/**
 * PostgreSQL event-writing transactions take advisory locks (their in-flight marks, and scope
 * locks where code counts before it writes; platform/db). Advisory locks are per database: the
 * keys carry the schema, so an MMD in another schema of the same database (another test run, a
 * deployment side by side) never holds up this one's writes. And a small pool under a burst of
 * Telegram edits, keyboard edits, votes and sends answers them all: no write transaction asks the
 * pool for a second connection while it holds a lock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { POSTGRES_URL, type TestServer, startTestServer, uniqueHandle } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: Telegram's JSON objects
type Tg = any;

describe('PostgreSQL event lock and a small pool [postgres]', { skip: POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, () => {
  let server: TestServer;
  let neighbour: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'postgres', pgPoolSize: 2 });
    neighbour = await startTestServer({ dialect: 'postgres' });
  });
  after(async () => {
    await server?.close();
    await neighbour?.close();
  });

  async function ok(token: string, method: string, params: Record<string, unknown> = {}): Promise<Tg> {
    const response = await fetch(`${server.url}/telegram/bot${token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
    const body = (await response.json()) as { ok: boolean; result?: Tg; description?: string };
    assert.equal(body.ok, true, `${method} failed: ${body.description}`);
    return body.result;
  }

  /** A bot in a direct chat with a person, with text messages, keyboards and a poll to work on. */
  async function scene() {
    const owner = await server.signUp();
    const { bot, token } = await owner.client.createBot({ handle: uniqueHandle('bot'), name: 'Pool bot' });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    await person.client.send(chat.id, { text: 'hi' });
    const [u] = await ok(token, 'getUpdates');
    const chatId = u.message.chat.id;
    const texts: Tg[] = [];
    for (let i = 0; i < 5; i += 1) texts.push(await ok(token, 'sendMessage', { chat_id: chatId, text: `t${i}` }));
    const menus: Tg[] = [];
    for (let i = 0; i < 5; i += 1) menus.push(await ok(token, 'sendMessage', { chat_id: chatId, text: `m${i}`, reply_markup: { inline_keyboard: [[{ text: 'Go', callback_data: `go${i}` }]] } }));
    await ok(token, 'sendPoll', { chat_id: chatId, question: 'Lunch?', options: ['Pizza', 'Salad'], is_anonymous: false });
    const pollMessage = (await person.client.history(chat.id)).messages.find((m) => m.poll?.question === 'Lunch?')!;
    return { token, person, chat, chatId, texts, menus, pollMessage };
  }

  test('a write transaction held open in another schema of the database does not hold up this one', { timeout: 120_000 }, async () => {
    const s = await scene();
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // The neighbour's transaction has its event lock once its body runs; it waits there.
    const neighbourWrite = neighbour.db.writeTransaction(async () => {
      locked();
      await released;
    });
    await holding;
    // Bounded, so a regression fails instead of hanging: the neighbour lets go after 30 s at most.
    let releasedByTimer = false;
    const timer = setTimeout(() => {
      releasedByTimer = true;
      release();
    }, 30_000);
    try {
      await ok(s.token, 'editMessageText', { chat_id: s.chatId, message_id: s.texts[0].message_id, text: 'edited' });
      await ok(s.token, 'editMessageReplyMarkup', { chat_id: s.chatId, message_id: s.menus[0].message_id, reply_markup: { inline_keyboard: [[{ text: 'Again', callback_data: 'again' }]] } });
      await s.person.client.vote(s.pollMessage.id, [0]);
      await s.person.client.send(s.chat.id, { text: 'still here' });
      assert.equal(releasedByTimer, false, 'the writes waited for a transaction in another schema');
    } finally {
      clearTimeout(timer);
      release();
      await neighbourWrite;
    }
    assert.equal((await s.person.client.history(s.chat.id)).messages.find((m) => m.text === 'edited')?.text, 'edited');
  });

  test('a pool of two answers a burst of edits, keyboard edits, votes and sends', { timeout: 120_000 }, async () => {
    const s = await scene();
    const voters = await Promise.all(Array.from({ length: 3 }, () => server.signUp()));
    assert.equal(voters.length, 3);
    const calls: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round += 1) {
      for (const [i, t] of s.texts.entries()) calls.push(ok(s.token, 'editMessageText', { chat_id: s.chatId, message_id: t.message_id, text: `t${i} edit ${round}` }));
      for (const [i, m] of s.menus.entries()) calls.push(ok(s.token, 'editMessageReplyMarkup', { chat_id: s.chatId, message_id: m.message_id, reply_markup: { inline_keyboard: [[{ text: `Go ${round}`, callback_data: `go${i}-${round}` }]] } }));
      calls.push(ok(s.token, 'sendMessage', { chat_id: s.chatId, text: `s${round}` }));
      calls.push(s.person.client.send(s.chat.id, { text: `p${round}` }));
      calls.push(s.person.client.vote(s.pollMessage.id, [round % 2]));
      // A long poll waiting meanwhile holds no connection.
      calls.push(ok(s.token, 'getUpdates', { timeout: 1, offset: -1 }));
    }
    const results = await Promise.allSettled(calls);
    assert.deepEqual(results.filter((r) => r.status === 'rejected'), [], 'every call answers');
    const history = (await s.person.client.history(s.chat.id)).messages;
    assert.match(history.find((m) => m.text?.startsWith('t0'))?.text ?? '', /^t0 edit \d$/);
    assert.ok(history.some((m) => m.text === 'p2'));
  });
});
