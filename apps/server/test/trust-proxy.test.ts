/**
 * Who the client is, for rate limits and logs: by default the TCP peer, whatever X-Forwarded-For
 * says (a client cannot reset its login limit by inventing addresses); behind a proxy named in
 * MMD_TRUST_PROXY, the address that proxy puts in X-Forwarded-For.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from './harness.ts';

async function wrongLogins(trustProxy: string) {
  const server = await startTestServer({ dialect: 'sqlite', config: { trustProxy, loginRateLimit: 2 } });
  try {
    const statuses: number[] = [];
    // One handle, three tries, each claiming to come from a different address.
    for (const forwarded of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      const reply = await server.app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-forwarded-for': forwarded }, payload: { handle: 'nobody', password: 'wrong password here' } });
      statuses.push(reply.statusCode);
    }
    return statuses;
  } finally {
    await server.close();
  }
}

test('by default a spoofed X-Forwarded-For does not escape the login limit', async () => {
  assert.deepEqual(await wrongLogins('false'), [401, 401, 429]);
});

test('behind a trusted proxy each forwarded client address has its own login limit', async () => {
  // inject() connects from 127.0.0.1: that is the proxy here.
  assert.deepEqual(await wrongLogins('127.0.0.1'), [401, 401, 401]);
});
