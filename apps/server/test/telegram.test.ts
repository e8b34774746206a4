/**
 * The Telegram Bot API path, method by method, over plain HTTP as any Telegram library speaks it
 * (JSON, forms, multipart, query strings), against a person using MMD's SDK; and its refusals in
 * Telegram's own error shape. The grammY conversation is in telegram-grammy.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { type TestBot, type TestServer, type User, eventually, newBot, onEachDatabase, startTestServer, uniqueHandle } from './harness.ts';

async function picture(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(96 * 64 * 3);
  for (let i = 0; i < raw.length; i += 1) raw[i] = (i * 31 + seed * 97 + ((i / 3) | 0) * 7) & 0xff;
  return sharp(raw, { raw: { width: 96, height: 64, channels: 3 } }).png().toBuffer();
}

/** Bot API objects, read field by field as a bot would. */
// biome-ignore lint/suspicious/noExplicitAny: the tests walk Telegram's JSON objects freely
type Tg = any;

interface TgReply {
  ok: boolean;
  result?: Tg;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}


onEachDatabase('telegram bot api', (dialect) => {
  let server: TestServer;
  before(async () => {
    // Answers carry the processed photo's sizes: wait for processing however loaded the machine is.
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true, telegramMediaWaitMs: 120_000 } });
  });
  after(() => server.close());

  /** Calls a method the way Telegram libraries do; `as` picks the encoding. */
  async function tg(token: string, method: string, params: Record<string, unknown> = {}, as: 'json' | 'form' | 'query' = 'json'): Promise<TgReply & { status: number }> {
    const base = `${server.url}/telegram/bot${token}/${method}`;
    let response: Response;
    if (as === 'query') {
      const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
      response = await fetch(`${base}?${q}`);
    } else if (as === 'form') {
      const body = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
      response = await fetch(base, { method: 'POST', body });
    } else {
      response = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
    }
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    return { status: response.status, ...((await response.json()) as TgReply) };
  }

  async function ok(token: string, method: string, params: Record<string, unknown> = {}, as: 'json' | 'form' | 'query' = 'json') {
    const r = await tg(token, method, params, as);
    assert.equal(r.ok, true, `${method} failed: ${r.error_code} ${r.description}`);
    return r.result;
  }

  async function botAndPerson(): Promise<{ bot: TestBot; person: User; chatId: string }> {
    const bot = await newBot(server);
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    return { bot, person, chatId: chat.id };
  }

  test('getMe describes the bot with a numeric id that stays the same', async () => {
    const { bot } = await botAndPerson();
    const me = await ok(bot.token, 'getMe');
    assert.equal(me.is_bot, true);
    assert.equal(me.username, bot.handle);
    assert.ok(Number.isSafeInteger(me.id) && me.id > 0 && me.id < 2 ** 53);
    assert.deepEqual(await ok(bot.token, 'getme', {}, 'query'), me);
  });

  test('getUpdates delivers a person\'s /start with a bot_command entity; offset confirms', async () => {
    const { bot, person, chatId } = await botAndPerson();
    await person.client.send(chatId, { text: '/start hello' });
    const updates = await ok(bot.token, 'getUpdates', { timeout: 5 });
    assert.equal(updates.length, 1);
    const u = updates[0];
    assert.equal(u.message.text, '/start hello');
    assert.deepEqual(u.message.entities, [{ type: 'bot_command', offset: 0, length: 6 }]);
    assert.equal(u.message.chat.type, 'private');
    assert.equal(u.message.from.username, person.handle);
    assert.equal(u.message.chat.id, u.message.from.id);
    assert.equal(u.message.message_id, 1);
    // Not confirmed yet: the same update again.
    assert.deepEqual((await ok(bot.token, 'getUpdates')).map((x: Tg) => x.update_id), [u.update_id]);
    assert.deepEqual(await ok(bot.token, 'getUpdates', { offset: u.update_id + 1 }), []);
    // Long poll: wakes for the next message.
    const waiting = ok(bot.token, 'getUpdates', { offset: u.update_id + 1, timeout: 10 }, 'form');
    await new Promise((r) => setTimeout(r, 100));
    await person.client.send(chatId, { text: 'second' });
    const next = await waiting;
    assert.equal(next[0].message.text, 'second');
    assert.ok(next[0].update_id > u.update_id);
    // The person sees the bot received it once the bot confirmed.
    await ok(bot.token, 'getUpdates', { offset: next[0].update_id + 1 });
    await eventually('delivered receipt', async () => (await person.client.receipts((await person.client.history(chatId)).messages[1]!.id)).delivered === 1);
  });

  test('sendMessage with HTML and MarkdownV2 sends plain text and returns the entities; replies; edits; deletes', async () => {
    const { bot, person, chatId } = await botAndPerson();
    await person.client.send(chatId, { text: 'hi' });
    const [u] = await ok(bot.token, 'getUpdates');
    const chat = u.message.chat.id;
    const sent = await ok(bot.token, 'sendMessage', { chat_id: chat, text: '<b>Bold</b> &amp; <a href="https://mmd.dev">link</a>', parse_mode: 'HTML', reply_parameters: { message_id: u.message.message_id } });
    assert.equal(sent.text, 'Bold & link');
    assert.deepEqual(sent.entities, [
      { type: 'bold', offset: 0, length: 4 },
      { type: 'text_link', offset: 7, length: 4, url: 'https://mmd.dev' },
    ]);
    assert.equal(sent.reply_to_message.message_id, u.message.message_id);
    const { messages } = await person.client.history(chatId);
    assert.equal(messages.at(-1)!.text, 'Bold & link');
    assert.equal(messages.at(-1)!.reply_to, messages[0]!.id);

    const md = await ok(bot.token, 'sendMessage', { chat_id: String(chat), text: '*bold* _it_ `code` 1\\.5', parse_mode: 'MarkdownV2' }, 'form');
    assert.equal(md.text, 'bold it code 1.5');
    assert.deepEqual(md.entities.map((e: Tg) => e.type), ['bold', 'italic', 'code']);
    const bad = await tg(bot.token, 'sendMessage', { chat_id: chat, text: 'a.b!', parse_mode: 'MarkdownV2' });
    assert.equal(bad.status, 400);
    assert.match(bad.description!, /^Bad Request: can't parse entities/);

    const edited = await ok(bot.token, 'editMessageText', { chat_id: chat, message_id: sent.message_id, text: 'Changed' });
    assert.equal(edited.text, 'Changed');
    assert.ok(edited.edit_date);
    const same = await tg(bot.token, 'editMessageText', { chat_id: chat, message_id: sent.message_id, text: 'Changed' });
    assert.equal(same.status, 400);
    assert.match(same.description!, /message is not modified/);
    assert.equal((await person.client.message(messages.at(-1)!.id)).text, 'Changed');
    // A person's message is not the bot's to edit.
    assert.equal((await tg(bot.token, 'editMessageText', { chat_id: chat, message_id: u.message.message_id, text: 'x' })).status, 400);

    assert.equal(await ok(bot.token, 'deleteMessage', { chat_id: chat, message_id: md.message_id }), true);
    const again = await tg(bot.token, 'deleteMessage', { chat_id: chat, message_id: md.message_id });
    assert.equal(again.status, 400);
    // The person's edit reaches the bot as edited_message.
    await ok(bot.token, 'getUpdates', { offset: u.update_id + 1 });
    await person.client.edit(messages[0]!.id, 'hi again');
    const [e] = await ok(bot.token, 'getUpdates', { offset: u.update_id + 1, timeout: 5 });
    assert.equal(e.edited_message.text, 'hi again');
    assert.equal(e.edited_message.message_id, 1);
  });

  test('a photo still processing when sendPhoto answers never takes the id of a later message (message_id 0)', async () => {
    // Answer at once, before processing: the message is pending, its seq not yet its own.
    const quick = await startTestServer({ dialect, config: { telegramMediaWaitMs: 0 } });
    try {
      const bot = await newBot(quick);
      const person = await quick.signUp();
      const chat = await person.client.openDirect(bot.handle);
      await person.client.send(chat.id, { text: 'send me a big picture' });
      const call = async (method: string, body: BodyInit, headers: Record<string, string> = {}) =>
        (await (await fetch(`${quick.url}/telegram/bot${bot.token}/${method}`, { method: 'POST', body, headers })).json()) as TgReply;
      const [u] = (await call('getUpdates', '{}', { 'content-type': 'application/json' })).result;
      const chatId = u.message.chat.id;
      // Large and noisy, so its renditions take a while.
      const big = await sharp(Buffer.from(Array.from({ length: 600 * 400 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 600, height: 400, channels: 3 } })
        .resize(2400, 1600)
        .jpeg({ quality: 95 })
        .toBuffer();
      const form = new FormData();
      form.set('chat_id', String(chatId));
      form.set('photo', new Blob([new Uint8Array(big)]), 'big.jpg');
      const sent = await call('sendPhoto', form);
      assert.equal(sent.ok, true, String(sent.description));
      const next = await person.client.send(chat.id, { text: 'the next message' });
      assert.notEqual(sent.result.message_id, next.seq, 'the answer must not name the later message');
      const photo = await eventually('the photo is delivered', async () => (await person.client.history(chat.id)).messages.find((m) => m.media.length > 0 && m.status === 'sent'), 60_000);
      if (sent.result.message_id !== 0) assert.equal(sent.result.message_id, photo.seq, 'a ready photo answers with its own seq');
      // The later message is not the bot's to edit, whatever id it tries.
      const edit = await call('editMessageText', JSON.stringify({ chat_id: chatId, message_id: next.seq, text: 'hijacked' }), { 'content-type': 'application/json' });
      assert.equal(edit.ok, false);
      assert.equal((await person.client.message(next.id)).text, 'the next message');
    } finally {
      await quick.close();
    }
  });

  test('photos both ways: multipart upload, file_id reuse, getFile and download; the person\'s photo reaches the bot', async () => {
    const { bot, person, chatId } = await botAndPerson();
    await person.client.send(chatId, { text: 'send me a picture' });
    const [u] = await ok(bot.token, 'getUpdates');
    const chat = u.message.chat.id;
    const form = new FormData();
    form.set('chat_id', String(chat));
    form.set('caption', '<i>for you</i>');
    form.set('parse_mode', 'HTML');
    form.set('photo', new Blob([new Uint8Array(await picture(1))]), 'photo.png');
    const response = await fetch(`${server.url}/telegram/bot${bot.token}/sendPhoto`, { method: 'POST', body: form });
    const sent = (await response.json()) as TgReply;
    assert.equal(sent.ok, true, String(sent.description));
    const photo = sent.result.photo;
    assert.equal(photo.length, 2);
    assert.equal(photo[1].width, 96);
    assert.equal(sent.result.caption, 'for you');
    assert.deepEqual(sent.result.caption_entities, [{ type: 'italic', offset: 0, length: 7 }]);
    const file = await ok(bot.token, 'getFile', { file_id: photo[1].file_id });
    assert.ok(file.file_path);
    const download = await fetch(`${server.url}/telegram/file/bot${bot.token}/${file.file_path}`);
    assert.equal(download.status, 200);
    assert.equal((await sharp(Buffer.from(await download.arrayBuffer())).metadata()).width, 96);
    // The person sees it as an MMD photo.
    const mine = (await person.client.history(chatId)).messages.at(-1)!;
    assert.equal(mine.media[0]!.kind, 'image');
    assert.equal(mine.text, 'for you');
    // Sent again by file_id: no upload.
    const again = await ok(bot.token, 'sendPhoto', { chat_id: chat, photo: photo[1].file_id });
    assert.equal(again.photo[1].file_id, photo[1].file_id);

    // The person's photo, and the bot downloading it.
    const upload = await person.client.upload(await picture(2), { filename: 'mine.png' });
    await person.client.waitForMedia(upload.id);
    await person.client.send(chatId, { text: 'and mine', media: [upload.id] });
    const updates = await ok(bot.token, 'getUpdates', { offset: u.update_id + 1, timeout: 5 });
    const theirs = updates.find((x: Tg) => x.message?.photo);
    assert.ok(theirs, 'the person\'s photo arrives');
    assert.equal(theirs.message.caption, 'and mine');
    const theirFile = await ok(bot.token, 'getFile', { file_id: theirs.message.photo.at(-1).file_id });
    assert.equal((await fetch(`${server.url}/telegram/file/bot${bot.token}/${theirFile.file_path}`)).status, 200);
    // Another bot cannot fetch it, by file_id or by path.
    const stranger = await newBot(server);
    const denied = await tg(stranger.token, 'getFile', { file_id: theirs.message.photo.at(-1).file_id });
    assert.equal(denied.status, 400);
    assert.equal((await fetch(`${server.url}/telegram/file/bot${stranger.token}/${theirFile.file_path}`)).status, 404);
    // The bot may send the person's photo on (a copy it owns).
    const copied = await ok(bot.token, 'copyMessage', { chat_id: chat, from_chat_id: chat, message_id: theirs.message.message_id });
    assert.ok(copied.message_id > theirs.message.message_id);
  });

  test('groups: negative chat ids, my_chat_member, getChat, members, forward, leaveChat', async () => {
    const bot = await newBot(server);
    const owner = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'Team', members: [bot.handle] });
    await owner.client.send(group.id, { text: 'hello team' });
    const updates = await ok(bot.token, 'getUpdates', { timeout: 5 });
    const joined = updates.find((u: Tg) => u.my_chat_member);
    assert.ok(joined, 'my_chat_member when put in a group');
    assert.equal(joined.my_chat_member.new_chat_member.status, 'member');
    const message = updates.find((u: Tg) => u.message).message;
    assert.ok(message.chat.id < 0);
    assert.equal(message.chat.type, 'group');
    assert.equal(message.chat.title, 'Team');
    const chat = message.chat.id;
    const info = await ok(bot.token, 'getChat', { chat_id: chat });
    assert.equal(info.title, 'Team');
    assert.equal(await ok(bot.token, 'getChatMemberCount', { chat_id: chat }), 2);
    const member = await ok(bot.token, 'getChatMember', { chat_id: chat, user_id: message.from.id });
    assert.equal(member.status, 'creator');
    const forwarded = await ok(bot.token, 'forwardMessage', { chat_id: chat, from_chat_id: chat, message_id: message.message_id });
    assert.equal(forwarded.forward_origin.sender_user.id, message.from.id);
    assert.equal(await ok(bot.token, 'leaveChat', { chat_id: chat }), true);
    const gone = await tg(bot.token, 'sendMessage', { chat_id: chat, text: 'still here?' });
    assert.equal(gone.status, 403);
    assert.match(gone.description!, /^Forbidden: /);
  });

  test('keyboards: inline buttons, editMessageReplyMarkup, reply keyboards as quick replies and their removal; refusals', async () => {
    const { bot, person, chatId } = await botAndPerson();
    await person.client.send(chatId, { text: 'hi' });
    const [u] = await ok(bot.token, 'getUpdates');
    const chat = u.message.chat.id;
    const sent = await ok(bot.token, 'sendMessage', {
      chat_id: chat,
      text: 'Menu',
      reply_markup: { inline_keyboard: [[{ text: 'Go', callback_data: 'go' }, { text: 'Site', url: 'https://mmd.dev/x' }], [{ text: 'Copy', copy_text: { text: 'code-42' } }]] },
    });
    assert.deepEqual(sent.reply_markup.inline_keyboard, [[{ text: 'Go', callback_data: 'go' }, { text: 'Site', url: 'https://mmd.dev/x' }], [{ text: 'Copy', copy_text: { text: 'code-42' } }]]);
    const seen = (await person.client.history(chatId)).messages.at(-1)!;
    assert.deepEqual(seen.buttons!.map((r) => r.map((b) => b.type)), [['callback', 'url'], ['copy']]);
    assert.equal(seen.buttons![0]![0]!.data, undefined, 'callback data is for the sender only');
    // The person taps; the bot hears a callback_query and answers it.
    const tapping = person.client.tapButton(seen.id, seen.buttons![0]![0]!.id);
    const [cb] = await ok(bot.token, 'getUpdates', { offset: u.update_id + 1, timeout: 10 });
    assert.equal(cb.callback_query.data, 'go');
    assert.equal(cb.callback_query.message.message_id, sent.message_id);
    assert.equal(cb.callback_query.from.username, person.handle);
    assert.equal(await ok(bot.token, 'answerCallbackQuery', { callback_query_id: cb.callback_query.id, text: 'Done', show_alert: true }), true);
    assert.deepEqual((await tapping).answer, { text: 'Done', alert: true });
    assert.equal((await tg(bot.token, 'answerCallbackQuery', { callback_query_id: cb.callback_query.id })).status, 400);
    // New keyboard, then none.
    const changed = await ok(bot.token, 'editMessageReplyMarkup', { chat_id: chat, message_id: sent.message_id, reply_markup: { inline_keyboard: [[{ text: 'Again', callback_data: 'again' }]] } });
    assert.deepEqual(changed.reply_markup.inline_keyboard, [[{ text: 'Again', callback_data: 'again' }]]);
    assert.deepEqual((await person.client.message(seen.id)).buttons!.map((r) => r.map((b) => b.text)), [['Again']]);
    const cleared = await ok(bot.token, 'editMessageReplyMarkup', { chat_id: chat, message_id: sent.message_id });
    assert.equal(cleared.reply_markup, undefined);
    assert.ok(!(await person.client.message(seen.id)).buttons?.length);
    // New text and a new keyboard are one edit: one event carrying both, never the new text with the old keys.
    const cursor = await person.client.updatesState();
    const both = await ok(bot.token, 'editMessageText', { chat_id: chat, message_id: sent.message_id, text: 'Menu, again', reply_markup: { inline_keyboard: [[{ text: 'Once', callback_data: 'once' }]] } });
    assert.deepEqual(both.reply_markup.inline_keyboard, [[{ text: 'Once', callback_data: 'once' }]]);
    const gone = await ok(bot.token, 'editMessageText', { chat_id: chat, message_id: sent.message_id, text: 'Menu, closed' });
    assert.equal(gone.reply_markup, undefined);
    const edits = (await person.client.updates({ cursor })).events.flatMap((e) => (e.type === 'message.edited' && e.data.id === seen.id ? [e.data] : []));
    assert.deepEqual(
      edits.map((m) => [m.text, (m.buttons ?? []).flat().map((b) => b.text)]),
      [
        ['Menu, again', ['Once']],
        ['Menu, closed', []],
      ],
    );
    // Reply keyboards are quick replies; remove_keyboard takes them away.
    await ok(bot.token, 'sendMessage', { chat_id: chat, text: 'Choose', reply_markup: { keyboard: [['Yes', { text: 'No' }]], one_time_keyboard: true, input_field_placeholder: 'Pick one' } });
    const quick = (await person.client.history(chatId)).messages.at(-1)!;
    assert.deepEqual(quick.quick_replies, { rows: [[{ text: 'Yes' }, { text: 'No' }]], one_time: true, persistent: false, placeholder: 'Pick one', remove: false });
    await ok(bot.token, 'sendMessage', { chat_id: chat, text: 'Thanks', reply_markup: { remove_keyboard: true } }, 'form');
    assert.equal((await person.client.history(chatId)).messages.at(-1)!.quick_replies?.remove, true);
    // What MMD cannot show is refused, in Telegram's shape.
    assert.equal((await tg(bot.token, 'sendMessage', { chat_id: chat, text: 'x', reply_markup: { inline_keyboard: [[{ text: 'Pay', pay: true }]] } })).status, 400);
    assert.equal((await tg(bot.token, 'sendMessage', { chat_id: chat, text: 'x', reply_markup: { inline_keyboard: [[{ text: 'Insecure', url: 'http://example.com' }]] } })).status, 400);
    const tooMany = await tg(bot.token, 'sendMessage', { chat_id: chat, text: 'x', reply_markup: { inline_keyboard: [Array.from({ length: 9 }, (_, i) => ({ text: `b${i}`, callback_data: `${i}` }))] } });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.ok, false);
  });

  test('polls: regular and quiz, votes as poll_answer, stopPoll, poll updates for the bot\'s own polls', async () => {
    const { bot, person, chatId } = await botAndPerson();
    await person.client.send(chatId, { text: 'hi' });
    const [u] = await ok(bot.token, 'getUpdates');
    const chat = u.message.chat.id;
    const poll = await ok(bot.token, 'sendPoll', { chat_id: chat, question: 'Lunch?', options: ['Pizza', { text: 'Salad' }], is_anonymous: false, allows_multiple_answers: true });
    assert.equal(poll.poll.question, 'Lunch?');
    assert.deepEqual(poll.poll.options, [{ text: 'Pizza', voter_count: 0 }, { text: 'Salad', voter_count: 0 }]);
    assert.equal(poll.poll.type, 'regular');
    assert.equal(poll.poll.allows_multiple_answers, true);
    const quiz = await ok(bot.token, 'sendPoll', { chat_id: chat, question: '2+2?', options: ['3', '4'], type: 'quiz', correct_option_id: 1, explanation: 'arithmetic' }, 'form');
    assert.equal(quiz.poll.type, 'quiz');
    assert.equal(quiz.poll.correct_option_id, 1);
    const pollMessage = (await person.client.history(chatId)).messages.find((m) => m.poll?.question === 'Lunch?')!;
    await person.client.vote(pollMessage.id, [0, 1]);
    const updates = await ok(bot.token, 'getUpdates', { offset: u.update_id + 1, timeout: 10, allowed_updates: ['message', 'poll', 'poll_answer'] });
    const answer = updates.find((x: Tg) => x.poll_answer);
    assert.deepEqual(answer.poll_answer.option_ids, [0, 1]);
    assert.equal(answer.poll_answer.poll_id, poll.poll.id);
    assert.equal(answer.poll_answer.user.username, person.handle);
    const stopped = await ok(bot.token, 'stopPoll', { chat_id: chat, message_id: poll.message_id });
    assert.equal(stopped.is_closed, true);
    assert.deepEqual(stopped.options.map((o: Tg) => o.voter_count), [1, 1]);
    assert.equal((await tg(bot.token, 'stopPoll', { chat_id: chat, message_id: poll.message_id })).status, 400);
    const later = await ok(bot.token, 'getUpdates', { offset: Math.max(...updates.map((x: Tg) => x.update_id)) + 1, timeout: 10 });
    const closed = later.find((x: Tg) => x.poll?.is_closed);
    assert.ok(closed, 'a poll update when the bot\'s poll closes');
    assert.equal(closed.poll.id, poll.poll.id);
    assert.equal((await tg(bot.token, 'sendPoll', { chat_id: chat, question: 'One?', options: ['only'] })).status, 400);
    assert.equal((await tg(bot.token, 'sendPoll', { chat_id: chat, question: 'Q', options: ['a', 'b'], type: 'quiz', correct_option_id: 5 })).status, 400);
  });

  test('setMyCommands, getMyCommands, sendChatAction', async () => {
    const { bot, person, chatId } = await botAndPerson();
    await ok(bot.token, 'setMyCommands', { commands: [{ command: 'start', description: 'Start' }, { command: 'help', description: 'Help' }] });
    assert.deepEqual(await ok(bot.token, 'getMyCommands'), [{ command: 'start', description: 'Start' }, { command: 'help', description: 'Help' }]);
    assert.equal((await tg(bot.token, 'setMyCommands', { commands: [{ command: 'Bad Command', description: 'x' }] })).status, 400);
    await person.client.send(chatId, { text: 'hi' });
    const [u] = await ok(bot.token, 'getUpdates');
    assert.equal(await ok(bot.token, 'sendChatAction', { chat_id: u.message.chat.id, action: 'typing' }), true);
  });

  test('refusals come in Telegram\'s shape: bad token 401, unknown method 404, chats the bot cannot see 400/403', async () => {
    const { bot, person, chatId } = await botAndPerson();
    const badToken = await tg('mmd_d_not-a-real-token-at-all', 'getMe');
    assert.deepEqual(badToken, { status: 401, ok: false, error_code: 401, description: 'Unauthorized' });
    // A person's token is not a bot's.
    assert.equal((await tg(person.token, 'getMe')).status, 401);
    // A rotated token dies at once; the new one works.
    const owner = await server.signUp();
    const made = await owner.client.createBot({ handle: uniqueHandle('bot'), name: 'Rotating' });
    assert.equal((await tg(made.token, 'getMe')).ok, true);
    const rotated = await owner.client.rotateBotToken(made.bot.id);
    assert.equal((await tg(made.token, 'getMe')).status, 401);
    assert.equal((await tg(rotated.token, 'getMe')).ok, true);
    const unknown = await tg(bot.token, 'sendTelepathy');
    assert.deepEqual(unknown, { status: 404, ok: false, error_code: 404, description: 'Not Found' });
    const nowhere = await fetch(`${server.url}/telegram/nothing-here`);
    assert.equal(nowhere.status, 404);
    assert.equal(((await nowhere.json()) as TgReply).ok, false);
    // A chat the bot has never seen, and one it is not in.
    const unseen = await tg(bot.token, 'sendMessage', { chat_id: 123456789, text: 'hi' });
    assert.deepEqual(unseen, { status: 400, ok: false, error_code: 400, description: 'Bad Request: chat not found' });
    const other = await server.signUp();
    const theirGroup = await other.client.createConversation({ kind: 'group', title: 'Private' });
    const otherBot = await newBot(server);
    await other.client.addMember(theirGroup.id, otherBot.handle);
    await other.client.send(theirGroup.id, { text: 'secret' });
    const seen = await ok(otherBot.token, 'getUpdates');
    const groupChatId = seen.find((u: Tg) => u.message).message.chat.id;
    const outsider = await tg(bot.token, 'sendMessage', { chat_id: groupChatId, text: 'let me in' });
    assert.equal(outsider.status, 403);
    assert.equal(outsider.ok, false);
    assert.equal((await tg(bot.token, 'getChat', { chat_id: groupChatId })).status, 403);
    // Missing and malformed parameters.
    assert.equal((await tg(bot.token, 'sendMessage', { text: 'no chat' })).description, 'Bad Request: chat_id is empty');
    await person.client.send(chatId, { text: 'x' });
    const [u] = await ok(bot.token, 'getUpdates');
    assert.equal((await tg(bot.token, 'sendMessage', { chat_id: u.message.chat.id })).description, 'Bad Request: text is empty');
    assert.equal((await tg(bot.token, 'sendMessage', { chat_id: u.message.chat.id, text: 'x'.repeat(4097) })).description, 'Bad Request: message is too long');
    assert.equal((await tg(bot.token, 'editMessageText', { chat_id: u.message.chat.id, message_id: 999, text: 'x' })).description, 'Bad Request: message to edit not found');
    // A person who blocks the bot: Telegram's words.
    await person.client.block(bot.handle);
    assert.deepEqual(await tg(bot.token, 'sendMessage', { chat_id: u.message.chat.id, text: 'still there?' }), { status: 403, ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const malformed = await fetch(`${server.url}/telegram/bot${bot.token}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as TgReply).ok, false);
  });

  test('webhook: updates POSTed in order with the secret header; a failing receiver is retried and getWebhookInfo says why', async () => {
    const { bot, person, chatId } = await botAndPerson();
    const bodies: { secret: string | undefined; update: Tg }[] = [];
    let failNext = 1;
    const receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        if (failNext > 0) {
          failNext -= 1;
          res.statusCode = 500;
          return res.end('boom');
        }
        bodies.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, update: JSON.parse(raw) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    try {
      await person.client.send(chatId, { text: 'before the webhook' });
      // drop_pending_updates: what was waiting is skipped.
      assert.equal(await ok(bot.token, 'setWebhook', { url, secret_token: 'abc_DEF-1', drop_pending_updates: true }), true);
      const conflict = await tg(bot.token, 'getUpdates');
      assert.equal(conflict.status, 409);
      assert.match(conflict.description!, /^Conflict: /);
      for (const text of ['one', 'two', 'three']) await person.client.send(chatId, { text });
      await eventually('three deliveries', () => bodies.length >= 3, 15_000);
      assert.deepEqual(bodies.map((b) => b.update.message.text), ['one', 'two', 'three']);
      assert.ok(bodies.every((b) => b.secret === 'abc_DEF-1'));
      assert.ok(bodies[0]!.update.update_id < bodies[1]!.update.update_id);
      const info = await ok(bot.token, 'getWebhookInfo');
      assert.equal(info.url, url);
      assert.equal(info.pending_update_count, 0);
      assert.match(info.last_error_message, /500/);
      assert.ok(info.last_error_date > 0);
      // deleteWebhook: back to getUpdates, nothing delivered twice.
      await ok(bot.token, 'deleteWebhook');
      assert.equal((await ok(bot.token, 'getWebhookInfo')).url, '');
      await person.client.send(chatId, { text: 'after' });
      const after = await ok(bot.token, 'getUpdates', { timeout: 5 });
      assert.deepEqual(after.map((u: Tg) => u.message.text), ['after']);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test('a webhook reply runs the method it names', async () => {
    const { bot, person, chatId } = await botAndPerson();
    const receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        const update = JSON.parse(raw);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: 'sendMessage', chat_id: update.message.chat.id, text: `echo: ${update.message.text}` }));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await ok(bot.token, 'setWebhook', { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/` });
      await person.client.send(chatId, { text: 'ping' });
      await eventually('the echo', async () => (await person.client.history(chatId)).messages.some((m) => m.text === 'echo: ping'), 15_000);
    } finally {
      await ok(bot.token, 'deleteWebhook');
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test('sendPhoto by URL fetches it through the outbound fetch; sendMediaGroup sends one album', async () => {
    const { bot, person, chatId } = await botAndPerson();
    const bytes = await picture(7);
    const files = http.createServer((_req, res) => {
      res.setHeader('content-type', 'image/png');
      res.end(bytes);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    try {
      await person.client.send(chatId, { text: 'hi' });
      const [u] = await ok(bot.token, 'getUpdates');
      const chat = u.message.chat.id;
      const byUrl = await ok(bot.token, 'sendPhoto', { chat_id: chat, photo: `http://127.0.0.1:${(files.address() as { port: number }).port}/cat.png` });
      assert.equal(byUrl.photo[1].width, 96);
      const album = await ok(bot.token, 'sendMediaGroup', { chat_id: chat, media: [{ type: 'photo', media: byUrl.photo[1].file_id, caption: 'two' }, { type: 'photo', media: byUrl.photo[1].file_id }] });
      assert.equal(album.length, 1);
      assert.equal(album[0].caption, 'two');
      const last = (await person.client.history(chatId)).messages.at(-1)!;
      assert.equal(last.media.length, 2);
      assert.equal((await tg(bot.token, 'sendPhoto', { chat_id: chat, photo: 'med_doesnotexist' })).status, 400);
    } finally {
      await new Promise((resolve) => files.close(resolve));
    }
  });

  test('allowed_updates: chat_member only when asked; channel posts arrive as channel_post', async () => {
    const bot = await newBot(server);
    const owner = await server.signUp();
    const newcomer = await server.signUp();
    const group = await owner.client.createConversation({ kind: 'group', title: 'Club', members: [bot.handle] });
    await owner.client.addMember(group.id, newcomer.handle);
    const plain = await ok(bot.token, 'getUpdates', { timeout: 2 });
    assert.ok(!plain.some((u: Tg) => u.chat_member));
    const everything = await ok(bot.token, 'getUpdates', { allowed_updates: ['chat_member', 'my_chat_member', 'message'] });
    const joined = everything.find((u: Tg) => u.chat_member);
    assert.equal(joined.chat_member.new_chat_member.user.username, newcomer.handle);
    assert.equal(joined.chat_member.new_chat_member.status, 'member');
    assert.equal(joined.chat_member.old_chat_member.status, 'left');

    const channelBot = await newBot(server);
    const channel = await owner.client.createConversation({ kind: 'channel', title: 'News', handle: `news${Date.now().toString(36)}`, members: [channelBot.handle] });
    await owner.client.send(channel.id, { text: 'headline' });
    const posts = await ok(channelBot.token, 'getUpdates', { timeout: 5 });
    const post = posts.find((u: Tg) => u.channel_post);
    assert.equal(post.channel_post.text, 'headline');
    assert.equal(post.channel_post.chat.type, 'channel');
    assert.ok(String(post.channel_post.chat.id).startsWith('-100'));
    // "@handle" names the channel too; a subscriber bot may not post there.
    const refused = await tg(channelBot.token, 'sendMessage', { chat_id: `@${channel.handle}`, text: 'mine' });
    assert.equal(refused.status, 403);
  });
});

onEachDatabase('telegram bot api, default outbound policy', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { mediaUploadRateLimit: 1 } });
  });
  after(() => server.close());

  test('setWebhook and photo URLs may not aim at private addresses; upload limits answer 429 with retry_after', async () => {
    const bot = await newBot(server);
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    await person.client.send(chat.id, { text: 'hi' });
    const call = async (method: string, params: Record<string, unknown>) => {
      const response = await fetch(`${server.url}/telegram/bot${bot.token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
      return { status: response.status, ...((await response.json()) as TgReply) };
    };
    for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest', 'http://[::1]/x', 'ftp://example.com/']) {
      const r = await call('setWebhook', { url });
      assert.equal(r.status, 400, url);
      assert.match(r.description!, /^Bad Request: bad webhook/);
    }
    const updates = (await call('getUpdates', {})).result;
    const chatId = updates[0].message.chat.id;
    const byUrl = await call('sendPhoto', { chat_id: chatId, photo: 'http://127.0.0.1:9/cat.png' });
    assert.equal(byUrl.status, 400);
    assert.match(byUrl.description!, /failed to get HTTP URL content/);
    const form = () => {
      const f = new FormData();
      f.set('chat_id', String(chatId));
      f.set('document', new Blob([new Uint8Array(Buffer.from('%PDF-1.4 not really'))]), 'a.pdf');
      return f;
    };
    await fetch(`${server.url}/telegram/bot${bot.token}/sendDocument`, { method: 'POST', body: form() });
    const limited = await fetch(`${server.url}/telegram/bot${bot.token}/sendDocument`, { method: 'POST', body: form() });
    assert.equal(limited.status, 429);
    const body = (await limited.json()) as TgReply;
    assert.equal(body.error_code, 429);
    assert.ok((body.parameters?.retry_after ?? 0) > 0);
  });
});

test('the request log never holds a bot token from a Telegram path', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const server = await startTestServer({ dialect: 'sqlite', logger: { level: 'info', stream: sink } });
  t.after(() => server.close());
  const bot = await newBot(server);
  assert.equal((await fetch(`${server.url}/telegram/bot${bot.token}/getMe`)).status, 200);
  assert.equal((await fetch(`${server.url}/telegram/file/bot${bot.token}/med_nothing/preview.jpg`)).status, 404);
  const log = lines.join('');
  assert.ok(log.includes('/telegram/bot[redacted]/getMe'), 'the call was logged, masked');
  assert.ok(log.includes('/telegram/file/bot[redacted]/'), 'the download was logged, masked');
  assert.ok(!log.includes(bot.token.slice(6)), 'no token in the log');
});
