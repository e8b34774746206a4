/**
 * `mmd bot …` against a real server (SQLite): create a bot (token printed once, alone on stdout),
 * rotate it, set commands, set a webhook for it and read its delivery log.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eventually, startTestServer, type TestServer, uniqueHandle } from '../../server/test/harness.ts';
import { run, tempDir } from './run-cli.ts';

describe('mmd bot', () => {
  let server: TestServer;
  let receiver: Server;
  let receiverUrl: string;
  const received: string[] = [];
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite', config: { outboundAllowPrivate: true } });
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  });
  after(async () => {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
    await server?.close();
  });

  test('create, token, commands, webhook set, deliveries, replay', async () => {
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir() };
    const mmd = (...args: string[]) => run(args, env);
    const owner = uniqueHandle('owner');
    assert.equal((await mmd('account', 'create', owner, '--password', 'correct horse battery')).code, 0);

    const handle = uniqueHandle('clibot');
    const created = await mmd('bot', 'create', handle, '--name', 'CLI bot');
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^mmd_b_[A-Za-z0-9_-]+$/, 'the token alone on stdout');
    assert.match(created.stderr, /not shown again/);
    assert.equal((await server.anonymous.as(token).me()).handle, handle);

    const listed = await mmd('bot', 'list');
    assert.match(listed.stdout, new RegExp(`@${handle}\\s+CLI bot`));

    const rotated = await mmd('bot', 'token', `@${handle}`);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newToken = rotated.stdout.trim();
    assert.notEqual(newToken, token);
    assert.equal((await run(['whoami'], { ...env, MMD_TOKEN: token })).code, 1, 'the old token is dead');

    const commands = await mmd('bot', 'commands', handle, '--set', 'start=Begin', '--set', '/help=What I do');
    assert.equal(commands.code, 0, commands.stderr);
    assert.deepEqual(commands.stdout.trim().split('\n'), ['/start  Begin', '/help  What I do']);

    const set = await mmd('--json', 'bot', 'webhook', 'set', receiverUrl, '--bot', handle, '--events', 'message.created');
    assert.equal(set.code, 0, set.stderr);
    const hook = JSON.parse(set.stdout) as { id: string; secret: string };
    assert.match(hook.secret, /^whsec_/);

    const person = await server.signUp();
    const chat = await person.client.openDirect(handle);
    await person.client.send(chat.id, { text: 'hi from the person' });
    await eventually('the delivery', () => received.length === 1, 20_000);

    const log = await mmd('--json', 'bot', 'deliveries', hook.id);
    assert.equal(log.code, 0, log.stderr);
    const deliveries = (JSON.parse(log.stdout) as { deliveries: { id: string; status: string }[] }).deliveries;
    assert.deepEqual(deliveries.map((d) => d.status), ['succeeded']);
    const human = await mmd('bot', 'deliveries', hook.id);
    assert.match(human.stdout, /message\.created\s+succeeded\s+1\s+200/);

    const replay = await mmd('bot', 'replay', hook.id, deliveries[0]!.id);
    assert.equal(replay.code, 0, replay.stderr);
    await eventually('the replay', () => received.length === 2, 20_000);

    const denied = await mmd('bot', 'token', '@nobody_owned_here');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /not_found/);
  });
});
