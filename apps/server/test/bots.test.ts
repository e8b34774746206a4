/**
 * The bot platform: a person creates and owns bots; the bot's token is its bearer token on the
 * native API (rotation kills the old one and its connections at once); people reach a bot by
 * opening a direct chat with its handle, and bots never start chats with people; bots hear
 * messages, joins and leaves and the receipts of their own messages on /v1/updates and the stream.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SyncEvent } from '@mmd/contracts';
import { type TestServer, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('bots', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { botMaxPerOwner: 3 } });
  });
  after(() => server.close());

  async function personWithBot() {
    const owner = await server.signUp();
    const handle = uniqueHandle('bot');
    const created = await owner.client.createBot({ handle, name: 'Helper' });
    return { owner, bot: created.bot, token: created.token, botClient: server.anonymous.as(created.token) };
  }

  test('a person creates a bot; its token signs in as the bot (kind bot) on the native API', async () => {
    const { owner, bot, token, botClient } = await personWithBot();
    assert.match(token, /^mmd_b_/);
    assert.equal(bot.owner_id, owner.accountId);
    assert.equal(bot.name, 'Helper');
    const me = await botClient.me();
    assert.deepEqual([me.id, me.handle, me.kind], [bot.id, bot.handle, 'bot']);
    assert.equal((await botClient.botMe()).id, bot.id);
    assert.deepEqual((await owner.client.bots()).map((b) => b.id), [bot.id]);
    assert.equal((await owner.client.bot(bot.id)).handle, bot.handle);
    assert.equal((await botClient.bot(bot.id)).handle, bot.handle, 'the bot reads itself');
    assert.equal((await owner.client.updateBot(bot.id, { name: 'Concierge' })).name, 'Concierge');
    // Other capabilities (the Telegram path) resolve the same token.
    assert.deepEqual(await server.services.bots.authenticateBotToken(token), { botId: bot.id, handle: bot.handle });
    assert.equal(await server.services.bots.authenticateBotToken(`${token}x`), null);
    assert.equal(await server.services.bots.authenticateBotToken(owner.token), null);
    // No password signs in as a bot.
    await rejectsWith(server.anonymous.login({ handle: bot.handle, password: 'correct horse battery' }), 'invalid_credentials', 401);
  });

  test('a person opens a direct chat with the bot by handle; the bot hears messages, receipts, joins and leaves', async (t) => {
    const { owner, bot, botClient } = await personWithBot();
    const person = await server.signUp();
    const start = await botClient.updatesState();
    const live: SyncEvent[] = [];
    const stream = botClient.stream({ cursor: start, onEvent: (e) => live.push(e) });
    t.after(() => stream.close());
    await stream.ready;

    const chat = await person.client.openDirect(bot.handle);
    const hello = await person.client.send(chat.id, { text: '/start' });
    const polled = await botClient.updates({ cursor: start, timeout: 5 });
    const created = polled.events.find((e) => e.type === 'message.created');
    assert.ok(created && created.type === 'message.created');
    assert.equal(created.data.text, '/start');
    assert.equal(created.data.sender_id, person.accountId);

    // The bot answers in the same chat (finding it by the person's handle works once they wrote).
    assert.equal((await botClient.openDirect(person.handle)).id, chat.id);
    const reply = await botClient.send(chat.id, { text: 'Hello! How can I help?', reply_to: hello.id });
    // Delivery and read status of the bot's own message reach the bot.
    await person.client.ack((await person.client.updates({ cursor: 0, timeout: 0 })).cursor);
    await person.client.markRead(chat.id, reply.seq);
    await eventually('the bot sees its message read', () =>
      live.some((e) => e.type === 'receipt.updated' && e.data.account_id === person.accountId && e.data.read_seq >= reply.seq),
    );

    // Joins and leaves: the owner adds the bot to a group, then removes it.
    const group = await owner.client.createConversation({ kind: 'group', title: 'Team', members: [person.handle] });
    await owner.client.addMember(group.id, bot.handle);
    await eventually('the bot hears it joined', () => live.some((e) => e.type === 'member.joined' && e.conversation_id === group.id && e.data.account_id === bot.id));
    await owner.client.send(group.id, { text: 'welcome, bot' });
    await eventually('the bot hears the group', () => live.some((e) => e.type === 'message.created' && e.conversation_id === group.id));
    await owner.client.removeMember(group.id, bot.id);
    await eventually('the bot hears it was removed', () => live.some((e) => e.type === 'member.removed' && e.conversation_id === group.id && e.data.account_id === bot.id));
  });

  test('a bot cannot start a chat with a person, add people, or put them in a new group', async () => {
    const { botClient } = await personWithBot();
    const stranger = await server.signUp();
    await rejectsWith(botClient.openDirect(stranger.handle), 'forbidden', 403);
    await rejectsWith(botClient.createConversation({ kind: 'group', title: 'Spam', members: [stranger.handle] }), 'forbidden', 403);
    const own = await botClient.createConversation({ kind: 'group', title: 'Alone' });
    await rejectsWith(botClient.addMember(own.id, stranger.handle), 'forbidden', 403);
    // The stranger never heard a thing.
    assert.deepEqual((await stranger.client.conversations()).map((c) => c.id), []);
    // Businesses and other bots are not people: a bot may open a chat with them.
    const shop = await server.signUp(undefined, { kind: 'business' });
    assert.equal((await botClient.openDirect(shop.handle)).kind, 'direct');
  });

  test('rotating the token kills the old one at once and closes its stream and long-poll', async (t) => {
    const { owner, bot, token, botClient } = await personWithBot();
    const errors: { code: string }[] = [];
    const stream = botClient.stream({ onEvent: () => {}, onError: (e) => errors.push(e) });
    t.after(() => stream.close());
    await stream.ready;
    const poll = rejectsWith(botClient.updates({ cursor: await botClient.updatesState(), timeout: 25 }), 'unauthenticated', 401);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const rotated = await owner.client.rotateBotToken(bot.id);
    assert.notEqual(rotated.token, token);
    await poll;
    assert.ok(Date.now() - started < 10_000, 'the poll ended at the rotation, not at its timeout');
    await eventually('the stream is told', () => errors.some((e) => e.code === 'bot_token_revoked'));
    await rejectsWith(server.anonymous.as(token).me(), 'unauthenticated', 401);
    assert.equal((await server.anonymous.as(rotated.token).me()).id, bot.id);
    assert.ok(rotated.bot.token_created_at >= bot.token_created_at);
  });

  test('commands: set by the owner or the bot, read by anyone signed in for the "/" menu', async () => {
    const { owner, bot, botClient } = await personWithBot();
    const person = await server.signUp();
    const commands = [
      { command: 'start', description: 'Begin' },
      { command: 'help', description: 'What I can do' },
    ];
    assert.deepEqual(await owner.client.setBotCommands(bot.id, commands), commands);
    assert.deepEqual(await person.client.commandsOf(bot.handle), commands);
    await botClient.setBotCommands(bot.id, [{ command: 'order', description: 'Order something' }]);
    assert.deepEqual(await owner.client.botCommands(bot.id), [{ command: 'order', description: 'Order something' }]);
    assert.deepEqual(await person.client.commandsOf(person.handle), [], 'a person has no commands');
    await rejectsWith(person.client.commandsOf('nobody_here_at_all'), 'not_found', 404);
    await rejectsWith(owner.client.setBotCommands(bot.id, [commands[0]!, commands[0]!]), 'validation_failed', 400);
    await rejectsWith(owner.client.setBotCommands(bot.id, [{ command: 'Bad Command', description: 'x' }]), 'validation_failed', 400);
    await rejectsWith(owner.client.setBotCommands(bot.id, Array.from({ length: 101 }, (_, i) => ({ command: `c${i}`, description: 'x' }))), 'validation_failed', 400);
    await rejectsWith(server.anonymous.commandsOf(bot.handle), 'unauthenticated', 401);
  });

  test("another person's bot is not found; bot tokens get person_only on people's routes, people get bot_only on bots'", async () => {
    const { bot, botClient } = await personWithBot();
    const other = await server.signUp();
    await rejectsWith(other.client.bot(bot.id), 'not_found', 404);
    await rejectsWith(other.client.updateBot(bot.id, { name: 'Mine now' }), 'not_found', 404);
    await rejectsWith(other.client.rotateBotToken(bot.id), 'not_found', 404);
    await rejectsWith(other.client.deleteBot(bot.id), 'not_found', 404);
    await rejectsWith(other.client.setBotCommands(bot.id, []), 'not_found', 404);
    await rejectsWith(other.client.botCommands(bot.id), 'not_found', 404);
    await rejectsWith(other.client.bot('acc_unknown'), 'not_found', 404);

    // Person-only routes refuse the bot token.
    await rejectsWith(botClient.createBot({ handle: uniqueHandle('sub'), name: 'Child' }), 'person_only', 403);
    await rejectsWith(botClient.bots(), 'person_only', 403);
    await rejectsWith(botClient.rotateBotToken(bot.id), 'person_only', 403);
    await rejectsWith(botClient.deleteBot(bot.id), 'person_only', 403);
    await rejectsWith(botClient.devices(), 'person_only', 403);
    await rejectsWith(botClient.createApiKey({ name: 'x', scopes: ['messages:read'] }), 'person_only', 403);
    // Another bot's token sees nothing of this bot.
    const second = await personWithBot();
    await rejectsWith(second.botClient.bot(bot.id), 'not_found', 404);
    await rejectsWith(second.botClient.setBotCommands(bot.id, []), 'not_found', 404);
    // A bot-kind account signed in with a password is not a person either.
    const legacyBot = await server.signUp(undefined, { kind: 'bot' });
    await rejectsWith(legacyBot.client.createBot({ handle: uniqueHandle('sub'), name: 'Child' }), 'person_only', 403);
    // Bot-only routes refuse people.
    await rejectsWith(other.client.botMe(), 'bot_only', 403);
    // API keys manage nothing here.
    const business = await server.signUp(undefined, { kind: 'business' });
    const { key } = await business.client.createApiKey({ name: 'all', scopes: ['messages:read', 'messages:write', 'conversations:write', 'updates:read'] });
    await rejectsWith(server.anonymous.as(key).createBot({ handle: uniqueHandle('k'), name: 'Key bot' }), 'insufficient_scope', 403);
    await rejectsWith(server.anonymous.as('mmd_b_forged').me(), 'unauthenticated', 401);
  });

  test('limits and names: bots per owner, taken handles, bad input', async () => {
    const owner = await server.signUp();
    for (let i = 0; i < 3; i++) await owner.client.createBot({ handle: uniqueHandle('lim'), name: `Bot ${i}` });
    await rejectsWith(owner.client.createBot({ handle: uniqueHandle('lim'), name: 'One too many' }), 'limit_reached', 409);
    const other = await server.signUp();
    await rejectsWith(other.client.createBot({ handle: owner.handle, name: 'Impostor' }), 'handle_taken', 409);
    await rejectsWith(other.client.createBot({ handle: owner.handle.toUpperCase(), name: 'Impostor' }), 'handle_taken', 409);
    await rejectsWith(other.client.createBot({ handle: '1bad', name: 'x' }), 'validation_failed', 400);
    await rejectsWith(other.client.createBot({ handle: uniqueHandle('ok'), name: '' }), 'validation_failed', 400);
    await rejectsWith(server.anonymous.createBot({ handle: uniqueHandle('anon'), name: 'x' }), 'unauthenticated', 401);
  });

  test('deleting a bot kills its token and keeps its handle taken', async () => {
    const { owner, bot, botClient } = await personWithBot();
    await owner.client.deleteBot(bot.id);
    await rejectsWith(botClient.me(), 'unauthenticated', 401);
    await rejectsWith(owner.client.bot(bot.id), 'not_found', 404);
    assert.deepEqual(await owner.client.bots(), []);
    await rejectsWith(owner.client.createBot({ handle: bot.handle, name: 'Again' }), 'handle_taken', 409);
  });
});
