/**
 * Per-account rate limits on the costly business endpoints (http/business-limits.ts): segment
 * counts, template previews, contact pages, inbox notes and replies, an import's error report.
 * Each group answers 429 rate_limited (problem+json) with Retry-After once its account's budget
 * for the window is spent, and another account (from the same address) keeps its own budget.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, newBusinessTeam, onEachDatabase, startTestServer } from './harness.ts';

onEachDatabase('business rate limits', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect,
      config: { businessCountRateLimit: 2, templatePreviewsPerWindow: 2, businessReadRateLimit: 2, inboxWriteRateLimit: 2, importReportRateLimit: 2 },
    });
  });
  after(() => server.close());

  async function call(token: string, method: string, path: string, body?: unknown) {
    return fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Spends the budget of 2, then expects the third call to be refused as the API documents. */
  async function expectLimited(token: string, method: string, path: string, body?: unknown) {
    for (let i = 0; i < 2; i++) {
      const res = await call(token, method, path, body);
      assert.notEqual(res.status, 429, `call ${i + 1} of ${method} ${path} is within the budget`);
      await res.arrayBuffer();
    }
    const refused = await call(token, method, path, body);
    assert.equal(refused.status, 429, `${method} ${path} is limited`);
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(((await refused.json()) as { code: string }).code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After says when');
  }

  test('segment counts (unsaved and saved) are limited per account', async () => {
    const { business } = await newBusinessTeam(server);
    await expectLimited(business.token, 'POST', '/v1/business/segments/count', { rule: { tag: 'vip' } });
    await expectLimited(business.token, 'GET', '/v1/business/segments/sg_missing/count');
  });

  test('template previews are limited per account', async () => {
    const { business } = await newBusinessTeam(server);
    await expectLimited(business.token, 'POST', '/v1/business/templates/tpl_missing/preview', {});
  });

  test('contact pages are limited per account, not per address: another account keeps its budget', async () => {
    const first = await newBusinessTeam(server);
    const second = await newBusinessTeam(server);
    await expectLimited(first.business.token, 'GET', '/v1/business/contacts');
    const other = await call(second.business.token, 'GET', '/v1/business/contacts');
    assert.equal(other.status, 200, 'the same address, another account: not limited');
    await expectLimited(first.business.token, 'GET', '/v1/business/contacts/ct_missing');
  });

  test('inbox notes and replies are limited per account', async () => {
    const { business } = await newBusinessTeam(server);
    await expectLimited(business.token, 'POST', '/v1/business/inbox/cv_missing/notes', { text: 'a note' });
    await expectLimited(business.token, 'POST', '/v1/business/inbox/cv_missing/messages', { text: 'a reply' });
  });

  test("an import's error report is limited per account", async () => {
    const { business } = await newBusinessTeam(server);
    await expectLimited(business.token, 'GET', '/v1/business/contacts/imports/imp_missing/errors');
  });
});
