/**
 * Connections cannot be held open for free: headers that never finish, bodies that trickle (the
 * probe's 40 slow-body connections stayed open for 150 s), requests that take too long and idle
 * keep-alive sockets are all cut, while a normal request on the same server is answered.
 * Timeouts are shortened here so the test is quick; each assertion allows generous slack.
 */
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { after, before, test } from 'node:test';
import { type TestServer, type User, onEachDatabase, startTestServer } from './harness.ts';

/** Opens a raw TCP connection and resolves with the time it was closed by the server. */
function rawConnection(
  url: string,
): Promise<{ socket: Socket; closed: Promise<{ at: number; received: string }> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    const closed = new Promise<{ at: number; received: string }>((done) =>
      socket.on('close', () => done({ at: Date.now(), received })),
    );
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms).unref(),
    ),
  ]);

onEachDatabase('HTTP timeouts', (dialect) => {
  let server: TestServer;
  let user: User;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: {
        httpHeadersTimeoutMs: 500,
        httpRequestTimeoutMs: 3000,
        httpBodyTimeoutMs: 500,
        httpBodyMinBytesPerSecond: 1000,
        httpKeepAliveTimeoutMs: 500,
        httpIdleTimeoutMs: 2000,
      },
    });
    user = await server.signUp();
  });
  after(() => server.close());

  test('headers that never finish are cut', async () => {
    const { socket, closed } = await rawConnection(server.url);
    const start = Date.now();
    socket.write('POST /v1/media HTTP/1.1\r\nHost: localhost\r\n');
    const { at } = await within(closed, 5000, 'slow headers');
    assert.ok(at - start < 3000, `closed after ${at - start} ms`);
  });

  test('40 connections trickling their bodies are all cut, and the server keeps answering', async () => {
    const start = Date.now();
    const connections = await Promise.all(Array.from({ length: 40 }, () => rawConnection(server.url)));
    const timers = connections.map(({ socket }) => {
      socket.write(
        `POST /v1/media HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${user.token}\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n`,
      );
      // One byte every 100 ms: 10 B/s, far under the 1,000 B/s minimum.
      return setInterval(() => socket.writable && socket.write('x'), 100);
    });
    try {
      const healthy = await fetch(`${server.url}/healthz`);
      assert.equal(healthy.status, 200, 'others are served meanwhile');
      const closes = await within(Promise.all(connections.map((c) => c.closed)), 10_000, 'trickling bodies');
      const last = Math.max(...closes.map((c) => c.at)) - start;
      assert.ok(last < 5000, `the last slow body was cut after ${last} ms`);
    } finally {
      for (const t of timers) clearInterval(t);
    }
  });

  test('a request that takes longer than the request timeout is cut even when it keeps up the minimum rate', async () => {
    const { socket, closed } = await rawConnection(server.url);
    const start = Date.now();
    socket.write(
      `POST /v1/media HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${user.token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000000\r\n\r\n`,
    );
    const timer = setInterval(() => socket.writable && socket.write(Buffer.alloc(1000)), 200);
    try {
      const { at } = await within(closed, 10_000, 'long request');
      assert.ok(at - start >= 2500 && at - start < 6000, `closed after ${at - start} ms`);
    } finally {
      clearInterval(timer);
    }
  });

  test('an idle keep-alive connection is closed; a prompt request on it is answered', async () => {
    const { socket, closed } = await rawConnection(server.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const answered = Date.now();
    const { at, received } = await within(closed, 5000, 'idle keep-alive');
    assert.match(received, /^HTTP\/1\.1 200/);
    assert.ok(at - answered < 3000, `closed ${at - answered} ms after the answer`);
  });
});
