/**
 * Bad input gets a clear error, never a 5xx: random bodies, parameters and query strings at every
 * route in the OpenAPI document, plus the classic malformed requests.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type TestServer, onEachDatabase, startTestServer } from './harness.ts';

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
