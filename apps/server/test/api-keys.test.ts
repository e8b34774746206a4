import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { API_SCOPES, type ApiScope, type Message, type SyncEvent } from '@mmd/contracts';
import { type TestServer, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

interface Operation {
  'x-mmd-scope'?: string;
  'x-mmd-auth'?: string;
}

onEachDatabase('API keys', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  async function botWithKey(scopes: ApiScope[]) {
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'bot' });
    const { key, api_key } = await bot.client.createApiKey({ name: 'test', scopes });
    return { bot, key, keyId: api_key.id, viaKey: server.anonymous.as(key) };
  }

  test('every route in the OpenAPI document declares its scope, and a key without it gets 403 problem+json', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
    // A key per scope holding every scope but that one, and one holding all of them.
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'bot' });
    const allBut = new Map<string, string>();
    for (const scope of API_SCOPES) {
      allBut.set(scope, (await bot.client.createApiKey({ name: `all but ${scope}`, scopes: API_SCOPES.filter((s) => s !== scope) })).key);
    }
    const everything = (await bot.client.createApiKey({ name: 'everything', scopes: [...API_SCOPES] })).key;
    const only = new Map<string, string>();
    for (const scope of API_SCOPES) only.set(scope, (await bot.client.createApiKey({ name: `only ${scope}`, scopes: [scope] })).key);

    const undeclared: string[] = [];
    let checked = 0;
    for (const [template, methods] of Object.entries(doc.paths)) {
      const url = template.replace(/\{[^}]+\}/g, 'x');
      for (const [method, operation] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${template}`;
        const scope = operation['x-mmd-scope'];
        const call = (token?: string) =>
          server.app.inject({ method: method.toUpperCase() as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, payload: method === 'get' || method === 'delete' ? undefined : {} });
        if (scope === undefined) {
          undeclared.push(name);
          continue;
        }
        checked++;
        if (scope === 'public') {
          // Public to bearer tokens; a route a peer signs for (or an HMA consumer's token opens) refuses a call without it.
          if (operation['x-mmd-auth'] !== undefined) assert.equal((await call()).statusCode, 401, `${name} refuses an unsigned call`);
          else assert.notEqual((await call()).statusCode, 401, `${name} is public`);
          continue;
        }
        // Every non-public route refuses a caller without a token.
        assert.equal((await call()).statusCode, 401, `${name} without a token`);
        // `device` and `manage` (a session or a bot token) refuse every API key.
        const refusedKeys = scope === 'device' || scope === 'manage' ? [everything] : scope === 'account' ? [] : [allBut.get(scope)];
        assert.ok(scope === 'device' || scope === 'manage' || scope === 'account' || (API_SCOPES as readonly string[]).includes(scope), `${name}: unknown scope ${scope}`);
        for (const key of refusedKeys) {
          const res = await call(key);
          assert.equal(res.statusCode, 403, `${name} with a key lacking ${scope}: ${res.body}`);
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/, name);
          assert.equal(res.json().code, 'insufficient_scope', name);
        }
        // And a key holding just the declared scope (any key, for `account`) is let through the check.
        const allowedKey = scope === 'account' ? only.get('updates:read') : scope === 'device' || scope === 'manage' ? null : only.get(scope);
        if (allowedKey) {
          const res = await call(allowedKey);
          assert.ok(!(res.statusCode === 403 && res.json().code === 'insufficient_scope') && res.statusCode !== 401, `${name} with a key holding ${scope}: ${res.body}`);
        }
      }
    }
    assert.deepEqual(undeclared, [], 'routes without x-mmd-scope');
    assert.ok(checked > 40, `checked ${checked} operations`);
  });

  test('revoking an API key closes its open stream and its waiting long-poll at once', async (t) => {
    const { bot, key, keyId, viaKey } = await botWithKey(['updates:read', 'messages:read']);
    const other = await botWithKey(['updates:read']);
    const errors: { code: string }[] = [];
    const stream = viaKey.stream({ onEvent: () => {}, onError: (e) => errors.push(e) });
    t.after(() => stream.close());
    await stream.ready;
    const otherStream = other.viaKey.stream({ onEvent: () => {} });
    t.after(() => otherStream.close());
    await otherStream.ready;
    const cursor = await viaKey.updatesState();
    const started = Date.now();
    const poll = viaKey.updates({ cursor, timeout: 25 });
    await new Promise((r) => setTimeout(r, 200));
    await bot.client.revokeApiKey(keyId);
    await rejectsWith(poll, 'unauthenticated', 401);
    assert.ok(Date.now() - started < 10_000, 'the poll ended at the revocation, not at its timeout');
    await eventually('the stream is told', () => errors.some((e) => e.code === 'api_key_revoked'));
    await rejectsWith(server.anonymous.as(key).updatesState(), 'unauthenticated', 401);
    // The other key's stream is untouched.
    assert.equal((await other.viaKey.updatesState()) >= 0, true);
  });

  test('a key with updates:read but not messages:read learns that messages came, not what they say', async (t) => {
    const person = await server.signUp();
    const { bot, viaKey: blind } = await botWithKey(['updates:read', 'conversations:write', 'messages:write']);
    const { viaKey: reader } = await (async () => {
      const { key } = await bot.client.createApiKey({ name: 'reader', scopes: ['updates:read', 'messages:read'] });
      return { viaKey: server.anonymous.as(key) };
    })();
    const chat = await person.client.openDirect(bot.handle);
    const cursor = await blind.updatesState();
    const live: SyncEvent[] = [];
    const stream = blind.stream({ cursor, onEvent: (e) => live.push(e) });
    t.after(() => stream.close());
    await stream.ready;
    const sent = await person.client.send(chat.id, { text: 'my card number is 4111 1111 1111 1111' });
    await person.client.edit(sent.id, 'my card number is 4111 1111 1111 1112');
    await person.client.react(sent.id, '🔥');

    const polled = await blind.updates({ cursor, timeout: 0 });
    await eventually('live events', () => live.some((e) => e.type === 'reaction.changed'));
    for (const events of [polled.events, live]) {
      const json = JSON.stringify(events);
      // The card number, not its first four digits: a millisecond timestamp may contain "4111".
      assert.ok(!json.includes('4111 1111'), `no message text: ${json}`);
      assert.ok(!json.includes('🔥'), 'no reaction emoji');
      const created = events.find((e) => e.type === 'message.created');
      assert.ok(created, 'the message event itself still arrives');
      const data = created.data as Message & { content_withheld?: boolean };
      assert.equal(data.id, sent.id);
      assert.equal(data.text, null);
      assert.equal(data.content_withheld, true);
      assert.ok(events.some((e) => e.type === 'message.edited'));
    }
    // The same events with messages:read carry the text.
    const full = await reader.updates({ cursor, timeout: 0 });
    const withContent = full.events.find((e) => e.type === 'message.created');
    assert.ok(withContent);
    assert.equal((withContent.data as Message).text, 'my card number is 4111 1111 1111 1111');
  });

  test('an API key cannot manage devices or keys, even with every scope', async () => {
    const { bot, viaKey } = await botWithKey([...API_SCOPES]);
    const [device] = await bot.client.devices();
    await rejectsWith(viaKey.revokeDevice(device!.id), 'insufficient_scope', 403);
    await rejectsWith(viaKey.devices(), 'insufficient_scope', 403);
    await rejectsWith(viaKey.apiKeys(), 'insufficient_scope', 403);
    assert.equal((await bot.client.me()).id, bot.accountId, 'the device still works');
    assert.equal((await viaKey.me()).id, bot.accountId, 'a key may ask whom it belongs to');
  });
});
