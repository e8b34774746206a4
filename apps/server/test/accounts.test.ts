import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MmdError } from '@mmd/sdk';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';


onEachDatabase('accounts', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test('creates an account, then logs in from a second device', async () => {
    const handle = uniqueHandle('Alice');
    const created = await server.anonymous.createAccount({ handle, password: 'correct horse battery' });
    assert.equal(created.account.handle, handle);
    assert.equal(created.account.kind, 'person');
    assert.match(created.token, /^mmd_d_/);
    const session = await server.anonymous.login({ handle: handle.toLowerCase(), password: 'correct horse battery', device_name: 'laptop' });
    assert.equal(session.account.id, created.account.id);
    const devices = await server.anonymous.as(session.token).devices();
    assert.deepEqual(devices.map((d) => d.name).sort(), ['first device', 'laptop']);
    assert.equal(devices.find((d) => d.current)?.name, 'laptop');
  });

  test('refuses a handle that is taken, ignoring case', async () => {
    const user = await server.signUp(uniqueHandle('Bob'));
    await rejectsWith(server.anonymous.createAccount({ handle: user.handle.toUpperCase(), password: 'another password' }), 'handle_taken', 409);
  });

  test('refuses a wrong password and an unknown handle alike', async () => {
    const user = await server.signUp();
    await rejectsWith(server.anonymous.login({ handle: user.handle, password: 'wrong password!' }), 'invalid_credentials', 401);
    await rejectsWith(server.anonymous.login({ handle: uniqueHandle('nobody'), password: 'wrong password!' }), 'invalid_credentials', 401);
  });

  test('refuses a malformed handle and an overlong password with every problem listed', async () => {
    await assert.rejects(server.anonymous.createAccount({ handle: '1x', password: 'x'.repeat(257) }), (err: MmdError) => {
      assert.equal(err.code, 'validation_failed');
      const paths = err.problem?.errors?.map((e) => e.path) ?? [];
      assert.ok(paths.some((p) => p.includes('handle')), `handle problem listed: ${paths}`);
      assert.ok(paths.some((p) => p.includes('password')), `password problem listed: ${paths}`);
      return true;
    });
  });

  test('refuses a password shorter than 10 characters, equal to the handle, or common, with weak_password', async () => {
    const handle = uniqueHandle('Carol');
    const refused: [string, RegExp][] = [
      ['short pw1', /at least 10 characters/],
      [handle.toUpperCase(), /cannot be your handle/],
      ['password123', /too common/],
      ['Password123!', /too common/],
      ['qwertyuiop', /too common/],
      ['1234567890', /too common/],
      ['p@ssw0rd12', /too common/],
      ['aaaaaaaaaaaa', /too common/],
    ];
    for (const [password, detail] of refused) {
      await assert.rejects(server.anonymous.createAccount({ handle, password }), (err: MmdError) => {
        assert.equal(err.code, 'weak_password', password);
        assert.equal(err.status, 400);
        assert.match(err.message, detail, password);
        return true;
      });
    }
    // Nothing was created by the refusals; a long passphrase is accepted.
    const created = await server.anonymous.createAccount({ handle, password: 'violet tractor mercury' });
    assert.equal(created.account.handle, handle);
  });

  test('stores passwords with Argon2id and tokens only as hashes', async () => {
    const user = await server.signUp();
    const row = await server.db.db.selectFrom('accounts').selectAll().where('id', '=', user.accountId).executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$/);
    const devices = await server.db.db.selectFrom('devices').selectAll().where('account_id', '=', user.accountId).execute();
    assert.ok(devices.length > 0);
    for (const d of devices) assert.notEqual(d.token_hash, user.token);
    assert.ok(!JSON.stringify(devices).includes(user.token.slice(6)), 'raw token not stored');
  });

  test('a revoked device token stops working at once; other devices keep theirs', async () => {
    const user = await server.signUp();
    const second = await server.anonymous.login({ handle: user.handle, password: user.password, device_name: 'phone' });
    await user.client.revokeDevice(second.device.id);
    await rejectsWith(server.anonymous.as(second.token).me(), 'unauthenticated', 401);
    assert.equal((await user.client.me()).id, user.accountId);
  });

  test("cannot revoke another account's device", async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const [bobDevice] = await bob.client.devices();
    await rejectsWith(alice.client.revokeDevice(bobDevice!.id), 'not_found', 404);
    assert.equal((await bob.client.me()).id, bob.accountId);
  });

  test('requests without a token or with a bad one are refused', async () => {
    await rejectsWith(server.anonymous.me(), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.as('mmd_d_not-a-token').me(), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.as('garbage').conversations(), 'unauthenticated', 401);
  });

  test('a bot creates a scoped API key that can do what its scopes allow and nothing else', async () => {
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'bot' });
    const person = await server.signUp();
    const { key, api_key } = await bot.client.createApiKey({ name: 'orders', scopes: ['messages:write', 'conversations:write'] });
    assert.match(key, /^mmd_k_/);
    const viaKey = server.anonymous.as(key);
    // Bots do not start chats: the person opens one, then the bot's key finds the same chat.
    await person.client.openDirect(bot.handle);
    const chat = await viaKey.openDirect(person.handle);
    const sent = await viaKey.send(chat.id, { text: 'Your order has shipped' });
    assert.equal(sent.sender_id, bot.accountId);
    await rejectsWith(viaKey.history(chat.id), 'insufficient_scope', 403);
    await rejectsWith(viaKey.updates(), 'insufficient_scope', 403);
    await rejectsWith(viaKey.createApiKey({ name: 'more', scopes: ['messages:read'] }), 'insufficient_scope', 403);
    assert.deepEqual((await bot.client.apiKeys()).map((k) => k.id), [api_key.id]);
    await bot.client.revokeApiKey(api_key.id);
    await rejectsWith(viaKey.send(chat.id, { text: 'again' }), 'unauthenticated', 401);
  });

  test('a person account cannot create API keys', async () => {
    const person = await server.signUp();
    await rejectsWith(person.client.createApiKey({ name: 'x', scopes: ['messages:read'] }), 'forbidden', 403);
  });

  test('an API key with an unknown scope is refused', async () => {
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'business' });
    await rejectsWith(bot.client.request('POST', '/v1/api-keys', { name: 'x', scopes: ['everything'] }), 'validation_failed', 400);
  });
});

