/**
 * `mmd campaign …` against a real server (SQLite): a business creates a campaign from an approved
 * template, starts it and follows its status to the end; the server's refusals (a throttle of 0)
 * and the CLI's own usage errors are reported; an analyst may read the status but not start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, newBusinessTeam, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { run, tempDir } from './run-cli.ts';

const proof = { wording: 'Offers from the shop, at most twice a week', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' };

describe('mmd campaign', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
  });
  after(() => server?.close());

  test('create, start and status; refusals and usage errors; an analyst reads but cannot start', async () => {
    const { business, analyst } = await newBusinessTeam(server);
    // The server keeps the wall clock: without quiet hours, a run at night (UTC) is not held until 08:00.
    await business.client.updateBusiness({ settings: { quiet_hours: null } });
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof }] });
    const t = await business.client.createTemplate({ name: 'offer', purpose: 'marketing', default_locale: 'en', variables: [{ name: 'offer' }], variants: { en: { text: 'Hello, {{offer}}' } } });
    const version = (await business.client.approveTemplate(t.id)).approved_version!.id;
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: business.token };

    const created = await run(['--json', 'campaign', 'create', '--name', 'Spring', '--contacts', contact.id, '--template-version', version, '--var', 'offer=spring sale today', '--throttle', '10'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = (JSON.parse(created.stdout) as { id: string; status: string }).id;
    assert.equal(JSON.parse(created.stdout).status, 'draft');

    const started = await run(['campaign', 'start', id], env);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, new RegExp(`${id}\\s+Spring\\s+(running|completed)`));
    const status = await eventually('the campaign completes', async () => {
      const r = await run(['campaign', 'status', id], env);
      return r.code === 0 && /completed/.test(r.stdout) ? r : null;
    }, 30_000);
    assert.match(status.stdout, /PLANNED\s+SENT/);
    assert.match(status.stdout, /total\s+1\s+1\s/);
    const chat = await person.client.openDirect(business.handle);
    assert.deepEqual((await person.client.history(chat.id)).messages.map((m) => m.text), ['Hello, spring sale today']);
    const listed = await run(['campaign', 'status'], env);
    assert.match(listed.stdout, new RegExp(`${id}\\s+Spring\\s+completed`));

    const zero = await run(['campaign', 'create', '--name', 'Never', '--contacts', contact.id, '--template-version', version, '--var', 'offer=x', '--throttle', '0'], env);
    assert.equal(zero.code, 1);
    assert.match(zero.stderr, /throttle/);
    const twoAudiences = await run(['campaign', 'create', '--name', 'Two', '--contacts', contact.id, '--segment', 'seg', '--template-version', version], env);
    assert.equal(twoAudiences.code, 2, 'a usage error');

    const asAnalyst = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: analyst.token, MMD_BUSINESS: business.accountId };
    const read = await run(['campaign', 'status', id], asAnalyst);
    assert.equal(read.code, 0, read.stderr);
    const refused = await run(['campaign', 'cancel', id], asAnalyst);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /analyst/);
  });
});
