/**
 * Segments through the API on both databases: saving, listing, changing and deleting a segment,
 * live counts of unsaved and saved rules over imported contacts, clear refusals of unusable rules,
 * and each denial.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MmdClient } from '@mmd/sdk';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('segments', (dialect) => {
  let server: TestServer;
  let biz: User;
  const team: Record<'admin' | 'agent' | 'analyst', MmdClient> = {} as never;

  before(async () => {
    server = await startTestServer({ dialect });
    biz = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    for (const role of ['admin', 'agent', 'analyst'] as const) {
      const member = await server.signUp(uniqueHandle(role));
      await biz.client.putBusinessMember(member.handle, role);
      team[role] = member.client.forBusiness(biz.accountId);
    }
    const people: User[] = [];
    for (let i = 0; i < 5; i++) people.push(await server.signUp(uniqueHandle('cust')));
    const proof = 'marketing,web form,Offers please,2026-01-01,form';
    const csv = [
      'handle,locale,time_zone,tags,attr:spend:number,attr:plan,consent_purpose,consent_source,consent_wording,consent_at,consent_evidence',
      `${people[0]!.handle},fr-FR,Europe/Paris,vip,120,gold,${proof} 1`,
      `${people[1]!.handle},fr-CA,America/Toronto,vip;new,15,silver,${proof} 2`,
      `${people[2]!.handle},en-GB,Europe/London,new,0,gold,,,,,`,
      `${people[3]!.handle},de,Europe/Berlin,,300,,${proof} 4`,
      `${people[4]!.handle},,,,,,,,,,`,
    ].join('\n');
    const started = await biz.client.contactImports.upload(csv);
    const done = await eventually('the import', async () => {
      const imp = await biz.client.contactImports.get(started.id);
      return imp.status === 'succeeded' ? imp : undefined;
    });
    assert.equal(done.rows.created, 5);
  });
  after(async () => {
    await server.close();
  });

  test('counts an unsaved rule live, and saves, lists, changes and deletes segments', async () => {
    assert.equal((await biz.client.segments.count({ tag: 'vip' })).count, 2);
    assert.equal((await biz.client.segments.count({ all: [{ consent: 'marketing', state: 'opted_in' }, { locale: 'fr' }] })).count, 2);
    assert.equal((await biz.client.segments.count({ any: [{ attribute: 'spend', op: 'gte', value: 100 }, { not: { consent: 'marketing', state: 'none' } }] })).count, 3);
    assert.equal((await biz.client.segments.count({ consent: 'marketing', state: 'none' })).count, 2);

    const saved = await team.admin.segments.create({ name: 'French VIPs', description: 'for the spring sale', rule: { all: [{ tag: 'vip' }, { locale: 'fr' }] } });
    assert.equal(saved.name, 'French VIPs');
    assert.deepEqual(saved.rule, { all: [{ tag: 'vip' }, { locale: 'fr' }] });
    assert.equal((await biz.client.segments.countSaved(saved.id)).count, 2);
    const other = await biz.client.segments.create({ name: 'Anyone', rule: { not: { tag: 'nobody' } } });
    assert.deepEqual(
      (await team.analyst.segments.list()).segments.map((s) => s.name),
      ['Anyone', 'French VIPs'],
    );
    const changed = await biz.client.segments.update(saved.id, { rule: { all: [{ tag: 'vip' }, { locale: 'fr-CA' }] } });
    assert.equal(changed.description, 'for the spring sale');
    assert.equal((await biz.client.segments.countSaved(saved.id)).count, 1);
    assert.deepEqual((await biz.client.segments.get(saved.id)).rule, { all: [{ tag: 'vip' }, { locale: 'fr-CA' }] });
    await biz.client.segments.remove(other.id);
    await rejectsWith(biz.client.segments.get(other.id), 'not_found', 404);
  });

  test('an unusable rule is refused with invalid_segment, each problem at its path', async () => {
    const problems = async (rule: unknown) => {
      try {
        await biz.client.segments.count(rule as never);
      } catch (err) {
        const e = err as { code?: string; problem?: { errors?: { path: string; message: string }[] } };
        assert.equal(e.code, 'invalid_segment');
        return e.problem?.errors ?? [];
      }
      assert.fail('accepted');
    };
    assert.deepEqual(await problems({}), [{ path: '/', message: 'empty rule: give a condition, or all / any / not of conditions' }]);
    assert.match((await problems({ attribute: 'colour', op: 'eq', value: 'red' }))[0]!.message, /unknown attribute "colour" \(this business has plan, spend\)/);
    const wrong = await problems({ all: [{ attribute: 'spend', op: 'gt', value: 'a lot' }, { attribute: 'plan', op: 'lt', value: 'gold' }] });
    assert.deepEqual(
      wrong.map((p) => p.path),
      ['/all/0/value', '/all/1/op'],
    );
    assert.match(wrong[0]!.message, /wrong type for number attribute "spend"/);
    await rejectsWith(biz.client.segments.create({ name: 'Broken', rule: { any: [] } }), 'invalid_segment', 400);
  });

  test("activity: writing to the business counts as a reply, reading its message as a read", async () => {
    const shop = await server.signUp(uniqueHandle('shop'), { kind: 'business' });
    const person = await server.signUp(uniqueHandle('cust'));
    const chat = await person.client.openDirect(shop.handle);
    await person.client.send(chat.id, { text: 'hello, is my order on its way?' });
    const count = async (rule: Parameters<MmdClient['segments']['count']>[0]) => (await shop.client.segments.count(rule)).count;
    assert.equal(await count({ activity: 'reply', op: 'within_days', days: 1 }), 1);
    assert.equal(await count({ activity: 'read', op: 'ever' }), 0);
    assert.equal(await count({ activity: 'read', op: 'never' }), 1);
    const answer = await shop.client.send(chat.id, { text: 'It left this morning.' });
    await person.client.markRead(chat.id, answer.seq!);
    await eventually('the read to be recorded', async () => (await count({ activity: 'read', op: 'within_days', days: 1 })) === 1);
    assert.equal(await count({ activity: 'read', op: 'never' }), 0);
    assert.equal(await count({ activity: 'click', op: 'ever' }), 0);
  });

  describe('denials', () => {
    test('analysts and agents read and count segments but cannot change them', async () => {
      const seg = await biz.client.segments.create({ name: 'VIP', rule: { tag: 'vip' } });
      for (const who of [team.analyst, team.agent]) {
        assert.equal((await who.segments.countSaved(seg.id)).count, 2);
        assert.equal((await who.segments.count({ tag: 'new' })).count, 2);
        await rejectsWith(who.segments.create({ name: 'x', rule: { tag: 'x' } }), 'forbidden', 403);
        await rejectsWith(who.segments.update(seg.id, { name: 'y' }), 'forbidden', 403);
        await rejectsWith(who.segments.remove(seg.id), 'forbidden', 403);
      }
    });

    test("another business sees nothing of this business's segments or contacts", async () => {
      const seg = await biz.client.segments.create({ name: 'Everyone', rule: { not: { tag: 'none' } } });
      const rival = await server.signUp(uniqueHandle('rival'), { kind: 'business' });
      await rejectsWith(rival.client.segments.get(seg.id), 'not_found', 404);
      await rejectsWith(rival.client.segments.countSaved(seg.id), 'not_found', 404);
      await rejectsWith(rival.client.segments.remove(seg.id), 'not_found', 404);
      assert.deepEqual((await rival.client.segments.list()).segments, []);
      // The same rule counts only the rival's own contacts (none).
      assert.equal((await rival.client.segments.count({ not: { tag: 'none' } })).count, 0);
      const outsider = await server.signUp(uniqueHandle('out'));
      await rejectsWith(outsider.client.forBusiness(biz.accountId).segments.list(), 'not_found', 404);
      await rejectsWith(server.anonymous.segments.list(), 'unauthenticated', 401);
    });

    test('an API key without campaigns:write cannot change segments', async () => {
      const { key } = await biz.client.createApiKey({ name: 'reader', scopes: ['business:read'] });
      const reader = server.anonymous.as(key);
      assert.ok((await reader.segments.list()).segments.length > 0);
      await rejectsWith(reader.segments.create({ name: 'x', rule: { tag: 'x' } }), 'insufficient_scope', 403);
    });
  });
});
