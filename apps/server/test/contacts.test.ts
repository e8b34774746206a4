/**
 * Contacts through the API as a business team uses it: people added with typed attributes,
 * search and pages, the rule that an opt-in needs proof, the ledger surviving a contact's removal,
 * GDPR export and erasure, the suppression list and purposes; and one test per denial (wrong
 * role, analyst writes, another business's contact, no proof, bad zone/locale/phone).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { recordActivity } from '../src/contacts/index.ts';
import { type TestServer, eventually, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

const proof = (at = '2026-01-15T10:00:00Z') => ({ wording: 'Send me offers and news from the Flower Shop', at, evidence: 'paper form #1042', collected_via: 'shop counter' });

onEachDatabase('contacts', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  async function setup() {
    const team = await newBusinessTeam(server);
    const shop = team.business.client;
    await shop.contacts.defineAttribute('plan', 'text');
    await shop.contacts.defineAttribute('spent', 'number');
    await shop.contacts.defineAttribute('birthday', 'date');
    await shop.contacts.defineAttribute('vip', 'boolean');
    await shop.contacts.defineAttribute('mobile', 'phone');
    return team;
  }

  test('a business adds people as contacts with locale, zone, tags and typed attributes, then finds them by search, tag and page', async () => {
    const { business, agent } = await setup();
    const alice = await server.signUp(uniqueHandle('alice'));
    const bob = await server.signUp(uniqueHandle('bob'));
    const created = await agent.acting.contacts.create({
      handle: alice.handle,
      external_id: 'crm-1',
      name: 'Alice Martin',
      locale: 'fr-ca',
      time_zone: 'America/Montreal',
      tags: ['vip', 'newsletter', 'vip'],
      attributes: { plan: 'gold', spent: 120.5, birthday: '1990-02-28', vip: true, mobile: '+33 6 12 34 56 78' },
    });
    assert.equal(created.account_id, alice.accountId);
    assert.equal(created.handle, alice.handle);
    assert.equal(created.locale, 'fr-CA', 'locales are stored in canonical form');
    assert.equal(created.time_zone, 'America/Montreal');
    assert.deepEqual(created.tags, ['newsletter', 'vip']);
    assert.deepEqual(created.attributes, { birthday: '1990-02-28', mobile: '+33612345678', plan: 'gold', spent: 120.5, vip: true });
    assert.equal(created.source, 'api');
    assert.deepEqual(created.consent, {}, 'no consent is invented');
    await business.client.contacts.create({ handle: bob.handle, name: 'Bob Stone', tags: ['newsletter'] });

    const byHandle = await business.client.contacts.list({ q: alice.handle });
    assert.deepEqual(byHandle.contacts.map((c) => c.id), [created.id]);
    const byName = await business.client.contacts.list({ q: 'stone' });
    assert.deepEqual(byName.contacts.map((c) => c.handle), [bob.handle], 'name search ignores letter case');
    assert.deepEqual((await business.client.contacts.list({ q: 'crm-1' })).contacts.map((c) => c.id), [created.id]);

    assert.deepEqual((await business.client.contacts.list({ tag: 'vip' })).contacts.map((c) => c.id), [created.id]);
    const first = await business.client.contacts.list({ limit: 1 });
    assert.equal(first.contacts.length, 1);
    assert.ok(first.next);
    const second = await business.client.contacts.list({ limit: 1, after: first.next });
    assert.equal(second.contacts.length, 1);
    assert.equal(second.next, null);
    assert.deepEqual(new Set([first.contacts[0]!.handle, second.contacts[0]!.handle]), new Set([alice.handle, bob.handle]));

    const updated = await agent.acting.contacts.update(created.id, { add_tags: ['spring'], remove_tags: ['newsletter'], attributes: { plan: null, spent: 200 }, time_zone: 'Europe/Paris' });
    assert.deepEqual(updated.tags, ['spring', 'vip']);
    assert.deepEqual(updated.attributes, { birthday: '1990-02-28', mobile: '+33612345678', spent: 200, vip: true });
    assert.equal(updated.time_zone, 'Europe/Paris');
  });

  test('search text is literal: % and _ are not wildcards', async () => {
    const { business } = await setup();
    const [carol, dan] = [await server.signUp(uniqueHandle('carol')), await server.signUp(uniqueHandle('dan'))];
    const percent = await business.client.contacts.create({ handle: carol.handle, name: '100% Carol_B' });
    await business.client.contacts.create({ handle: dan.handle, name: 'Dan Olby' });
    assert.deepEqual((await business.client.contacts.list({ q: '%' })).contacts.map((c) => c.id), [percent.id]);
    assert.deepEqual((await business.client.contacts.list({ q: 'l_b' })).contacts.map((c) => c.id), [percent.id]);
    assert.deepEqual((await business.client.contacts.list({ q: 'n_o' })).contacts.map((c) => c.id), [], '_ matches only itself');
  });

  test('senders look contacts up by id and by external id, never an erased or another business’s one', async () => {
    const { business } = await setup();
    const other = await newBusinessTeam(server);
    const [a, b, c] = [await server.signUp(), await server.signUp(), await server.signUp()];
    const ca = await business.client.contacts.create({ handle: a.handle, external_id: 'ext-a', time_zone: 'Asia/Tokyo', locale: 'ja' });
    const cb = await business.client.contacts.create({ handle: b.handle, external_id: 'ext-b' });
    const theirs = await other.business.client.contacts.create({ handle: c.handle, external_id: 'ext-c' });
    await business.client.contacts.erase(cb.id);
    const core = server.services.contacts.core;
    const found = await core.contactsByIds({ businessId: business.accountId, ids: [ca.id, cb.id, theirs.id, 'ct_unknown'] });
    assert.deepEqual(found, [{ id: ca.id, account_id: a.accountId, time_zone: 'Asia/Tokyo', locale: 'ja' }]);
    const byExternal = await core.contactIdsByExternalIds({ businessId: business.accountId, externalIds: ['ext-a', 'ext-b', 'ext-c', 'nope'] });
    assert.deepEqual([...byExternal], [['ext-a', ca.id]]);
  });

  test('bad locales, time zones, phone numbers, dates and unknown attributes are refused with their own codes', async () => {
    const { business } = await setup();
    const person = await server.signUp();
    const c = business.client.contacts;
    await rejectsWith(c.create({ handle: person.handle, locale: 'not a locale!' }), 'invalid_locale', 400);
    await rejectsWith(c.create({ handle: person.handle, time_zone: 'Mars/Olympus' }), 'invalid_time_zone', 400);
    await rejectsWith(c.create({ handle: person.handle, time_zone: '+02:00' }), 'invalid_time_zone', 400);
    await rejectsWith(c.create({ handle: person.handle, attributes: { mobile: '12345' } }), 'invalid_phone', 400);
    await rejectsWith(c.create({ handle: person.handle, attributes: { birthday: '2026-02-31' } }), 'validation_failed', 400);
    await rejectsWith(c.create({ handle: person.handle, attributes: { spent: 'lots' } }), 'validation_failed', 400);
    await rejectsWith(c.create({ handle: person.handle, attributes: { shoe_size: 42 } }), 'validation_failed', 400);
    // Nothing was written by the refused calls.
    assert.equal((await c.list({ q: person.handle })).contacts.length, 0);
    const ok = await c.create({ handle: person.handle });
    await rejectsWith(c.update(ok.id, { locale: 'xx-!!' }), 'invalid_locale', 400);
    await rejectsWith(c.update(ok.id, { time_zone: 'Europe/Nowhere' }), 'invalid_time_zone', 400);
    await rejectsWith(c.update(ok.id, { attributes: { mobile: 'call me' } }), 'invalid_phone', 400);
    await rejectsWith(c.defineAttribute('mobile', 'text'), 'conflict', 409);
  });

  test('only people become contacts, once per business, with external ids unique per business', async () => {
    const { business } = await setup();
    const other = await newBusinessTeam(server);
    const person = await server.signUp();
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'bot' });
    await rejectsWith(business.client.contacts.create({ handle: bot.handle }), 'validation_failed', 400);
    await rejectsWith(business.client.contacts.create({ handle: other.business.handle }), 'validation_failed', 400);
    await rejectsWith(business.client.contacts.create({ handle: uniqueHandle('nobody') }), 'not_found', 404);
    await business.client.contacts.create({ handle: person.handle, external_id: 'x-1' });
    await rejectsWith(business.client.contacts.create({ handle: person.handle }), 'conflict', 409);
    const second = await server.signUp();
    await rejectsWith(business.client.contacts.create({ handle: second.handle, external_id: 'x-1' }), 'conflict', 409);
    // Another business may use the same external id for its own customer.
    const theirs = await other.business.client.contacts.create({ handle: second.handle, external_id: 'x-1' });
    assert.equal(theirs.external_id, 'x-1');
  });

  test('a team never opts a person in without proof; with proof the ledger keeps the words, time, evidence and who recorded it', async () => {
    const { business, agent } = await setup();
    const person = await server.signUp();
    await rejectsWith(business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing' }] }), 'consent_proof_required', 400);
    assert.equal((await business.client.contacts.list({ q: person.handle })).contacts.length, 0, 'refused as a whole');
    const contact = await agent.acting.contacts.create({ handle: person.handle });
    await rejectsWith(agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in' }), 'consent_proof_required', 400);
    await rejectsWith(agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: proof('2099-01-01T00:00:00Z') }), 'validation_failed', 400);
    await rejectsWith(agent.acting.contacts.recordConsent(contact.id, { purpose: 'made_up', action: 'opt_in', proof: proof() }), 'validation_failed', 400);
    assert.deepEqual((await agent.acting.contacts.consent(contact.id)).events, []);

    const ledger = await agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: proof() });
    assert.equal(ledger.state.marketing?.state, 'opted_in');
    const [event] = ledger.events;
    assert.equal(event?.source, 'api');
    assert.equal(event?.at, Date.parse('2026-01-15T10:00:00Z'));
    assert.equal(event?.wording, 'Send me offers and news from the Flower Shop');
    assert.equal(event?.evidence, 'paper form #1042');
    assert.equal(event?.collected_via, 'shop counter');
    assert.equal(event?.actor_id, agent.accountId);

    // An opt-out needs no proof, and an older proof recorded later cannot undo it.
    await agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_out' });
    const after = await agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: proof('2026-01-20T10:00:00Z') });
    assert.equal(after.state.marketing?.state, 'opted_out', 'consent given before the opt-out does not outrank it');
    assert.deepEqual(after.events.map((e) => e.action), ['opt_in', 'opt_out', 'opt_in'], 'the ledger keeps every event in recording order');
  });

  test('removing a contact keeps its consent ledger: re-added, the person is still opted out', async () => {
    const { business } = await setup();
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof: proof() }] });
    assert.equal(contact.consent.marketing?.state, 'opted_in');
    await business.client.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_out' });
    await business.client.contacts.remove(contact.id);
    await rejectsWith(business.client.contacts.get(contact.id), 'not_found', 404);
    const again = await business.client.contacts.create({ handle: person.handle });
    assert.equal(again.consent.marketing?.state, 'opted_out');
    const gate = await server.services.contacts.gate.check({ businessId: business.accountId, contactId: again.id, purpose: 'marketing', at: Date.parse('2026-06-01T12:00:00Z') });
    assert.deepEqual(gate.ok ? 'ok' : gate.reason, 'no_consent');
  });

  test('export holds everything about a contact; erasure keeps only the proof of opt-out and says so', async () => {
    const { business, admin, agent } = await setup();
    const person = await server.signUp();
    const contact = await agent.acting.contacts.create({
      handle: person.handle,
      external_id: 'crm-9',
      name: 'Carla Diaz',
      locale: 'es',
      time_zone: 'Europe/Madrid',
      tags: ['vip'],
      attributes: { mobile: '+34 612 34 56 78' },
      consent: [{ purpose: 'marketing', proof: proof() }],
    });
    await server.services.contacts.gate.record({ businessId: business.accountId, contactId: contact.id, purpose: 'marketing', at: Date.parse('2026-02-01T12:00:00Z'), key: 'campaign-1:x' });
    await recordActivity(server.db.db, { businessId: business.accountId, accountId: person.accountId, kind: 'read', at: Date.parse('2026-02-01T13:00:00Z') });
    const exported = await admin.acting.contacts.export(contact.id);
    assert.equal(exported.contact.last_read_at, Date.parse('2026-02-01T13:00:00Z'), 'activity is part of what is held');
    assert.equal(exported.business.id, business.accountId);
    assert.equal(exported.contact.name, 'Carla Diaz');
    assert.deepEqual(exported.contact.attributes, { mobile: '+34612345678' });
    assert.equal(exported.consent_events.length, 1);
    assert.equal(exported.consent_events[0]?.evidence, 'paper form #1042');
    assert.deepEqual(exported.sends, [{ purpose: 'marketing', at: Date.parse('2026-02-01T12:00:00Z') }]);

    const erased = await admin.acting.contacts.erase(contact.id);
    assert.match(erased.notice, /Art\. 17/);
    assert.ok(erased.kept.some((k) => /opt-out/.test(k)));
    const after = await business.client.contacts.get(contact.id);
    assert.equal(after.erased_at, erased.erased_at);
    assert.equal(after.name, null);
    assert.equal(after.external_id, null);
    assert.equal(after.locale, null);
    assert.equal(after.time_zone, null);
    assert.equal(after.last_read_at, null);
    assert.deepEqual(after.tags, []);
    assert.deepEqual(after.attributes, {});
    assert.equal(after.suppressed, true);
    const ledger = await business.client.contacts.consent(contact.id);
    assert.ok(ledger.events.every((e) => e.action === 'opt_out' && e.wording === null && e.evidence === null && e.actor_id === null), 'only bare opt-outs remain');
    assert.equal(ledger.state.marketing?.state, 'opted_out');
    assert.equal(ledger.state.marketing?.source, 'erasure');
    const left = await business.client.contacts.export(contact.id);
    assert.deepEqual(left.sends, []);
    assert.equal(JSON.stringify(left).includes('Carla'), false);
    assert.equal(JSON.stringify(left).includes('+34612345678'), false);
    // Nothing more is sent, not even transactional, and the erasure's suppression cannot be lifted by the team.
    const gate = await server.services.contacts.gate.check({ businessId: business.accountId, contactId: contact.id, purpose: 'transactional', at: Date.now() });
    assert.deepEqual(gate.ok ? 'ok' : gate.reason, 'erased');
    await rejectsWith(business.client.contacts.update(contact.id, { name: 'Carla' }), 'contact_erased', 410);
    await rejectsWith(business.client.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: proof() }), 'contact_erased', 410);
    await rejectsWith(business.client.contacts.unsuppress(person.accountId), 'forbidden', 403);
  });

  test('the suppression list keeps marketing from an account whatever its consent', async () => {
    const { business, analyst } = await setup();
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof: proof() }] });
    const noon = Date.parse('2026-06-01T12:00:00Z');
    const check = () => server.services.contacts.gate.check({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing', at: noon });
    assert.deepEqual(await check(), { ok: true });
    const s = await business.client.contacts.suppress({ handle: person.handle, reason: 'complained by phone' });
    assert.equal(s.reason, 'complained by phone');
    assert.deepEqual((await analyst.acting.contacts.suppressions()).suppressions.map((x) => x.handle), [person.handle]);
    assert.equal((await business.client.contacts.get(contact.id)).suppressed, true);
    const refused = await check();
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'suppressed');
    await rejectsWith(analyst.acting.contacts.suppress({ handle: person.handle }), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.unsuppress(person.accountId), 'forbidden', 403);
    await business.client.contacts.unsuppress(person.accountId);
    assert.deepEqual(await check(), { ok: true });
  });

  test('purposes carry the exact wording; a business defines its own; analysts and agents cannot change them', async () => {
    const { business, agent, analyst } = await setup();
    const purposes = await analyst.acting.contacts.purposes();
    assert.deepEqual(purposes.map((p) => p.key), ['marketing', 'transactional', 'surveys', 'support']);
    assert.match(purposes[0]!.wording, new RegExp(business.handle));
    const changed = await business.client.contacts.putPurpose('events', { wording: 'Invite me to tastings and events at the shop.' });
    assert.deepEqual(changed.at(-1), { key: 'events', wording: 'Invite me to tastings and events at the shop.', built_in: false, subscribable: true });
    await rejectsWith(agent.acting.contacts.putPurpose('marketing', { wording: 'Anything we like, whenever we like.' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.putPurpose('news', { wording: 'News from the shop, weekly.' }), 'forbidden', 403);
    await rejectsWith(business.client.contacts.putPurpose('transactional', { wording: 'Order updates for you.', subscribable: true }), 'validation_failed', 400);
  });

  test('erasing a contact removes the team inbox notes written about them, and the reply says so (other chats keep theirs)', async () => {
    const { business, agent } = await newBusinessTeam(server);
    const person = await server.signUp();
    const other = await server.signUp();
    const chat = await person.client.openDirect(business.handle);
    await person.client.send(chat.id, { text: 'Hi, my order?' });
    const otherChat = await other.client.openDirect(business.handle);
    await other.client.send(otherChat.id, { text: 'Hello' });
    await eventually('both inbox rows', async () => ((await agent.acting.inbox.list()).conversations.length >= 2 ? true : undefined));
    await agent.acting.inbox.addNote(chat.id, 'Jane Doe, 12 rue de la Paix, allergic to nuts, card ending 4242');
    await agent.acting.inbox.addNote(otherChat.id, 'asked about delivery times');
    const contact = (await business.client.contacts.list({ q: person.handle })).contacts[0]!;
    const erased = await business.client.contacts.erase(contact.id);
    assert.ok(erased.removed.includes('internal notes in the team inbox (1)'), JSON.stringify(erased.removed));
    assert.ok(erased.kept.some((k) => /personalised images/.test(k)), 'the reply owns up to cached renders');
    assert.deepEqual((await agent.acting.inbox.get(chat.id)).notes.map((n) => n.text), [], 'notes about an erased person survive the erasure');
    assert.deepEqual((await agent.acting.inbox.get(otherChat.id)).notes.map((n) => n.text), ['asked about delivery times']);
  });

  test('list pages leave phones and external ids out for roles without the export right; one contact keeps them', async () => {
    const { business, admin, agent, analyst } = await setup();
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle, external_id: 'crm-77', attributes: { mobile: '+34 612 34 56 78', plan: 'gold' } });
    const pageOf = async (client: typeof business.client) => (await client.contacts.list({})).contacts.find((c) => c.id === contact.id)!;
    for (const [who, client] of [['analyst', analyst.acting], ['agent', agent.acting]] as const) {
      const row = await pageOf(client);
      assert.equal(row.external_id, null, `${who}: no external id on a page`);
      assert.deepEqual(row.attributes, { plan: 'gold' }, `${who}: no phone on a page`);
    }
    const one = await agent.acting.contacts.get(contact.id);
    assert.equal(one.external_id, 'crm-77', 'one contact keeps it (helping one customer)');
    assert.deepEqual(one.attributes, { mobile: '+34612345678', plan: 'gold' });
    assert.deepEqual((await pageOf(admin.acting)).attributes, { mobile: '+34612345678', plan: 'gold' }, 'admins may export');
    await business.client.updateBusiness({ settings: { agents_may_export: true } });
    assert.equal((await pageOf(agent.acting)).external_id, 'crm-77', 'agents see them once the business lets agents export');
  });

  test('denials: analysts only read, agents neither export (unless allowed) nor erase, another business sees none of it', async () => {
    const { business, agent, analyst } = await setup();
    const other = await newBusinessTeam(server);
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle });

    // Analysts read, never write.
    assert.equal((await analyst.acting.contacts.get(contact.id)).id, contact.id);
    await analyst.acting.contacts.consent(contact.id);
    const someone = await server.signUp();
    await rejectsWith(analyst.acting.contacts.create({ handle: someone.handle }), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.update(contact.id, { name: 'x' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.remove(contact.id), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_out' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.defineAttribute('color', 'text'), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.export(contact.id), 'forbidden', 403);
    await rejectsWith(analyst.acting.contacts.erase(contact.id), 'forbidden', 403);

    // Agents edit contacts but neither export (until the business allows it) nor erase.
    await rejectsWith(agent.acting.contacts.export(contact.id), 'forbidden', 403);
    await rejectsWith(agent.acting.contacts.erase(contact.id), 'forbidden', 403);
    await business.client.updateBusiness({ settings: { agents_may_export: true } });
    assert.equal((await agent.acting.contacts.export(contact.id)).contact.id, contact.id);

    // Another business (and its team) gets 404 for this contact on every route.
    for (const client of [other.business.client, other.admin.acting]) {
      await rejectsWith(client.contacts.get(contact.id), 'not_found', 404);
      await rejectsWith(client.contacts.update(contact.id, { name: 'x' }), 'not_found', 404);
      await rejectsWith(client.contacts.remove(contact.id), 'not_found', 404);
      await rejectsWith(client.contacts.consent(contact.id), 'not_found', 404);
      await rejectsWith(client.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_out' }), 'not_found', 404);
      await rejectsWith(client.contacts.export(contact.id), 'not_found', 404);
      await rejectsWith(client.contacts.erase(contact.id), 'not_found', 404);
      assert.equal((await client.contacts.list({ q: person.handle })).contacts.length, 0);
    }
    // A stranger naming the business, a person naming none, and a key without the scope.
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.forBusiness(business.accountId).contacts.list(), 'not_found', 404);
    await rejectsWith(stranger.client.contacts.list(), 'business_required', 400);
    const { key } = await business.client.createApiKey({ name: 'reader', scopes: ['business:read'] });
    const reader = server.anonymous.as(key);
    assert.equal((await reader.contacts.get(contact.id)).id, contact.id);
    await rejectsWith(reader.contacts.create({ handle: someone.handle }), 'insufficient_scope', 403);
    await rejectsWith(reader.contacts.export(contact.id), 'insufficient_scope', 403);
    await rejectsWith(server.anonymous.contacts.list(), 'unauthenticated', 401);
  });

  test('random bodies, queries and ids at every contacts route never cause a 5xx, and every refusal is problem+json', async () => {
    const { business } = await setup();
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle });
    const token = server.services.contacts.people.unsubscribeToken({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing' });
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('%', '_', '\\', "'", '"', '\u0000', 'ct_x', '@', 'Europe/Paris', 'fr-CA', '+33612345678', '2026-02-30', '9999-99-99T99:99'));
    const proof = fc.record({ wording: text, at: text, evidence: text, collected_via: fc.option(text, { nil: undefined }) }, { requiredKeys: [] });
    const near = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          handle: fc.oneof(text, fc.constant(person.handle)),
          account_id: text,
          external_id: text,
          name: text,
          locale: text,
          time_zone: text,
          tags: fc.array(text, { maxLength: 3 }),
          attributes: fc.dictionary(fc.constantFrom('plan', 'spent', 'birthday', 'vip', 'mobile', 'nope'), fc.oneof(text, fc.double(), fc.boolean(), fc.constant(null))),
          consent: fc.array(fc.record({ purpose: fc.oneof(text, fc.constantFrom('marketing', 'surveys')), proof }, { requiredKeys: ['purpose'] }), { maxLength: 2 }),
        },
        { requiredKeys: [] },
      ),
      fc.record({ purpose: fc.oneof(text, fc.constantFrom('marketing', 'transactional')), action: fc.constantFrom('opt_in', 'opt_out', 'maybe'), proof }, { requiredKeys: [] }),
      fc.record({ purposes: fc.array(fc.oneof(text, fc.constantFrom('marketing', 'surveys')), { maxLength: 3 }), token: text, business_id: text, purpose: text, key: text, type: text, wording: text }, { requiredKeys: [] }),
    );
    const enc = encodeURIComponent;
    const query = fc.record({ q: text, tag: text, after: text, limit: fc.oneof(fc.integer(), text) }, { requiredKeys: [] });
    const routes: [string, (q: Record<string, unknown>) => string][] = [
      ['GET', (q) => `/v1/business/contacts?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString()}`],
      ['POST', () => '/v1/business/contacts'],
      ['PATCH', () => `/v1/business/contacts/${contact.id}`],
      ['POST', () => `/v1/business/contacts/${contact.id}/consent`],
      ['GET', (q) => `/v1/business/contacts/${enc(String(q.q ?? 'x'))}`],
      ['POST', () => '/v1/business/contact-attributes'],
      ['PUT', (q) => `/v1/business/consent-purposes/${enc(String(q.tag ?? 'x'))}`],
      ['POST', () => '/v1/business/suppressions'],
      ['GET', (q) => `/v1/business/suppressions?after=${enc(String(q.after ?? ''))}`],
      ['POST', () => `/v1/subscribe/${business.handle}`],
      ['GET', (q) => `/v1/unsubscribe/${enc(String(q.q ?? token))}`],
      ['POST', () => '/v1/unsubscribe'],
      ['POST', () => '/v1/me/consents/withdraw'],
    ];
    for (const [method, url] of routes) {
      await fc.assert(
        fc.asyncProperty(near, query, async (body, q) => {
          const path = url(q);
          const caller = path.startsWith('/v1/subscribe') || path.startsWith('/v1/me') ? person.token : business.token;
          const res = await server.app.inject({ method: method as 'POST', url: path, headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { payload: JSON.stringify(body) }) });
          assert.ok(res.statusCode < 500, `${method} ${path} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
          if (res.statusCode >= 400) assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        }),
        { numRuns: 40, seed: 20261205 },
      );
    }
  });
});
