/**
 * `mmd send --buttons` and `mmd poll create|vote|results|close` against a real server (SQLite),
 * each run as a child process with its own MMD_CONFIG_DIR.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, uniqueHandle } from '../../server/test/harness.ts';
import { run, tempDir } from './run-cli.ts';

describe('mmd interactive messages', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
  });
  after(async () => {
    await server?.close();
  });

  async function cliUser(kind: 'person' | 'bot' = 'person') {
    const handle = uniqueHandle(kind);
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir() };
    const created = await run(['account', 'create', handle, '--password', 'correct horse battery', '--kind', kind], env);
    assert.equal(created.code, 0, created.stderr);
    const saved = JSON.parse(readFileSync(path.join(env.MMD_CONFIG_DIR, 'credentials.json'), 'utf8')) as { servers: Record<string, { token: string }> };
    const client = server.anonymous.as(saved.servers[server.url]!.token);
    return { handle, env, client, mmd: (...args: string[]) => run(args, env) };
  }

  test('send --buttons: rows split by ";", buttons by ","; a bad spec is a usage error', async () => {
    const bot = await cliUser('bot');
    const person = await cliUser();
    const chat = await person.client.openDirect(bot.handle);
    const sent = await bot.mmd('send', chat.id, 'Pick one', '--buttons', 'Yes:cb:yes,No:cb:no', '--buttons', 'Docs:url:https://example.com/a:b;More:reply,Code:copy:X-1', '--json');
    assert.equal(sent.code, 0, sent.stderr);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    const seen = await person.client.message(id);
    assert.deepEqual(
      seen.buttons?.map((row) => row.map((b) => [b.type, b.text, b.url ?? b.copy_text ?? null])),
      [
        [['callback', 'Yes', null], ['callback', 'No', null]],
        [['url', 'Docs', 'https://example.com/a:b']],
        [['reply', 'More', null], ['copy', 'Code', 'X-1']],
      ],
    );
    const shown = await person.mmd('history', chat.id);
    assert.match(shown.stdout, /Pick one \[Yes\] \[No\] \| \[Docs\] \| \[More\] \[Code\]/);
    const bad = await bot.mmd('send', chat.id, 'x', '--buttons', 'Yes:maybe:1');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TYPE is cb, url, reply or copy/);
    const refused = await person.mmd('send', chat.id, 'x', '--buttons', 'Yes:cb:y');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /interactive_not_allowed|bot and business/);
  });

  test('poll create, vote (numbered from 1), results with voters, close', async () => {
    const ann = await cliUser();
    const ben = await cliUser();
    const chat = await ann.client.openDirect(ben.handle);
    const created = await ann.mmd('poll', 'create', chat.id, 'Lunch?', 'Pizza', 'Soup', 'Salad', '--public');
    assert.equal(created.code, 0, created.stderr);
    const id = /sent poll (\S+)/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);
    const voted = await ben.mmd('poll', 'vote', id, '2');
    assert.equal(voted.code, 0, voted.stderr);
    assert.match(voted.stdout, /\* 2\. Soup\s+1 █+/);
    const results = await ann.mmd('poll', 'results', id, '--voters');
    assert.equal(results.code, 0, results.stderr);
    assert.match(results.stdout, /Lunch\?\s+\(public; 1 voter\)/);
    assert.match(results.stdout, new RegExp(`2\\. Soup: @${ben.handle}`));
    const json = await ann.mmd('poll', 'results', id, '--json');
    assert.deepEqual((JSON.parse(json.stdout) as { options: { votes: number }[] }).options.map((o) => o.votes), [0, 1, 0]);
    assert.equal((await ben.mmd('poll', 'vote', id, '13')).code, 2);
    assert.equal((await ben.mmd('poll', 'vote', id, '9')).code, 1);
    assert.equal((await ben.mmd('poll', 'vote', id)).code, 2);
    assert.equal((await ben.mmd('poll', 'vote', id, '--retract')).code, 0);
    const closed = await ann.mmd('poll', 'close', id);
    assert.match(closed.stdout, /closed/);
    const late = await ben.mmd('poll', 'vote', id, '1');
    assert.equal(late.code, 1);
    assert.match(late.stderr, /closed/);
    const quiz = await ann.mmd('poll', 'create', chat.id, '2+2?', '3', '4', '--quiz', '2', '--explanation', 'arithmetic', '--json');
    assert.equal(quiz.code, 0, quiz.stderr);
    assert.deepEqual((JSON.parse(quiz.stdout) as { poll: { quiz: unknown } }).poll.quiz, { correct: 1, explanation: 'arithmetic' });
  });
});
