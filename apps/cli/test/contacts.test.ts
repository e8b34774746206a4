/**
 * `mmd contacts …` against a real server (SQLite): a business imports a CSV file (streamed, the
 * job followed to its end, refused rows listed with their line and reason, the whole report
 * written with --errors), lists and exports its contacts; a team member does the same with
 * --business @handle, and an analyst is refused.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newBusinessTeam, startTestServer, type TestServer, uniqueHandle } from '../../server/test/harness.ts';
import { run, tempDir } from './run-cli.ts';

describe('mmd contacts', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite' });
  });
  after(() => server?.close());

  test('import with progress and an error report, list, export; a team member with --business; an analyst refused', async () => {
    const { business, admin, analyst } = await newBusinessTeam(server);
    const amy = await server.signUp(uniqueHandle('amy'));
    const ben = await server.signUp(uniqueHandle('ben'));
    const dir = tempDir();
    const file = path.join(dir, 'contacts.csv');
    writeFileSync(
      file,
      [
        'handle,external_id,locale,time_zone,tags',
        `${amy.handle},crm-1,fr-FR,Europe/Paris,vip`,
        `${ben.handle},crm-2,en-GB,Mars/Olympus,`,
        `nobody_${Date.now().toString(36)},crm-3,,,`,
      ].join('\n'),
    );
    const env = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: business.token };
    const errorsFile = path.join(dir, 'errors.csv');
    const imported = await run(['contacts', 'import', file, '--errors', errorsFile], env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /succeeded: 3 rows — 1 created, 0 updated, 0 unchanged, 2 refused/);
    assert.match(imported.stderr, /100%/, 'progress is shown on stderr');
    const report = readFileSync(errorsFile, 'utf8');
    assert.match(report, /bad_time_zone/);
    assert.match(report, /unknown_handle/);

    // Without --errors, the first refusals are listed with their line and column.
    const again = await run(['contacts', 'import', file], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 created, 0 updated, 1 unchanged, 2 refused/, 're-importing the same file changes nothing');
    assert.match(again.stdout, /line 3, time_zone: .*\(bad_time_zone\)/);

    const listed = await run(['contacts', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`@${amy.handle}\\s+crm-1\\s+fr-FR\\s+Europe/Paris`));

    const exported = await run(['contacts', 'export'], env);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, new RegExp(`${amy.handle}.*crm-1`));

    // A team member names the business; an analyst may read but not import.
    const asAdmin = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: admin.token };
    const byAdmin = await run(['--business', `@${business.handle}`, 'contacts', 'list', '--json'], asAdmin);
    assert.equal(byAdmin.code, 0, byAdmin.stderr);
    assert.equal(JSON.parse(byAdmin.stdout).contacts.length, 1);
    const asAnalyst = { MMD_SERVER: server.url, MMD_CONFIG_DIR: tempDir(), MMD_TOKEN: analyst.token, MMD_BUSINESS: business.accountId };
    const refused = await run(['contacts', 'import', file], asAnalyst);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /analyst/);
    const nobody = await run(['--business', '@no_such_business', 'contacts', 'list'], asAdmin);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no team of a business @no_such_business/);
  });
});
