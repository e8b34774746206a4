/**
 * An unmodified grammY bot — the code a Telegram developer writes — pointed at MMD by its API root
 * alone, holding a conversation with a person who uses MMD's SDK: /start → inline keyboard → tap
 * (the bot answers the callback and edits its message) → a photo each way → a poll → a vote. Once
 * in long-poll mode (bot.start) and once in webhook mode (setWebhook to grammY's webhookCallback
 * on a local HTTP server, with a secret token).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import type { Message } from '@mmd/contracts';
import { Bot, InlineKeyboard, InputFile, webhookCallback } from 'grammy';
import sharp from 'sharp';
import { type TestServer, type User, newBot, onEachDatabase, startTestServer } from './harness.ts';

async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(120 * 80 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 17 + seed * 131 + ((i / 3) | 0) * 11) & 0xff;
  return sharp(raw, { raw: { width: 120, height: 80, channels: 3 } }).png().toBuffer();
}

/** The bot, exactly as it would run against api.telegram.org. */
function echoBot(token: string, apiRoot: string) {
  const bot = new Bot(token, { client: { apiRoot } });
  const seen: string[] = [];
  bot.command('start', (ctx) => ctx.reply('Pick a colour', { reply_markup: new InlineKeyboard().text('Red', 'pick:red').text('Blue', 'pick:blue') }));
  bot.callbackQuery(/^pick:(.+)$/, async (ctx) => {
    await ctx.answerCallbackQuery({ text: `You chose ${ctx.match[1]}` });
    await ctx.editMessageText(`Chosen: ${ctx.match[1]}`);
  });
  bot.on('message:photo', async (ctx) => {
    const file = await ctx.getFile();
    const bytes = Buffer.from(await (await fetch(`${apiRoot}/file/bot${token}/${file.file_path}`)).arrayBuffer());
    const { width } = await sharp(bytes).metadata();
    // Back to the sender, flipped, as a new upload.
    await ctx.replyWithPhoto(new InputFile(await sharp(bytes).flop().png().toBuffer(), 'flipped.png'), { caption: `got ${width}px` });
  });
  bot.command('poll', (ctx) => ctx.replyWithPoll('Tea or coffee?', ['Tea', 'Coffee'], { is_anonymous: false }));
  bot.on('poll_answer', async (ctx) => {
    seen.push(`vote:${ctx.pollAnswer.option_ids.join(',')}`);
    await ctx.api.sendMessage(ctx.pollAnswer.user!.id, `Thanks for voting ${ctx.pollAnswer.option_ids.map((i) => ['Tea', 'Coffee'][i]).join(',')}`);
  });
  bot.catch((err) => {
    seen.push(`error:${err.message}`);
  });
  return { bot, seen };
}


onEachDatabase('telegram with an unmodified grammY bot', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true } });
  });
  after(() => server.close());

  /** The newest message matching, polled gently (the bot shares this process and its database). */
  async function newest(person: User, chatId: string, predicate: (m: Message) => boolean, what: string): Promise<Message> {
    return gently(what, async () => (await person.client.history(chatId, { limit: 20 })).messages.findLast(predicate));
  }

  async function gently<T>(what: string, probe: () => Promise<T | null | undefined>): Promise<T> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The conversation, the same whichever way the bot receives its updates. */
  async function converse(person: User, botHandle: string) {
    const chat = await person.client.openDirect(botHandle);
    await person.client.send(chat.id, { text: '/start' });
    const menu = await newest(person, chat.id, (m) => m.sender_handle === botHandle && m.text === 'Pick a colour', 'the inline keyboard');
    assert.deepEqual(menu.buttons?.[0]?.map((b) => b.text), ['Red', 'Blue']);
    const tapped = await person.client.tapButton(menu.id, menu.buttons![0]![1]!.id);
    assert.equal(tapped.answer?.text, 'You chose blue');
    const edited = await gently('the edited message', async () => {
      const m = await person.client.message(menu.id);
      return m.text === 'Chosen: blue' ? m : null;
    });
    assert.ok(edited.edited_at);
    // editMessageText without reply_markup takes the keyboard away, as on Telegram.
    assert.ok(!edited.buttons?.length);

    const upload = await person.client.upload(await picture(3), { filename: 'cat.png' });
    await person.client.waitForMedia(upload.id);
    await person.client.send(chat.id, { media: [upload.id] });
    const photo = await newest(person, chat.id, (m) => m.sender_handle === botHandle && m.media.length === 1, 'the photo back');
    assert.equal(photo.text, 'got 120px');
    const item = await person.client.waitForMedia(photo.media[0]!.id);
    assert.equal(item.status, 'ready');
    assert.equal(item.width, 120);

    await person.client.send(chat.id, { text: '/poll' });
    const poll = await newest(person, chat.id, (m) => m.sender_handle === botHandle && !!m.poll, 'the poll');
    assert.equal(poll.poll!.question, 'Tea or coffee?');
    assert.deepEqual(poll.poll!.options.map((o) => o.text), ['Tea', 'Coffee']);
    const voted = await person.client.vote(poll.id, [1]);
    assert.equal(voted.poll?.options[1]?.votes, 1);
    await newest(person, chat.id, (m) => m.sender_handle === botHandle && m.text === 'Thanks for voting Coffee', 'the thanks for the vote');
  }

  test('long polling: bot.start() converses with a person on the SDK', async () => {
    const botAccount = await newBot(server);
    const person = await server.signUp();
    const { bot, seen } = echoBot(botAccount.token, `${server.url}/telegram`);
    const running = bot.start({ allowed_updates: ['message', 'callback_query', 'poll_answer'] });
    try {
      await converse(person, botAccount.handle);
      assert.deepEqual(seen.filter((s) => s.startsWith('error')), []);
      assert.ok(seen.includes('vote:1'));
    } finally {
      await bot.stop();
      await running;
    }
  });

  test('webhook: setWebhook to webhookCallback, secret token checked, the same conversation', async () => {
    const botAccount = await newBot(server);
    const person = await server.signUp();
    const { bot, seen } = echoBot(botAccount.token, `${server.url}/telegram`);
    const secretToken = 'sEcReT_123';
    // grammY's own default is 10 s per update; a loaded test machine processes photos slower than that.
    const handler = webhookCallback(bot, 'http', { secretToken, timeoutMilliseconds: 120_000 });
    const received: string[] = [];
    const receiver = http.createServer((req, res) => {
      received.push(String(req.headers['x-telegram-bot-api-secret-token']));
      void handler(req, res);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    try {
      await bot.api.setWebhook(url, { secret_token: secretToken, allowed_updates: ['message', 'callback_query', 'poll_answer'] });
      const info = await bot.api.getWebhookInfo();
      assert.equal(info.url, url);
      // getUpdates is refused while a webhook is set, as on Telegram.
      await assert.rejects(bot.api.getUpdates(), (err: Error & { error_code?: number }) => err.error_code === 409);
      await converse(person, botAccount.handle);
      assert.ok(received.length >= 4);
      assert.ok(received.every((r) => r === secretToken));
      assert.deepEqual(seen.filter((s) => s.startsWith('error')), []);
      assert.equal((await bot.api.getWebhookInfo()).pending_update_count, 0);
    } finally {
      await bot.api.deleteWebhook();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
