import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MmdClient } from '../src/index.ts';

test('a stream whose socket cannot be opened reports a disconnect instead of crashing the process', async (t) => {
  // Node 20 has no global WebSocket, so the SDK loads `ws` lazily; `ws` refuses this URL's scheme.
  // The failure used to escape as an unhandled rejection, which ends a Node process.
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));

  const client = new MmdClient({ baseUrl: 'ftp://127.0.0.1:1', token: 'token' });
  let disconnects = 0;
  const disconnected = new Promise<void>((resolve) => {
    const stream = client.stream({
      onEvent: () => {},
      onDisconnect: () => {
        disconnects += 1;
        stream.close();
        resolve();
      },
    });
    t.after(() => stream.close());
  });
  await Promise.race([disconnected, new Promise((resolve) => setTimeout(resolve, 2000))]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unhandled, []);
  assert.equal(disconnects, 1);
});
