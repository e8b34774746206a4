/**
 * Bad input gets a clear error, never a 5xx: random bodies, parameters and query strings at every
 * route in the OpenAPI document, plus the classic malformed requests.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type TestServer, eventually, onEachDatabase, startTestServer } from './harness.ts';

type InjectResponse = { statusCode: number; headers: Record<string, unknown>; body: string };

onEachDatabase('robustness', (dialect) => {
  let server: TestServer;
  let token: string;
  let ids: Record<string, string>;
  before(async () => {
    server = await startTestServer({ dialect });
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'seed' });
    token = alice.token;
    ids = { id: chat.id, accountId: bob.accountId, handle: bob.handle, emoji: '👍', message: message.id };
  });
  after(() => server.close());

  function assertClearError(res: InjectResponse, what: string) {
    assert.ok(res.statusCode < 500, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
    if (res.statusCode >= 400) {
      assert.match(String(res.headers['content-type']), /application\/problem\+json/, `${what}: problem+json`);
      const body = JSON.parse(res.body) as { code?: string };
      assert.match(body.code ?? '', /^[a-z0-9_]+$/, `${what}: stable code`);
    }
  }

  const jsonValue = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({ text: fc.oneof(fc.string({ unit: 'binary', maxLength: 5000 }), fc.integer()), handle: fc.string(), password: fc.string(), kind: fc.string(), members: fc.array(fc.string()), up_to_seq: fc.oneof(fc.integer(), fc.double()), emoji: fc.string({ unit: 'binary' }), cursor: fc.integer(), scopes: fc.array(fc.string()) }, { requiredKeys: [] }),
  );
  const paramValue = fc.oneof(fc.constantFrom('', 'x', '0', '-1', '%00', 'cnv_nope', '..%2F..', 'a'.repeat(300)), fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent));
  const queryValue = fc.oneof(fc.constantFrom('-1', '0', '1', '99999999999999999999', 'abc', '1e9', '%00', '', 'null'), fc.string({ maxLength: 20 }).map(encodeURIComponent));

  test('random bodies, parameters and queries at every route never cause a 5xx', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' }).then((r) => JSON.parse(r.body))) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path: p })));
    assert.ok(routes.length >= 25, `OpenAPI lists the routes (${routes.length})`);
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.boolean(),
          jsonValue,
          fc.dictionary(fc.constantFrom('cursor', 'limit', 'after', 'before', 'token', 'x'), queryValue, { maxKeys: 3 }),
          paramValue,
          async (authenticated, realIds, body, query, param) => {
            const url = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (realIds ? encodeURIComponent(ids[name] ?? param) : param));
            const qs = Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&');
            const res = (await server.app.inject({
              method: route.method as 'GET',
              url: qs ? `${url}?${qs}` : url,
              headers: { ...(authenticated ? { authorization: `Bearer ${token}` } : {}), ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
              ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: JSON.stringify(body) }),
            })) as InjectResponse;
            assertClearError(res, `${route.method} ${url}?${qs}`);
          },
        ),
        { numRuns: 25, seed: 20261121 },
      );
    }
  });

  test('a lone surrogate escape is refused with 400 invalid_utf8, in a value or a key; a proper pair is kept', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = (payload: string) =>
      server.app.inject({ method: 'POST', url: `/v1/conversations/${ids.id}/messages`, headers: auth, payload }) as Promise<InjectResponse>;
    for (const payload of ['{"text":"a\\ud800b"}', '{"text":"end\\udfff"}', '{"text":"x","\\udc00":1}']) {
      const res = await post(payload);
      assert.equal(res.statusCode, 400, payload);
      assertClearError(res, payload);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'invalid_utf8', payload);
    }
    const ok = await post('{"text":"smile \\ud83d\\ude00"}');
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((JSON.parse(ok.body) as { text: string }).text, 'smile 😀');
  });

  test('a client that hangs up mid-upload is logged as an abort, not as an error', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logs = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const own = await startTestServer({ dialect, logger: { level: 'info', stream: logs } });
    try {
      const user = await own.signUp();
      const { port } = new URL(own.url);
      for (const [url, type] of [['/v1/media?filename=a.jpg', 'image/jpeg'], ['/v1/accounts', 'application/json']]) {
        await new Promise<void>((resolve) => {
          const socket = net.connect(Number(port), '127.0.0.1', () => {
            socket.write(`POST ${url} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${user.token}\r\ncontent-type: ${type}\r\ncontent-length: 100000\r\n\r\n${'x'.repeat(5000)}`);
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 100);
          });
        });
      }
      // Sign-up, then the two cut requests; give their handlers time to fail.
      await eventually('both cut requests', () => lines.filter((l) => l.msg === 'incoming request').length >= 3);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), []);
      assert.equal((await user.client.me()).id, user.accountId, 'server still answers');
    } finally {
      await own.close();
    }
  });

  test('malformed requests get stable codes', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const send = (payload: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      server.app.inject({ method: 'POST', url: `/v1/conversations/${ids.id}/messages`, headers: { ...auth, ...headers }, payload }) as Promise<InjectResponse>;
    const cases: [string, Promise<InjectResponse>, number, string][] = [
      ['malformed JSON', send('{"text": '), 400, 'malformed_json'],
      ['invalid UTF-8', send(Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 400, 'invalid_utf8'],
      ['oversized body', send(JSON.stringify({ text: 'x'.repeat(200_000) })), 413, 'body_too_large'],
      ['wrong content type', send('hello', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
      ['a NUL character', send(JSON.stringify({ text: 'a\u0000b' })), 400, 'validation_failed'],
      ['deep nesting', send(`${'['.repeat(5000)}${']'.repeat(5000)}`), 400, 'malformed_json'],
      ['wrong types', send(JSON.stringify({ text: 42, reply_to: [], idempotency_key: {} })), 400, 'validation_failed'],
      ['unknown route', server.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: auth }) as Promise<InjectResponse>, 404, 'route_not_found'],
      ['unknown message', server.app.inject({ method: 'GET', url: '/v1/messages/msg_nope', headers: auth }) as Promise<InjectResponse>, 404, 'not_found'],
      ['huge limit', server.app.inject({ method: 'GET', url: `/v1/conversations/${ids.id}/messages?limit=1000000000000`, headers: auth }) as Promise<InjectResponse>, 400, 'validation_failed'],
      ['NUL in a path', server.app.inject({ method: 'GET', url: '/v1/messages/%00', headers: auth }) as Promise<InjectResponse>, 400, 'validation_failed'],
      ['an over-long id', server.app.inject({ method: 'GET', url: `/v1/messages/${'a'.repeat(300)}`, headers: auth }) as Promise<InjectResponse>, 414, 'uri_too_long'],
      ['bad percent-encoding', server.app.inject({ method: 'GET', url: '/v1/messages/%E0%A4%A', headers: auth }) as Promise<InjectResponse>, 400, 'validation_failed'],
    ];
    for (const [what, pending, status, code] of cases) {
      const res = await pending;
      assertClearError(res, what);
      assert.equal(res.statusCode, status, `${what}: ${res.body}`);
      assert.equal((JSON.parse(res.body) as { code: string }).code, code, what);
    }
  });
});
