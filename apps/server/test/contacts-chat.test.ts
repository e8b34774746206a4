/**
 * Contacts and consent in chats, as people live them: writing to a business makes you its
 * contact (implied consent for answers and order updates, never marketing); STOP, START and HELP
 * in five languages act at once and are confirmed in your language; the subscribe page shows the
 * exact words and nothing counts until you reply YES; "why am I getting this" and withdrawal; and
 * one-tap unsubscribe links that only the server can make.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message } from '@mmd/sdk';
import { type TestServer, type User, eventually, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

const NOON = Date.parse('2026-06-01T12:00:00Z');

onEachDatabase('contacts in chats', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  /** The business's automated messages in the person's chat, oldest first. */
  async function businessReplies(person: User, conversationId: string, businessId: string): Promise<Message[]> {
    const { messages } = await person.client.history(conversationId, { limit: 100 });
    return messages.filter((m) => m.sender_id === businessId && m.automated).sort((a, b) => a.seq - b.seq);
  }
  async function waitForReplies(person: User, conversationId: string, businessId: string, count: number) {
    return eventually(`${count} replies from the business`, async () => {
      const replies = await businessReplies(person, conversationId, businessId);
      return replies.length >= count ? replies : null;
    });
  }
  const contactOf = async (business: User, person: User) => (await business.client.contacts.list({ q: person.handle })).contacts[0];
  const gate = (businessId: string, accountId: string, purpose = 'marketing') => server.services.contacts.gate.check({ businessId, accountId, purpose, at: NOON });

  test('a person who writes to a business becomes its contact, with implied consent for answers and order updates only', async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    const chat = await person.client.openDirect(business.handle);
    await person.client.send(chat.id, { text: 'Hello, is my order ready?' });
    const contact = await contactOf(business, person);
    assert.ok(contact, 'the person is a contact once the message is stored');
    assert.equal(contact.source, 'chat');
    assert.ok(contact.last_inbound_at);
    assert.deepEqual(Object.keys(contact.consent).sort(), ['support', 'transactional']);
    assert.equal(contact.consent.support?.source, 'chat');
    assert.equal(contact.consent.marketing, undefined, 'never marketing');
    assert.deepEqual(await gate(business.accountId, person.accountId, 'transactional'), { ok: true });
    const marketing = await gate(business.accountId, person.accountId);
    assert.deepEqual(marketing.ok ? 'ok' : marketing.reason, 'no_consent');
    // A second message does not record the implied consent again.
    await person.client.send(chat.id, { text: 'Thanks!' });
    assert.equal((await business.client.contacts.consent(contact.id)).events.length, 2);
  });

  test('STOP opts out at once and is confirmed; START opts back in; HELP answers without changing anything', async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    const created = await business.client.contacts.create({
      handle: person.handle,
      consent: [
        { purpose: 'marketing', proof: { wording: 'Offers from the shop', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' } },
        { purpose: 'surveys', proof: { wording: 'Surveys from the shop', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' } },
      ],
    });
    assert.deepEqual(await gate(business.accountId, person.accountId), { ok: true });
    const chat = await person.client.openDirect(business.handle);

    await person.client.send(chat.id, { text: '  Stop! ' });
    // Acted on in the message's own transaction: no waiting for the reply.
    const stopped = await business.client.contacts.consent(created.id);
    assert.equal(stopped.state.marketing?.state, 'opted_out');
    assert.equal(stopped.state.surveys?.state, 'opted_out', 'STOP ends every purpose but answers and order updates');
    assert.equal(stopped.state.support?.state, 'opted_in');
    const stop = stopped.events.find((e) => e.purpose === 'marketing' && e.action === 'opt_out');
    assert.equal(stop?.source, 'keyword');
    assert.match(stop?.evidence ?? '', /^message:/);
    const refused = await gate(business.accountId, person.accountId);
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent');
    const [confirmation] = await waitForReplies(person, chat.id, business.accountId, 1);
    assert.match(confirmation!.text ?? '', /no longer get marketing messages/);

    await person.client.send(chat.id, { text: 'start' });
    assert.equal((await business.client.contacts.consent(created.id)).state.marketing?.state, 'opted_in');
    assert.deepEqual(await gate(business.accountId, person.accountId), { ok: true });
    const afterStart = await waitForReplies(person, chat.id, business.accountId, 2);
    assert.match(afterStart[1]!.text ?? '', /subscribed to marketing messages/);

    await person.client.send(chat.id, { text: 'HELP' });
    const afterHelp = await waitForReplies(person, chat.id, business.accountId, 3);
    assert.match(afterHelp[2]!.text ?? '', /Reply STOP/);
    assert.equal((await business.client.contacts.consent(created.id)).state.marketing?.state, 'opted_in');

    // A sentence that mentions stopping is for a person on the team, not a keyword.
    await person.client.send(chat.id, { text: 'please stop sending me the newsletter on Sundays' });
    assert.equal((await business.client.contacts.consent(created.id)).state.marketing?.state, 'opted_in');
  });

  test("after the person's own STOP, the business's word (an agent's opt-in with 'proof', an import) changes nothing; only the person opts back in", async () => {
    const { business, agent } = await newBusinessTeam(server);
    const person = await server.signUp();
    const chat = await person.client.openDirect(business.handle);
    // The business had recorded an opt-out of its own first: the person's STOP is still recorded,
    // as theirs, so that it protects them.
    const contact = await business.client.contacts.create({ handle: person.handle });
    await business.client.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_out' });
    await person.client.send(chat.id, { text: 'STOP' });
    const stopped = await business.client.contacts.consent(contact.id);
    assert.deepEqual(stopped.events.filter((e) => e.purpose === 'marketing').map((e) => [e.action, e.source]), [['opt_out', 'api'], ['opt_out', 'keyword']]);
    const later = new Date(Date.now() + 1000).toISOString();
    const proof = { wording: 'Offers from the shop', at: new Date(Date.now()).toISOString(), evidence: 'trust me, really' };
    await agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof });
    let state = await business.client.contacts.consent(contact.id);
    assert.equal(state.state.marketing?.state, 'opted_out', 'the person said STOP; an agent cannot undo it');
    assert.equal(state.events.filter((e) => e.purpose === 'marketing' && e.action === 'opt_in').length, 1, 'the opt-in is kept in the ledger as what the business claimed');
    assert.equal((await gate(business.accountId, person.accountId)).ok, false);
    // Nor can an import with proof dated after the STOP.
    const imported = await business.client.contactImports.upload(
      `handle,consent_purpose,consent_source,consent_wording,consent_at,consent_evidence\n${person.handle},marketing,shop,Offers from the shop,${later.slice(0, 19)}Z,till 4\n`,
    );
    await eventually('the import to finish', async () => ((await business.client.contactImports.get(imported.id)).status === 'succeeded' ? true : null), 30_000);
    state = await business.client.contacts.consent(contact.id);
    assert.equal(state.state.marketing?.state, 'opted_out', 'an import cannot undo it either');
    assert.equal((await gate(business.accountId, person.accountId)).ok, false);
    // The person's own START does.
    await person.client.send(chat.id, { text: 'START' });
    assert.equal((await business.client.contacts.consent(contact.id)).state.marketing?.state, 'opted_in');
    assert.deepEqual(await gate(business.accountId, person.accountId), { ok: true });
    // And a business that opts someone out by itself may opt them back in (no STOP of theirs since).
    await business.client.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_out' });
    await agent.acting.contacts.recordConsent(contact.id, { purpose: 'marketing', action: 'opt_in', proof: { ...proof, at: new Date(Date.now() + 2000).toISOString() } });
    assert.equal((await business.client.contacts.consent(contact.id)).state.marketing?.state, 'opted_in');
  });

  test("reading the business's messages is a contact's 'read' activity (segments); an erased contact's row cannot be deleted to bring them back", async () => {
    const { business, agent } = await newBusinessTeam(server);
    const person = await server.signUp();
    const chat = await person.client.openDirect(business.handle);
    await person.client.send(chat.id, { text: 'hello' });
    const readRecently = { activity: 'read', op: 'within_days', days: 1 } as const;
    assert.equal((await business.client.segments.count(readRecently)).count, 0);
    const news = await business.client.send(chat.id, { text: 'Our new opening hours' });
    await person.client.markRead(chat.id, news.seq);
    await eventually('the read activity', async () => ((await business.client.segments.count(readRecently)).count === 1 ? true : null));
    assert.equal((await business.client.segments.count({ activity: 'read', op: 'never' })).count, 0);

    // Someone with read receipts off reads too: that is no activity the business may see.
    const quiet = await server.signUp();
    await quiet.client.setPrivacy({ read_receipts: false });
    const quietChat = await quiet.client.openDirect(business.handle);
    await quiet.client.send(quietChat.id, { text: 'hi' });
    const more = await business.client.send(quietChat.id, { text: 'Our new opening hours' });
    await quiet.client.markRead(quietChat.id, more.seq);
    const later = await business.client.send(chat.id, { text: 'And a sale' });
    await person.client.markRead(chat.id, later.seq);
    assert.equal((await business.client.segments.count(readRecently)).count, 1);
    assert.equal((await business.client.segments.count({ activity: 'read', op: 'never' })).count, 1);

    // Erased on request: the remaining row is what keeps them erased, so nobody may delete it.
    const contact = (await contactOf(business, person))!;
    await business.client.contacts.erase(contact.id);
    await rejectsWith(agent.acting.contacts.remove(contact.id), 'contact_erased', 410);
    await rejectsWith(business.client.contacts.remove(contact.id), 'contact_erased', 410);
    const reimport = await business.client.contactImports.upload(`handle,external_id\n${person.handle},crm-77\n`);
    const done = await eventually('the import to finish', async () => {
      const job = await business.client.contactImports.get(reimport.id);
      return job.status === 'succeeded' ? job : null;
    }, 30_000);
    assert.equal(done.rows.created, 0, 'an import does not bring an erased person back');
    assert.equal(done.rows.refused, 1);
  });

  test('the French, Spanish, German and Portuguese keywords work and are answered in their language', async () => {
    const cases = [
      ['ARRÊT', /Vous ne recevrez plus/],
      ['désinscrire', /Vous ne recevrez plus/],
      ['BAJA', /Ya no recibirás/],
      ['cancelar', /Ya no recibirás/],
      ['STOPP', /keine Werbenachrichten mehr/],
      ['Abmelden', /keine Werbenachrichten mehr/],
      ['SAIR', /não receberá mais/],
      ['UNSUBSCRIBE', /no longer get marketing/],
    ] as const;
    const { business } = await newBusinessTeam(server);
    for (const [word, reply] of cases) {
      const person = await server.signUp();
      await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof: { wording: 'Offers from the shop', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' } }] });
      const chat = await person.client.openDirect(business.handle);
      await person.client.send(chat.id, { text: word });
      const refused = await gate(business.accountId, person.accountId);
      assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent', `${word} opts out`);
      const [answer] = await waitForReplies(person, chat.id, business.accountId, 1);
      assert.match(answer!.text ?? '', reply, `${word} is answered in its language`);
    }
  });

  test('the subscribe page shows the exact wording; consent counts only once the person replies YES in their chat', async () => {
    const { business } = await newBusinessTeam(server);
    await business.client.updateBusiness({ display_name: 'Fleurs de Lys' });
    await business.client.contacts.putPurpose('marketing', { wording: 'Send me our weekly bouquet offers. Reply STOP to end them.' });
    const person = await server.signUp();
    const page = await server.anonymous.contacts.subscribePage(business.handle);
    assert.equal(page.business.display_name, 'Fleurs de Lys');
    assert.deepEqual(page.purposes.map((p) => p.key), ['marketing', 'surveys']);
    assert.equal(page.purposes[0]!.wording, 'Send me our weekly bouquet offers. Reply STOP to end them.');
    assert.match(page.notice, /reply YES/);

    const asked = await person.client.contacts.subscribe(business.handle, ['marketing']);
    assert.deepEqual(asked.pending, ['marketing']);
    const refused = await gate(business.accountId, person.accountId);
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent', 'nothing counts before the confirmation');
    const [question] = await waitForReplies(person, asked.conversation_id, business.accountId, 1);
    assert.match(question!.text ?? '', /Reply YES/);
    assert.match(question!.text ?? '', /weekly bouquet offers/);
    assert.deepEqual(question!.quick_replies?.rows, [[{ text: 'YES' }]]);

    await person.client.send(asked.conversation_id, { text: 'yes' });
    assert.deepEqual(await gate(business.accountId, person.accountId), { ok: true });
    const contact = await contactOf(business, person);
    const ledger = await business.client.contacts.consent(contact!.id);
    const optIn = ledger.events.find((e) => e.purpose === 'marketing');
    assert.equal(optIn?.source, 'double_opt_in');
    assert.equal(optIn?.wording, 'Send me our weekly bouquet offers. Reply STOP to end them.');
    assert.equal(optIn?.page, `/c/${business.handle}`);
    assert.equal(optIn?.actor_id, person.accountId);
    const replies = await waitForReplies(person, asked.conversation_id, business.accountId, 2);
    assert.match(replies[1]!.text ?? '', /Thanks! You are subscribed/);

    // Subscribing again to what one has is no new request.
    const again = await person.client.contacts.subscribe(business.handle, ['marketing']);
    assert.deepEqual([again.pending, again.already], [[], ['marketing']]);
  });

  test('the confirmation is asked in the contact’s language, and their YES (here: ja) confirms', async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.create({ handle: person.handle, locale: 'de-AT' });
    const asked = await person.client.contacts.subscribe(business.handle, ['surveys']);
    const [question] = await waitForReplies(person, asked.conversation_id, business.accountId, 1);
    assert.match(question!.text ?? '', /Antworte JA zur Bestätigung/);
    await person.client.send(asked.conversation_id, { text: 'Ja!' });
    assert.deepEqual(await gate(business.accountId, person.accountId, 'surveys'), { ok: true });
  });

  test('subscribing is for people, to purposes the business offers, at businesses that exist', async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    await rejectsWith(person.client.contacts.subscribe(business.handle, ['transactional']), 'validation_failed', 400);
    await rejectsWith(person.client.contacts.subscribe(business.handle, ['made_up']), 'validation_failed', 400);
    await rejectsWith(person.client.contacts.subscribe(person.handle, ['marketing']), 'not_found', 404);
    await rejectsWith(server.anonymous.contacts.subscribePage(person.handle), 'not_found', 404);
    await rejectsWith(server.anonymous.contacts.subscribe(business.handle, ['marketing']), 'unauthenticated', 401);
    const other = await newBusinessTeam(server);
    await rejectsWith(other.business.client.contacts.subscribe(business.handle, ['marketing']), 'person_only', 403);
    const bot = await server.signUp(undefined, { kind: 'bot' });
    await rejectsWith(bot.client.contacts.subscribe(business.handle, ['marketing']), 'person_only', 403);
    // A YES with nothing pending changes nothing.
    const chat = await person.client.openDirect(business.handle);
    await person.client.send(chat.id, { text: 'YES' });
    const refused = await gate(business.accountId, person.accountId);
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent');
  });

  test('a person sees why they get messages from each business and withdraws; nobody else sees or withdraws it', async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof: { wording: 'Offers from the shop', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' } }] });
    const [mine] = await person.client.contacts.mine();
    assert.equal(mine?.business.id, business.accountId);
    assert.equal(mine?.business.handle, business.handle);
    assert.equal(mine?.state.marketing?.state, 'opted_in');
    assert.equal(mine?.events[0]?.evidence, 'web form 77', 'the person sees the proof the business gave');
    const after = await person.client.contacts.withdraw(business.accountId, 'marketing');
    assert.equal(after[0]?.state.marketing?.state, 'opted_out');
    assert.equal(after[0]?.state.marketing?.source, 'self_service');
    const refused = await gate(business.accountId, person.accountId);
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent');
    const stranger = await server.signUp();
    assert.deepEqual(await stranger.client.contacts.mine(), []);
    await rejectsWith(stranger.client.contacts.withdraw(business.accountId, 'marketing'), 'not_found', 404);
    await rejectsWith(server.anonymous.contacts.mine(), 'unauthenticated', 401);
  });

  test('a one-tap unsubscribe link opts out without signing in; a forged or altered token does nothing', async () => {
    const { business } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.create({ handle: person.handle, consent: [{ purpose: 'marketing', proof: { wording: 'Offers from the shop', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' } }] });
    const token = server.services.contacts.people.unsubscribeToken({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing' });
    const info = await server.anonymous.contacts.unsubscribeInfo(token);
    assert.deepEqual(info, { business: { handle: business.handle, display_name: business.handle }, purpose: 'marketing', state: 'opted_in' });
    assert.deepEqual(await gate(business.accountId, person.accountId), { ok: true }, 'looking at the link changes nothing');

    const [body, mac] = token.split('~');
    const forged = `${Buffer.from(`${business.accountId}|${person.accountId}|surveys`).toString('base64url')}~${mac}`;
    await rejectsWith(server.anonymous.contacts.unsubscribe(forged), 'not_found', 404);
    await rejectsWith(server.anonymous.contacts.unsubscribe(`${body}~${'A'.repeat(mac!.length)}`), 'not_found', 404);
    await rejectsWith(server.anonymous.contacts.unsubscribe('not-a-token-at-all'), 'not_found', 404);
    assert.deepEqual(await gate(business.accountId, person.accountId), { ok: true });

    const done = await server.anonymous.contacts.unsubscribe(token);
    assert.equal(done.state, 'opted_out');
    const refused = await gate(business.accountId, person.accountId);
    assert.deepEqual(refused.ok ? 'ok' : refused.reason, 'no_consent');
    const [mine] = await person.client.contacts.mine();
    assert.equal(mine?.state.marketing?.source, 'unsubscribe_link');
    // A second tap is harmless.
    assert.equal((await server.anonymous.contacts.unsubscribe(token)).state, 'opted_out');
    assert.equal((await person.client.contacts.mine())[0]?.events.filter((e) => e.action === 'opt_out').length, 1);
  });
});
