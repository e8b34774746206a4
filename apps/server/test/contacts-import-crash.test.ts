/**
 * A contact import survives kill -9: a real server is killed with SIGKILL while its import job is
 * between batches, started again on the same data, and the import resumes after its last
 * committed batch — every contact written once, every opt-in recorded once, every refused row
 * reported once, and the counters adding up to the file.
 */
import assert from 'node:assert/strict';
import { MmdClient } from '@mmd/sdk';
import { crashTestOnEachDatabase, freePort, killHard, spawnServer, waitReady } from './child-server.ts';
import { eventually } from './harness.ts';

const PEOPLE = 40;
/** Rows naming no account, between the people: cheap to write, slow enough to kill mid-way. */
const FILLER_EVERY = 100;

crashTestOnEachDatabase('a contact import resumes after kill -9 from its last committed batch', async (env) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv = { ...env, MMD_PORT: String(port), MMD_IMPORT_BATCH_ROWS: '40', MMD_IMPORT_BATCH_PAUSE_MS: '40', MMD_SIGNUP_RATE_LIMIT: '100000' };
  let server = spawnServer(serverEnv);
  try {
    await waitReady(url);
    const anonymous = new MmdClient({ baseUrl: url });
    const biz = anonymous.as((await anonymous.createAccount({ handle: `shop${port}`, password: 'correct horse battery', kind: 'business' })).token);
    const handles = Array.from({ length: PEOPLE }, (_, i) => `p${i}x${port}`);
    await Promise.all(handles.map((handle) => anonymous.createAccount({ handle, password: 'correct horse battery' })));
    const lines = ['handle,external_id,tags,consent_purpose,consent_source,consent_wording,consent_at,consent_evidence'];
    let filler = 0;
    for (const [i, handle] of handles.entries()) {
      lines.push(`${handle},ext-${i},imported,marketing,shop,Offers by message,2026-01-0${(i % 9) + 1},receipt ${i}`);
      for (let j = 0; j < FILLER_EVERY; j++) lines.push(`ghost${filler++}x${port},,,,,,,`);
    }
    const rows = lines.length - 1;
    const started = await biz.contactImports.upload(lines.join('\n'));

    // Kill it once a few batches are in and most are not (it pauses 40 ms between its ~100 batches).
    const atKill = await eventually(
      'some batches committed',
      async () => {
        const imp = await biz.contactImports.get(started.id);
        return imp.rows.done >= 400 ? imp : undefined;
      },
      60_000,
    );
    await killHard(server);
    assert.equal(atKill.status, 'running');
    assert.ok(atKill.rows.done < rows, `the import was still running at the kill (${atKill.rows.done} of ${rows})`);
    assert.equal(atKill.rows.done % 40, 0, 'progress moves a whole batch at a time');

    server = spawnServer(serverEnv);
    await waitReady(url);
    const done = await eventually(
      'the import to finish after the restart',
      async () => {
        const imp = await biz.contactImports.get(started.id);
        return imp.status === 'succeeded' || imp.status === 'failed' ? imp : undefined;
      },
      120_000,
    );
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.rows, { done: rows, created: PEOPLE, updated: 0, unchanged: 0, refused: filler, consents_recorded: PEOPLE });

    // Every contact once, with one opt-in each; every refused row reported once.
    const contacts = [];
    let after: string | undefined;
    do {
      const page = await biz.contacts.list({ after, limit: 100 });
      contacts.push(...page.contacts);
      after = page.next ?? undefined;
    } while (after);
    assert.equal(contacts.length, PEOPLE);
    assert.equal(new Set(contacts.map((c) => c.external_id)).size, PEOPLE);
    for (const c of contacts.slice(0, 10)) {
      assert.deepEqual(c.tags, ['imported']);
      assert.equal((await biz.contacts.consent(c.id)).events.length, 1);
    }
    let reported = 0;
    let afterRow: number | undefined;
    for (;;) {
      const page = await biz.contactImports.errors(started.id, { afterRow, limit: 1000 });
      reported += page.errors.length;
      if (page.next_after_row === null) break;
      afterRow = page.next_after_row;
    }
    assert.equal(reported, filler);
  } finally {
    await killHard(server);
  }
});
