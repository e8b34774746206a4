/**
 * Outbound HTTP to user-chosen URLs: private targets refused unless the operator allows them,
 * redirects not followed (or re-checked when followed), one deadline, a size cap.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { addressAllowed, checkOutboundUrl, OutboundError, outboundFetch } from '../src/platform/outbound.ts';

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

async function rejectsCode(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OutboundError, `expected OutboundError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('outbound HTTP', () => {
  let target: { server: Server; url: string };
  const hanging = new Set<import('node:http').ServerResponse>();
  before(async () => {
    target = await listen((req, res) => {
      if (req.url === '/ok') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => res.end(JSON.stringify({ method: req.method, body, header: req.headers['x-test'] ?? null })));
      } else if (req.url === '/redirect-private') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else if (req.url === '/redirect-ok') {
        res.writeHead(302, { location: '/ok' }).end();
      } else if (req.url === '/big') {
        res.end(Buffer.alloc(200_000));
      } else if (req.url === '/hang') {
        hanging.add(res);
      } else res.writeHead(404).end();
    });
  });
  after(async () => {
    for (const res of hanging) res.destroy();
    target.server.closeAllConnections();
    await new Promise((r) => target.server.close(r));
  });

  test('refuses private, loopback, link-local, metadata and reserved addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a00:1']) {
      assert.equal(addressAllowed(a), false, a);
    }
    for (const a of ['93.184.215.14', '1.1.1.1', '2606:4700:4700::1111', '::ffff:1.1.1.1']) assert.equal(addressAllowed(a), true, a);
    // The operator may allow private targets; metadata endpoints stay refused.
    assert.equal(addressAllowed('127.0.0.1', true), true);
    assert.equal(addressAllowed('169.254.169.254', true), false);
    assert.equal(addressAllowed('fd00:ec2::254', true), false);
    assert.equal(addressAllowed('not-an-ip'), false);
  });

  test('refuses loopback targets by default, by address and by name', async () => {
    await rejectsCode(outboundFetch({ url: `${target.url}/ok` }), 'blocked_address');
    await rejectsCode(outboundFetch({ url: 'http://localhost:1/' }), 'blocked_address');
    await rejectsCode(outboundFetch({ url: 'http://[::1]:1/' }), 'blocked_address');
    await rejectsCode(outboundFetch({ url: 'http://0x7f000001/' }), 'blocked_address');
    await rejectsCode(checkOutboundUrl('http://169.254.169.254/latest/meta-data/'), 'blocked_address');
  });

  test('refuses URLs that are not http(s) or carry credentials', async () => {
    await rejectsCode(outboundFetch({ url: 'file:///etc/passwd' }), 'invalid_url');
    await rejectsCode(outboundFetch({ url: 'gopher://example.com/' }), 'invalid_url');
    await rejectsCode(outboundFetch({ url: 'http://user:pw@example.com/' }), 'invalid_url');
    await rejectsCode(outboundFetch({ url: 'not a url' }), 'invalid_url');
  });

  test('sends to an allowed private target and returns its answer', async () => {
    const res = await outboundFetch({ url: `${target.url}/ok`, method: 'POST', body: 'hello', headers: { 'x-test': 'yes' }, allowPrivate: true });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { method: 'POST', body: 'hello', header: 'yes' });
    assert.equal(res.address, '127.0.0.1');
  });

  test('returns a redirect without following it; a followed redirect is checked again', async () => {
    const res = await outboundFetch({ url: `${target.url}/redirect-ok`, allowPrivate: true });
    assert.equal(res.status, 302);
    const followed = await outboundFetch({ url: `${target.url}/redirect-ok`, allowPrivate: true, maxRedirects: 2 });
    assert.equal(followed.status, 200);
    // Each hop is checked: loopback is allowed here (the operator's choice), the metadata address never.
    await rejectsCode(outboundFetch({ url: `${target.url}/redirect-private`, allowPrivate: true, maxRedirects: 2 }), 'blocked_address');
  });

  test('connects to the address it checked: a name that changes its answer (DNS rebinding) changes nothing', async () => {
    const port = new URL(target.url).port;
    // A hostile DNS: a public-looking answer for the check, then the server's own network.
    const answers = [[{ address: '93.184.215.14', family: 4 }], [{ address: '127.0.0.1', family: 4 }]];
    let asked = 0;
    const rebinding = async () => answers[Math.min(asked++, 1)]!;
    // Checked once, then the connection goes to that address (which is not our loopback server),
    // never to the loopback answer a second lookup would give.
    // (Without a network the public address fails at once or times out: either way loopback is never reached.)
    await assert.rejects(outboundFetch({ url: `http://rebind.test:${port}/ok`, lookup: rebinding, timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof OutboundError && (err.code === 'timeout' || err.code === 'connection_failed'), String(err));
      assert.ok(!err.message.includes('127.0.0.1'), err.message);
      return true;
    });
    assert.equal(asked, 1, 'the name was resolved once');
    // A name resolving to loopback is refused unless allowed; allowed, the pinned address is used.
    let calls = 0;
    const loopback = async () => {
      calls++;
      return calls === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }];
    };
    await rejectsCode(outboundFetch({ url: `http://rebind.test:${port}/ok`, lookup: loopback }), 'blocked_address');
    calls = 0;
    const ok = await outboundFetch({ url: `http://rebind.test:${port}/ok`, lookup: loopback, allowPrivate: true });
    assert.equal(ok.status, 200);
    assert.equal(ok.address, '127.0.0.1');
    assert.equal(calls, 1);
  });

  test('gives up on a target that hangs, at the deadline', async () => {
    await rejectsCode(outboundFetch({ url: `${target.url}/hang`, allowPrivate: true, timeoutMs: 300 }), 'timeout');
  });

  test('refuses an answer larger than the cap', async () => {
    await rejectsCode(outboundFetch({ url: `${target.url}/big`, allowPrivate: true, maxResponseBytes: 10_000 }), 'response_too_large');
    const ok = await outboundFetch({ url: `${target.url}/big`, allowPrivate: true, maxResponseBytes: 300_000 });
    assert.equal(ok.body.length, 200_000);
  });

  test('keeps the head of a larger answer when asked to truncate (a page’s metadata comes first)', async () => {
    const head = await outboundFetch({ url: `${target.url}/big`, allowPrivate: true, maxResponseBytes: 10_000, truncate: true });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 10_000);
    // The pool is not left with a half-read socket: the next request is answered whole.
    assert.equal((await outboundFetch({ url: `${target.url}/big`, allowPrivate: true, maxResponseBytes: 300_000 })).body.length, 200_000);
  });
});
