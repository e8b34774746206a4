/** No password, token or API key ever reaches a log line, even at the most verbose level. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { MmdClient } from '@mmd/sdk';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/platform/db/index.ts';
import { createLocalEventBus } from '../src/platform/pubsub/index.ts';

test('passwords, tokens and API keys never appear in logs', async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const db = openDatabase({ sqlitePath: ':memory:' });
  await db.migrate();
  const config = loadConfig({}, { argon2MemoryKib: 1024, argon2Iterations: 1, logLevel: 'trace' });
  const { app } = await buildApp({ config, db, bus: createLocalEventBus(), logger: { level: 'trace', stream } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const anonymous = new MmdClient({ baseUrl: url });
    const password = 'super-secret-password-123';
    const bot = await anonymous.createAccount({ handle: `bot${process.pid}`, password, kind: 'bot' });
    const session = await anonymous.login({ handle: bot.account.handle, password });
    await anonymous.login({ handle: bot.account.handle, password: 'wrong-password-456' }).catch(() => {});
    const { key } = await anonymous.as(session.token).createApiKey({ name: 'k', scopes: ['updates:read'] });
    await anonymous.as(key).updates();
    const stream = anonymous.as(session.token).stream({ onEvent: () => {} });
    await stream.ready;
    stream.close();
    await anonymous.request('GET', `/v1/updates?token=${encodeURIComponent(session.token)}`).catch(() => {});
    const log = lines.join('');
    assert.ok(log.length > 1000, 'requests were logged');
    for (const secret of [password, 'wrong-password-456', bot.token, session.token, key]) {
      assert.ok(!log.includes(secret), `a secret leaked into the log: ${secret.slice(0, 10)}…`);
      assert.ok(!log.includes(secret.slice(6)), 'not even without its prefix');
    }
  } finally {
    await app.close();
    await db.close();
  }
});
