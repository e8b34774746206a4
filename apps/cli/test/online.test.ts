/**
 * The online commands against a real server (SQLite), each run as a child process with its own
 * MMD_CONFIG_DIR, the way a user runs `mmd`.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Message } from '@mmd/sdk';
import sharp from 'sharp';
import { startTestServer, type TestServer, uniqueHandle } from '../../server/test/harness.ts';
import { exited, run, start, tempDir, waitFor } from './run-cli.ts';

const PASSWORD = 'correct horse battery';

type Credentials = { servers: Record<string, { token: string; handle: string }> };

describe('mmd (online)', { concurrency: true }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
  });
  after(async () => {
    await server?.close();
  });

  /**
   * A CLI user with a saved session: runs `mmd account create` in a fresh config dir. `client` is
   * an SDK client on the saved token, for checks from the same account.
   */
  async function cliUser(prefix: string) {
    const handle = uniqueHandle(prefix);
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir() };
    const created = await run(['account', 'create', handle, '--password', PASSWORD], env);
    assert.equal(created.code, 0, created.stderr);
    const saved = JSON.parse(
      readFileSync(path.join(env.MMD_CONFIG_DIR, 'credentials.json'), 'utf8'),
    ) as Credentials;
    const token = saved.servers[server.url]?.token;
    assert.ok(token, 'the session is saved under the server URL');
    return {
      handle,
      env,
      token,
      client: server.anonymous.as(token),
      mmd: (...args: string[]) => run(args, env),
    };
  }

  test('account create saves a 0600 session that whoami uses; tokens are never printed; exit codes', async () => {
    const alice = await cliUser('alice');
    const file = path.join(alice.env.MMD_CONFIG_DIR, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Credentials;
    assert.equal(saved.servers[server.url]?.handle, alice.handle);

    const who = await alice.mmd('whoami');
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, new RegExp(`^@${alice.handle} \\(person, user\\)`));
    assert.ok(!who.stdout.includes(alice.token) && !who.stderr.includes(alice.token));

    const bad = await alice.mmd('history', 'x', '--limit', 'lots');
    assert.equal(bad.code, 2, 'a usage error');
    const missing = await alice.mmd('send', '@nobody_here_at_all', 'hi');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .+ \(not_found\)\n$/, 'one line, no stack trace');
  });

  test('account create with a weak password exits 1 with weak_password and says why; nothing is saved', async () => {
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir() };
    const weak = await run(['account', 'create', uniqueHandle('weak'), '--password', 'password123'], env);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /^error: This password is too common.+ \(weak_password\)\n$/);
    const help = await run(['account', 'create', '--help'], env);
    assert.match(help.stdout.replace(/\s+/g, ' '), /At least 10 characters, not your handle/);
  });

  test('a session expired from disuse says to sign in again, and logout still forgets it', async () => {
    const dora = await cliUser('dora');
    const long = Date.now() - 365 * 24 * 60 * 60 * 1000;
    await server.db.db.updateTable('devices').set({ last_seen_at: long }).where('account_id', '=', (await dora.client.me()).id).execute();
    // Written behind the server's back: its session cache (which holds a session for at most a
    // minute, far less than the idle limit) would otherwise still answer for this device.
    server.services.accounts.forgetSessions();
    const who = await dora.mmd('whoami');
    assert.equal(who.code, 1);
    assert.match(who.stderr, /sign in again \(session_expired\)\n$/);
    const out = await dora.mmd('logout');
    assert.equal(out.code, 0, out.stderr);
    assert.ok(!readFileSync(path.join(dora.env.MMD_CONFIG_DIR, 'credentials.json'), 'utf8').includes(dora.token));
  });

  test('login: a wrong password exits 1 with the error code; the right one from stdin signs in', async () => {
    const bob = await server.signUp(uniqueHandle('bob'));
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir() };
    const wrong = await run(['login', bob.handle, '--password', 'not the password'], env);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^error: .+ \(invalid_credentials\)\n$/);

    const right = await run(['login', bob.handle, '--device', 'ci'], env, `${bob.password}\n`);
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /signed in as @.+ \(device "ci"\)/);
    assert.ok((await bob.client.devices()).some((d) => d.name === 'ci'));

    const out = await run(['logout'], env);
    assert.equal(out.code, 0, out.stderr);
    const after = await run(['whoami'], env);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /\(unauthenticated\)/);
  });

  test('send @handle opens the direct chat; send and history round-trip; an idempotency key dedupes', async () => {
    const alice = await cliUser('alice');
    const bob = await server.signUp(uniqueHandle('bob'));

    const sent = await alice.mmd('send', `@${bob.handle}`, 'hello bob', '--json');
    assert.equal(sent.code, 0, sent.stderr);
    const message = JSON.parse(sent.stdout) as Message;
    assert.equal(message.text, 'hello bob');
    const direct = await bob.client.openDirect(alice.handle);
    assert.equal(direct.id, message.conversation_id, 'the message went to the direct chat');

    // The key the CLI sends is the one the server dedupes on: the same key again is a replay.
    const second = await alice.mmd(
      'send',
      message.conversation_id,
      'second',
      '--idempotency-key',
      'k1',
      '--json',
    );
    const replay = await alice.client.send(message.conversation_id, {
      text: 'second',
      idempotency_key: 'k1',
    });
    assert.equal(replay.id, (JSON.parse(second.stdout) as Message).id);

    const history = await alice.mmd('history', `@${bob.handle}`);
    assert.equal(history.code, 0, history.stderr);
    const lines = history.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^1 \\[[\\d:\\- ]+\\] @${alice.handle}: hello bob$`));
    assert.match(lines[1]!, /^2 .*: second$/);

    const page = await alice.mmd('history', message.conversation_id, '--limit', '1', '--json');
    const reply = JSON.parse(page.stdout) as { messages: Message[]; has_more: boolean };
    assert.deepEqual(
      reply.messages.map((m) => m.text),
      ['second'],
    );
    assert.equal(reply.has_more, true);
  });

  test('a channel is @handle, as in the web app; #handle still works, with a hint', async () => {
    const alice = await cliUser('alice');
    const name = uniqueHandle('news');
    const created = await alice.mmd('channel', 'create', `@${name}`, '--title', 'News');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`@${name}$`, 'm'), 'the channel is printed as @handle');

    const sent = await alice.mmd('send', `@${name}`, 'first post');
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stderr, '', 'no hint for the one notation');
    const old = await alice.mmd('send', `#${name}`, 'second post');
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stderr, new RegExp(`hint: channels are written @${name} now`));
    const history = await alice.mmd('history', `@${name}`);
    assert.deepEqual(
      history.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/^.*: /, '')),
      ['first post', 'second post'],
    );
    // A handle that is neither a person nor a channel is still a plain not_found.
    const missing = await alice.mmd('send', '@nobody_here_at_all', 'hi');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(not_found\)/);
  });

  // Two tails start at once in this suite (each a tsx child process): on a busy machine one can
  // take well over 20 s to say it is following, hence the generous 60 s wait below.
  test('history and tail show attachments and reactions', async () => {
    const alice = await cliUser('alice');
    const bob = await server.signUp(uniqueHandle('bob'));
    const chat = await bob.client.openDirect(alice.handle);
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } })
      .png()
      .toBuffer();
    const upload = await bob.client.upload(png, { filename: 'dot.png', contentType: 'image/png' });
    assert.equal((await bob.client.waitForMedia(upload.id)).status, 'ready');
    const photo = await bob.client.send(chat.id, { text: 'look', media: [upload.id] });
    await alice.client.react(photo.id, '👍');

    const history = await alice.mmd('history', `@${bob.handle}`);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /: \[photo 64×48\] look \(👍 1\)$/m);

    const tail = start(['tail'], alice.env);
    try {
      await waitFor(tail.stderr, /following all conversations/, 60_000);
      const printed = waitFor(tail.stdout, /reactions on message #1: .*\n/);
      await bob.client.react(photo.id, '❤️');
      const [line] = await printed;
      assert.match(line, /^reactions on message #1: (👍 1, ❤️ 1|❤️ 1, 👍 1)\)\n$/);
      const more = waitFor(tail.stdout, /.*\[photo.*\n/);
      const upload2 = await bob.client.upload(png, { filename: 'dot2.png', contentType: 'image/png' });
      await bob.client.send(chat.id, { media: [upload2.id] });
      const [second] = await more;
      assert.match(second, new RegExp(`@${bob.handle}: \\[photo 64×48\\]\\n$`));
    } finally {
      tail.kill('SIGTERM');
    }
    assert.equal(await exited(tail), 0);
  });

  test('tail prints a message another user sends after it started, then exits cleanly on SIGTERM', async () => {
    const alice = await cliUser('alice');
    const bob = await server.signUp(uniqueHandle('bob'));
    const chat = await bob.client.openDirect(alice.handle);
    await bob.client.send(chat.id, { text: 'old news' });

    const tail = start(['tail'], alice.env);
    try {
      await waitFor(tail.stderr, /following all conversations/, 60_000);
      const printed = waitFor(tail.stdout, /.*\n/);
      await bob.client.send(chat.id, { text: 'live one' });
      const [line] = await printed;
      // Following everything, each line names its conversation (here the direct chat with bob).
      assert.match(line, new RegExp(`^\\[[\\d:]+\\] dm @${bob.handle} \\| @${bob.handle}: live one\\n$`));
    } finally {
      tail.kill('SIGTERM');
    }
    assert.equal(await exited(tail), 0);
  });
});