test('login is rate-limited per handle and address', async () => {
  const server = await startTestServer({ dialect: 'sqlite', config: { loginRateLimit: 3 } });
  try {
    const user = await server.signUp();
    for (let i = 0; i < 3; i++) {
      await assert.rejects(server.anonymous.login({ handle: user.handle, password: 'wrong password!' }), (e: MmdError) => e.code === 'invalid_credentials');
    }
    await rejectsWith(server.anonymous.login({ handle: user.handle, password: user.password }), 'rate_limited', 429);
    // Another handle from the same address is not locked out by it.
    const other = await server.signUp();
    assert.ok((await server.anonymous.login({ handle: other.handle, password: other.password })).token);
  } finally {
    await server.close();
  }
});

test('login is also rate-limited per address: spraying one password over many handles is refused', async () => {
  const server = await startTestServer({ dialect: 'sqlite', config: { loginRateLimit: 3, loginAddressRateLimit: 5 } });
  try {
    const user = await server.signUp();
    // Five different handles, one try each: no per-handle limit is reached, the per-address one is.
    for (let i = 0; i < 5; i++) {
      await rejectsWith(server.anonymous.login({ handle: uniqueHandle('sprayed'), password: 'Summer2026!' }), 'invalid_credentials', 401);
    }
    await rejectsWith(server.anonymous.login({ handle: uniqueHandle('sprayed'), password: 'Summer2026!' }), 'rate_limited', 429);
    // The address is refused for every handle until the window ends, even with the right password.
    await rejectsWith(server.anonymous.login({ handle: user.handle, password: user.password }), 'rate_limited', 429);
  } finally {
    await server.close();
  }
});

onEachDatabase('device sessions expire when idle', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { deviceIdleDays: 30 } });
  });
  after(() => server.close());

  test('a device token unused for longer than the idle limit answers 401 session_expired; used ones keep working', async () => {
    const user = await server.signUp();
    const phone = await server.anonymous.login({ handle: user.handle, password: user.password, device_name: 'old phone' });
    const day = 24 * 60 * 60 * 1000;
    await server.db.db.updateTable('devices').set({ last_seen_at: Date.now() - 31 * day }).where('id', '=', phone.device.id).execute();
    await rejectsWith(server.anonymous.as(phone.token).me(), 'session_expired', 401);
    // Still expired on the next try: the client is told to sign in again, every time.
    await rejectsWith(server.anonymous.as(phone.token).conversations(), 'session_expired', 401);
    // An idle-expired device is no longer listed as signed in.
    assert.deepEqual((await user.client.devices()).map((d) => d.name), ['first device']);
    // Just inside the limit still works, and using it renews it.
    await server.db.db.updateTable('devices').set({ last_seen_at: Date.now() - 29 * day }).where('id', '=', phone.device.id).execute();
    const again = await server.anonymous.login({ handle: user.handle, password: user.password });
    await server.db.db.updateTable('devices').set({ last_seen_at: Date.now() - 29 * day }).where('id', '=', again.device.id).execute();
    assert.equal((await server.anonymous.as(again.token).me()).id, user.accountId);
    const row = await server.db.db.selectFrom('devices').select('last_seen_at').where('id', '=', again.device.id).executeTakeFirstOrThrow();
    assert.ok(Date.now() - Number(row.last_seen_at) < 60_000, 'last_seen renewed by use');
  });
});

test('sign-up is rate-limited per address', async () => {
  const server = await startTestServer({ dialect: 'sqlite', config: { signupRateLimit: 2 } });
  try {
    await server.signUp();
    await server.signUp();
    await rejectsWith(server.signUp(), 'rate_limited', 429);
  } finally {
    await server.close();
  }
});
