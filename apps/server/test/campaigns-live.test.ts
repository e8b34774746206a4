/**
 * Campaigns with the real capabilities behind them: contacts with proof of consent, the consent
 * gate (consent, suppression, quiet hours, frequency caps), segments for the audience and
 * approved templates rendered per contact. What campaign-world.ts stands in for in
 * campaigns.test.ts, end to end through the API.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { after, before, test } from 'node:test';
import type { CampaignDetail, CreateMessageTemplateBody } from '@mmd/contracts';
import { DateTime } from 'luxon';
import { type TestServer, type User, eventually, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

const proof = { wording: 'Offers from the shop, at most twice a week', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' };

const offer: CreateMessageTemplateBody = {
  name: 'weekly offer',
  purpose: 'marketing',
  default_locale: 'en',
  variables: [{ name: 'offer' }],
  variants: { en: { text: 'Hi {{first_name|there}}, {{offer}}' } },
};

onEachDatabase('campaigns with contacts, segments and templates', (dialect) => {
  let server: TestServer;
  // The clock starts at the next noon UTC, whatever the hour the suite runs: a business's default
  // quiet hours (21:00–08:00 in its zone, UTC) would otherwise hold these campaigns at night.
  const noon = DateTime.utc().plus({ days: 1 }).set({ hour: 12, minute: 0, second: 0, millisecond: 0 }).toMillis();
  let offset = noon - Date.now();
  const clock = () => Date.now() + offset;
  before(async () => {
    server = await startTestServer({ dialect, clock, config: { outboundAllowPrivate: true, publicUrl: 'https://mmd.example' } });
  });
  after(() => server.close());

  async function approvedTemplate(client: User['client'], body: CreateMessageTemplateBody = offer) {
    const t = await client.createTemplate(body);
    const approved = await client.approveTemplate(t.id);
    return approved.approved_version!.id;
  }

  async function subscriber(business: User, extra: { tags?: string[]; consent?: boolean } = {}) {
    const person = await server.signUp();
    const contact = await business.client.contacts.create({ handle: person.handle, tags: extra.tags ?? ['news'], ...(extra.consent === false ? {} : { consent: [{ purpose: 'marketing', proof }] }) });
    return { ...person, contactId: contact.id };
  }

  async function settled(client: User['client'], id: string, what: (c: CampaignDetail) => boolean, ms = 30_000) {
    return eventually(`campaign ${id} to settle`, async () => {
      const c = await client.campaign(id);
      return what(c) ? c : null;
    }, ms);
  }

  async function textsOf(person: User, businessHandle: string) {
    const chat = await person.client.openDirect(businessHandle);
    return (await person.client.history(chat.id)).messages.map((m) => m.text);
  }

  test('a segment of consenting contacts gets the rendered template; no consent and suppressed are skipped; STOP ends the funnel as opted out', async () => {
    const { business } = await newBusinessTeam(server);
    const version = await approvedTemplate(business.client);
    const [ann, bob, cat] = [await subscriber(business), await subscriber(business), await subscriber(business)];
    const silent = await subscriber(business, { consent: false });
    const blocked = await subscriber(business);
    await business.client.contacts.suppress({ handle: blocked.handle, reason: 'asked by phone' });
    const elsewhere = await subscriber(business, { tags: ['other'] });
    const segment = await business.client.segments.create({ name: 'news readers', rule: { tag: 'news' } });

    const created = await business.client.createCampaign({ name: 'Offer', audience: { segment_id: segment.id }, variants: [{ template_version_id: version }], variables: { offer: '20% off all bouquets today' } });
    await business.client.startCampaign(created.id);
    const done = await settled(business.client, created.id, (c) => c.status === 'completed');
    assert.equal(done.funnel.planned, 5, 'the segment, not the contact tagged otherwise');
    assert.equal(done.funnel.sent, 3);
    assert.equal(done.funnel.skipped, 2);
    const reasons = new Map((await business.client.campaignRecipients(created.id, { status: 'skipped' })).recipients.map((r) => [r.contact_id, r.reason]));
    assert.deepEqual(Object.fromEntries(reasons), { [silent.contactId]: 'no_consent', [blocked.contactId]: 'suppressed' });
    for (const p of [ann, bob, cat]) assert.deepEqual(await textsOf(p, business.handle), ['Hi there, 20% off all bouquets today']);
    assert.equal((await silent.client.conversations()).filter((c) => c.kind === 'direct').length, 0, 'no message without consent');
    assert.equal((await elsewhere.client.conversations()).filter((c) => c.kind === 'direct').length, 0);

    const annChat = await ann.client.openDirect(business.handle);
    await ann.client.send(annChat.id, { text: 'STOP' });
    const bobChat = await bob.client.openDirect(business.handle);
    await bob.client.send(bobChat.id, { text: 'Lovely, thanks' });
    const after = await settled(business.client, created.id, (c) => c.funnel.opted_out === 1 && c.funnel.replied === 1);
    assert.equal(after.funnel.read, 2, 'answering means having read it');
    const statuses = new Map((await business.client.campaignRecipients(created.id)).recipients.map((r) => [r.contact_id, r.status]));
    assert.equal(statuses.get(ann.contactId), 'opted_out');
    assert.equal(statuses.get(bob.contactId), 'replied');

    // Ann's STOP is in the ledger: the next campaign skips her.
    const again = await business.client.createCampaign({ name: 'Offer 2', audience: { contact_ids: [ann.contactId] }, variants: [{ template_version_id: version }], variables: { offer: 'more' } });
    await business.client.startCampaign(again.id);
    const second = await settled(business.client, again.id, (c) => c.status === 'completed');
    assert.equal(second.funnel.skipped, 1);
    assert.equal((await business.client.campaignRecipients(again.id)).recipients[0]!.reason, 'no_consent');
  });

  test("the business's frequency cap skips a third marketing message; its quiet hours hold one until morning, then it is sent", async () => {
    const { business } = await newBusinessTeam(server);
    const version = await approvedTemplate(business.client);
    const capped = await subscriber(business);
    for (const n of [1, 2, 3]) {
      const c = await business.client.createCampaign({ name: `Cap ${n}`, audience: { contact_ids: [capped.contactId] }, variants: [{ template_version_id: version }], variables: { offer: `offer ${n}` } });
      await business.client.startCampaign(c.id);
      const done = await settled(business.client, c.id, (x) => x.status === 'completed');
      if (n < 3) assert.equal(done.funnel.sent, 1, `message ${n} of 2 allowed in 7 days`);
      else assert.deepEqual([done.funnel.skipped, (await business.client.campaignRecipients(c.id)).recipients[0]!.reason], [1, 'frequency_cap']);
    }
    assert.equal((await textsOf(capped, business.handle)).length, 2);

    // Quiet hours around "now" in the contact's zone: the message waits for their end.
    const zone = 'Asia/Tokyo';
    const local = DateTime.fromMillis(clock(), { zone });
    const hhmm = (d: DateTime) => d.toFormat('HH:mm');
    await business.client.updateBusiness({ settings: { quiet_hours: { start: hhmm(local.minus({ hours: 1 })), end: hhmm(local.plus({ hours: 2 })) } } });
    const sleeper = await subscriber(business);
    await business.client.contacts.update(sleeper.contactId, { time_zone: zone });
    const c = await business.client.createCampaign({ name: 'Night', audience: { contact_ids: [sleeper.contactId] }, variants: [{ template_version_id: version }], variables: { offer: 'good morning' } });
    await business.client.startCampaign(c.id);
    const waiting = await eventually('held for quiet hours', async () => (await business.client.campaignRecipients(c.id)).recipients.find((r) => r.reason === 'quiet_hours'));
    assert.equal(waiting.status, 'queued');
    const end = local.plus({ hours: 2 }).set({ second: 0, millisecond: 0 }).toMillis();
    assert.equal(waiting.send_after, end, 'until quiet hours end in the contact’s own zone');
    assert.deepEqual(await textsOf(sleeper, business.handle), []);
    offset += end - clock() + 1000;
    await settled(business.client, c.id, (x) => x.status === 'completed' && x.funnel.sent === 1);
    assert.deepEqual(await textsOf(sleeper, business.handle), ['Hi there, good morning']);
  });

  test('a declared variable nobody provides is unknown; a business attribute of that name provides it per contact', async () => {
    const { business } = await newBusinessTeam(server);
    const version = await approvedTemplate(business.client);
    const someone = await subscriber(business);
    await rejectsWith(business.client.createCampaign({ name: 'Gap', audience: { contact_ids: [someone.contactId] }, variants: [{ template_version_id: version }] }), 'unknown_variables', 400);
    const draft = await business.client.createTemplate({ ...offer, name: 'draft one' });
    await rejectsWith(business.client.createCampaign({ name: 'Draft', audience: { contact_ids: [someone.contactId] }, variants: [{ template_version_id: draft.latest_version.id }], variables: { offer: 'x' } }), 'template_not_approved');
    await business.client.contacts.defineAttribute('offer', 'text');
    const withAttribute = await subscriber(business);
    await business.client.contacts.update(withAttribute.contactId, { attributes: { offer: 'your personal 30% code' } });
    const created = await business.client.createCampaign({ name: 'Personal', audience: { contact_ids: [someone.contactId, withAttribute.contactId] }, variants: [{ template_version_id: version }] });
    await business.client.startCampaign(created.id);
    const done = await settled(business.client, created.id, (c) => c.status === 'completed');
    assert.deepEqual([done.funnel.sent, done.funnel.failed], [1, 1]);
    const failed = (await business.client.campaignRecipients(created.id, { status: 'failed' })).recipients;
    assert.deepEqual(failed.map((r) => [r.contact_id, r.reason]), [[someone.contactId, 'missing variable offer']], 'failed with the reason, never a blank');
    assert.deepEqual(await textsOf(withAttribute, business.handle), ['Hi there, your personal 30% code']);
  });

  test('a notification is sent once per idempotency key, its status follows the receipts, and the business hears each change on its webhook', async () => {
    const received: { type: string; status: string; id: string }[] = [];
    const rx = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const event = (JSON.parse(body) as { data: { type: string; data: { status: string; id: string } } }).data;
        received.push({ type: event.type, status: event.data.status, id: event.data.id });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    try {
      const { business, analyst, agent } = await newBusinessTeam(server);
      await business.client.createWebhook({ url: `http://127.0.0.1:${(rx.address() as { port: number }).port}/hook`, events: ['notification.sent', 'notification.delivered', 'notification.read', 'notification.failed'] });
      const t = await business.client.createTemplate({ name: 'shipped', purpose: 'transactional', default_locale: 'en', variables: [{ name: 'order_id' }], variants: { en: { text: 'Order {{order_id}} has shipped' } } });
      const version = (await business.client.approveTemplate(t.id)).approved_version!.id;
      // Transactional: no marketing consent needed, only a contact.
      const person = await server.signUp();
      const contact = await business.client.contacts.create({ handle: person.handle, external_id: 'cust-42' });
      const body = { template_version_id: version, external_id: 'cust-42', variables: { order_id: 'A-1001' }, idempotency_key: 'order-A-1001-shipped' };
      const first = await business.client.notify(body);
      assert.equal(first.status, 'sent');
      assert.equal(first.contact_id, contact.id);
      const again = await business.client.notify(body);
      assert.deepEqual([again.id, again.message_id], [first.id, first.message_id], 'the same key is the same notification');
      await rejectsWith(business.client.notify({ ...body, external_id: undefined, contact_id: (await business.client.contacts.create({ handle: (await server.signUp()).handle })).id }), 'conflict', 409);
      assert.deepEqual(await textsOf(person, business.handle), ['Order A-1001 has shipped'], 'sent once');

      const chat = await person.client.openDirect(business.handle);
      const [m] = (await person.client.history(chat.id)).messages;
      await person.client.markRead(chat.id, m!.seq);
      await eventually('read', async () => (await business.client.notification(first.id)).status === 'read');
      await eventually('the webhook heard sent and read', () => received.some((r) => r.type === 'notification.sent') && received.some((r) => r.type === 'notification.read'), 15_000);
      assert.ok(received.every((r) => r.id === first.id));

      await rejectsWith(business.client.notify({ template_version_id: version, contact_id: contact.id, variables: {}, idempotency_key: 'no-order-id' }), 'unknown_variables', 400);
      // Someone who blocked the business gets nothing: the notification fails, saying why.
      const blocker = await server.signUp();
      const blocked = await business.client.contacts.create({ handle: blocker.handle });
      await blocker.client.block(business.handle);
      const failing = await business.client.notify({ template_version_id: version, contact_id: blocked.id, variables: { order_id: 'B-7' }, idempotency_key: 'order-B-7' });
      assert.equal(failing.status, 'failed');
      assert.match(failing.reason ?? '', /^forbidden/);
      await eventually('the webhook heard the failure', () => received.some((r) => r.type === 'notification.failed'), 15_000);

      // Denials: analysts and agents read but do not send; another business sees nothing; a key needs notifications:write.
      assert.equal((await analyst.acting.notification(first.id)).id, first.id);
      await rejectsWith(analyst.acting.notify({ ...body, idempotency_key: 'x1' }), 'forbidden', 403);
      await rejectsWith(agent.acting.notify({ ...body, idempotency_key: 'x2' }), 'forbidden', 403);
      const other = await newBusinessTeam(server);
      await rejectsWith(other.business.client.notification(first.id), 'not_found', 404);
      await rejectsWith(other.business.client.notify({ ...body, idempotency_key: 'x3' }), 'not_found', 404);
      const key = await business.client.createApiKey({ name: 'read only', scopes: ['business:read'] });
      await rejectsWith(server.anonymous.as(key.key).notify({ ...body, idempotency_key: 'x4' }), 'insufficient_scope', 403);
      const sender = await business.client.createApiKey({ name: 'shop backend', scopes: ['notifications:write'] });
      const viaKey = await server.anonymous.as(sender.key).notify({ ...body, idempotency_key: 'order-A-1002-shipped', variables: { order_id: 'A-1002' } });
      assert.equal(viaKey.status, 'sent');
    } finally {
      rx.closeAllConnections();
      await new Promise((r) => rx.close(r));
    }
  });

  test("following a campaign message's tracked link marks its recipient clicked, once", async () => {
    const { business } = await newBusinessTeam(server);
    const version = await approvedTemplate(business.client, {
      name: 'with a link',
      purpose: 'marketing',
      default_locale: 'en',
      variants: { en: { text: 'New season', buttons: [[{ type: 'url', text: 'Shop now', url: 'https://shop.example/spring' }]] } },
    });
    const [ann, bob] = [await subscriber(business), await subscriber(business)];
    const created = await business.client.createCampaign({ name: 'Linked', audience: { contact_ids: [ann.contactId, bob.contactId] }, variants: [{ template_version_id: version }] });
    await business.client.startCampaign(created.id);
    await settled(business.client, created.id, (c) => c.status === 'completed');
    const chat = await ann.client.openDirect(business.handle);
    const [m] = (await ann.client.history(chat.id)).messages;
    const url = m!.buttons![0]![0]!.url!;
    assert.match(url, /^https:\/\/mmd\.example\/r\//);
    for (const _ of [1, 2]) {
      const followed = await fetch(`${server.url}${new URL(url).pathname}`, { redirect: 'manual' });
      assert.equal(followed.headers.get('location'), 'https://shop.example/spring');
    }
    const c = await settled(business.client, created.id, (x) => x.funnel.clicked === 1);
    assert.equal(c.funnel.read, 1, 'a click means it was read');
    const statuses = new Map((await business.client.campaignRecipients(created.id)).recipients.map((r) => [r.contact_id, r.status]));
    assert.deepEqual([statuses.get(ann.contactId), statuses.get(bob.contactId)], ['clicked', 'sent']);
  });
});
