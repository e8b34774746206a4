/**
 * `mmd templates …` against a real server (SQLite): a business lists its templates, approves one
 * and reads the approved version's id that `mmd campaign create --template-version` takes, and
 * previews it for a contact; an analyst reads but cannot approve; usage errors say so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newBusinessTeam, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { run, tempDir } from './run-cli.ts';

describe('mmd templates', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
  });
  after(() => server?.close());

  test('list, approve, show the id to send, preview for a contact; an analyst reads but cannot approve', async () => {
    const { business, analyst } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.defineAttribute('first_name', 'text');
    const contact = await business.client.contacts.create({ handle: person.handle, name: 'Ada Lovelace', attributes: { first_name: 'Ada' } });
    const t = await business.client.createTemplate({ name: 'welcome', purpose: 'marketing', default_locale: 'en', variables: [{ name: 'offer' }], variants: { en: { text: 'Hi {{first_name}}, {{offer}}' } } });
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: business.token };

    const listed = await run(['templates', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${t.id}\\s+welcome\\s+marketing\\s+active\\s+1\\s+-\\s+en`), 'newest 1, nothing approved');

    const approved = await run(['templates', 'approve', t.id], env);
    assert.equal(approved.code, 0, approved.stderr);
    const versionId = (await business.client.getTemplate(t.id)).approved_version!.id;
    assert.match(approved.stdout, new RegExp(`approved: version 1\\s+${versionId}`));

    const shown = await run(['--json', 'templates', 'show', t.id], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { approved_version: { id: string } }).approved_version.id, versionId);

    const preview = await run(['templates', 'preview', t.id, '--contact', contact.id, '--var', 'offer=20% off today'], env);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /Hi Ada, 20% off today/);
    const badVar = await run(['templates', 'preview', t.id, '--var', 'nonsense'], env);
    assert.equal(badVar.code, 2, 'a usage error');

    const asAnalyst = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: analyst.token, MMD_BUSINESS: business.accountId };
    const read = await run(['templates', 'list'], asAnalyst);
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, new RegExp(`${t.id}\\s+welcome`));
    const refused = await run(['templates', 'approve', t.id], asAnalyst);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /analyst|forbidden|not allowed/i);
  });
});
