/**
 * The team inbox: every customer chat with a business in one list, worked by its team at once —
 * assignment, status, internal notes the customer never sees, replies signed "Business · Agent",
 * canned replies and automation's hand-off — with live events for the team alone.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import type { MmdClient, SyncEvent } from '@mmd/sdk';
import { type TestServer, type User, eventually, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

/** A person who writes to the business: their client and the direct chat's id. */
async function customerWrites(server: TestServer, business: User, text: string, existing?: { user: User; conversationId: string }) {
  const user = existing?.user ?? (await server.signUp(uniqueHandle('cust')));
  const conversationId = existing?.conversationId ?? (await user.client.openDirect(business.handle)).id;
  const message = await user.client.send(conversationId, { text });
  return { user, conversationId, message };
}

/** Every event an account has after `cursor` (all pages). */
async function eventsAfter(client: MmdClient, cursor: number): Promise<SyncEvent[]> {
  const out: SyncEvent[] = [];
  for (;;) {
    const page = await client.updates({ cursor, limit: 200 });
    out.push(...page.events);
    cursor = page.cursor;
    if (!page.has_more) return out;
  }
}

/** Waits for an event of `type` matching `match` among an account's events after `cursor`. */
async function waitForEvent<T extends SyncEvent['type']>(client: MmdClient, cursor: number, type: T, match: (e: Extract<SyncEvent, { type: T }>) => boolean) {
  return eventually(`${type} event`, async () => (await eventsAfter(client, cursor)).find((e): e is Extract<SyncEvent, { type: T }> => e.type === type && match(e as Extract<SyncEvent, { type: T }>)));
}

onEachDatabase('team inbox', (dialect) => {
  let server: TestServer;
  const received: string[] = [];
  let receiverUrl = '';
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });

  before(async () => {
    // The business's own webhook posts to a local receiver.
    server = await startTestServer({ dialect, config: { outboundAllowPrivate: true } });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  test("a customer's first message puts the chat in the inbox, open and unassigned, and every team member hears of it", async () => {
    const { business, admin, agent, analyst } = await newBusinessTeam(server);
    const cursors = new Map<string, number>();
    for (const u of [business, admin, agent, analyst]) cursors.set(u.accountId, await u.client.updatesState());
    const { user: customer, conversationId, message: first } = await customerWrites(server, business, 'Hello, is my order shipped?');

    for (const member of [agent.acting, analyst.acting, business.client]) {
      const list = await member.inbox.list();
      assert.equal(list.conversations.length, 1);
      const [entry] = list.conversations;
      assert.equal(entry!.conversation_id, conversationId);
      assert.deepEqual(entry!.customer, { id: customer.accountId, handle: customer.handle });
      assert.equal(entry!.status, 'open');
      assert.equal(entry!.assignee, null);
      assert.equal(entry!.handoff, null, 'no automation on: no hand-off to show');
      assert.equal(entry!.last_message_preview, 'Hello, is my order shipped?');
      assert.equal(entry!.last_message_from, 'customer');
    }
    for (const u of [business, admin, agent, analyst]) {
      const e = await waitForEvent(u.client, cursors.get(u.accountId)!, 'inbox.updated', (x) => x.data.conversation.conversation_id === conversationId);
      assert.equal(e.data.change, 'message');
      assert.equal(e.data.business_id, business.accountId);
      assert.equal(e.data.message_id, first.id);
      assert.equal(e.data.conversation.last_message_preview, null, 'no content in the event log');
      assert.equal(e.conversation_id, null, 'addressed to the team member, not to the conversation');
    }
    // A person outside the team hears nothing of it.
    const outsider = await server.signUp();
    const outsiderCursor = 0;
    assert.equal((await eventsAfter(outsider.client, outsiderCursor)).filter((e) => e.type.startsWith('inbox.')).length, 0);
  });

  test('assign, status and filters: mine, unassigned, status, a handle search and pages newest first; a new customer message reopens a resolved chat', async () => {
    const { business, agent, admin } = await newBusinessTeam(server);
    const stem = uniqueHandle('shopper');
    const chats = [];
    for (let i = 0; i < 5; i++) {
      const user = await server.signUp(`${stem}n${i}`);
      chats.push(await customerWrites(server, business, `message ${i}`, { user, conversationId: (await user.client.openDirect(business.handle)).id }));
    }
    const other = await customerWrites(server, business, 'someone else');

    const a = chats[1]!.conversationId;
    const b = chats[3]!.conversationId;
    const assigned = await agent.acting.inbox.update(a, { assignee_id: agent.accountId });
    assert.deepEqual(assigned.assignee, { id: agent.accountId, handle: agent.handle });
    await admin.acting.inbox.update(b, { status: 'resolved' });

    const ids = (list: { conversations: { conversation_id: string }[] }) => list.conversations.map((c) => c.conversation_id);
    assert.deepEqual(ids(await agent.acting.inbox.list({ assignee: 'mine' })), [a]);
    assert.deepEqual(ids(await admin.acting.inbox.list({ assignee: 'mine' })), []);
    assert.ok(!ids(await agent.acting.inbox.list({ assignee: 'unassigned' })).includes(a));
    assert.equal(ids(await agent.acting.inbox.list({ assignee: 'unassigned' })).length, 5);
    assert.deepEqual(ids(await agent.acting.inbox.list({ status: 'resolved' })), [b]);
    assert.equal((await agent.acting.inbox.list({ status: 'open' })).conversations.length, 5);
    // Search by the start of the customer's handle, any letter case; `_` is a letter there, not a wildcard.
    assert.deepEqual(ids(await agent.acting.inbox.list({ q: `${stem}N2`.toUpperCase() })), [chats[2]!.conversationId]);
    assert.equal((await agent.acting.inbox.list({ q: stem })).conversations.length, 5);
    assert.deepEqual(ids(await agent.acting.inbox.list({ q: 'zz_nobody' })), []);

    // Pages of 2, newest activity first, each chat once.
    const expected = [other.conversationId, ...chats.map((c) => c.conversationId).reverse()];
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await agent.acting.inbox.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...ids(page));
      if (!page.next) break;
      cursor = page.next;
    }
    assert.deepEqual(seen, expected);

    // The customer of the resolved chat writes again: it is open and first in the list.
    await customerWrites(server, business, 'one more thing', { user: chats[3]!.user, conversationId: b });
    const now = await agent.acting.inbox.list();
    assert.equal(now.conversations[0]!.conversation_id, b);
    assert.equal(now.conversations[0]!.status, 'open');
    assert.equal(now.conversations[0]!.last_message_preview, 'one more thing');
    // A pending chat (waiting for the customer) is reopened by their answer too.
    await agent.acting.inbox.update(a, { status: 'pending' });
    await customerWrites(server, business, 'here is the photo', { user: chats[1]!.user, conversationId: a });
    assert.equal((await agent.acting.inbox.get(a)).conversation.status, 'open');
    assert.deepEqual((await agent.acting.inbox.get(a)).conversation.assignee?.id, agent.accountId, 'reopening keeps the assignee');
  });

  test('team members see each other assign, change status and add notes live; two agents taking one chat at once: one wins', async () => {
    const { business, admin, agent, analyst } = await newBusinessTeam(server);
    const { conversationId } = await customerWrites(server, business, 'Can someone help?');
    const adminCursor = await admin.client.updatesState();
    const analystCursor = await analyst.client.updatesState();

    await agent.acting.inbox.update(conversationId, { assignee_id: agent.accountId, if_unassigned: true });
    const assigned = await waitForEvent(admin.client, adminCursor, 'inbox.updated', (e) => e.data.change === 'assigned');
    assert.equal(assigned.data.by, agent.accountId);
    assert.equal(assigned.data.conversation.assignee?.id, agent.accountId);
    // The admin tries to take it too, "only if nobody has it": refused, and nothing changes.
    await rejectsWith(admin.acting.inbox.update(conversationId, { assignee_id: admin.accountId, if_unassigned: true }), 'conflict', 409);
    assert.equal((await admin.acting.inbox.get(conversationId)).conversation.assignee?.id, agent.accountId);
    // Without the condition an admin reassigns.
    await admin.acting.inbox.update(conversationId, { assignee_id: admin.accountId });

    await agent.acting.inbox.update(conversationId, { status: 'pending' });
    const status = await waitForEvent(analyst.client, analystCursor, 'inbox.updated', (e) => e.data.change === 'status');
    assert.equal(status.data.conversation.status, 'pending');

    const note = await agent.acting.inbox.addNote(conversationId, 'VIP customer, refund approved by Sam');
    assert.equal(note.author.id, agent.accountId);
    const heard = await waitForEvent(admin.client, adminCursor, 'inbox.note_added', (e) => e.data.note.id === note.id);
    assert.equal(heard.data.note.text, 'VIP customer, refund approved by Sam');
    assert.equal(heard.data.conversation_id, conversationId);
    const detail = await analyst.acting.inbox.get(conversationId);
    assert.deepEqual(detail.notes.map((n) => [n.text, n.author.handle]), [['VIP customer, refund approved by Sam', agent.handle]]);

    // Unassign.
    assert.equal((await admin.acting.inbox.update(conversationId, { assignee_id: null })).assignee, null);
  });

  test("a customer never sees a note: not in the chat's history, not in their event stream, not in any webhook", async () => {
    const { business, agent } = await newBusinessTeam(server);
    await business.client.createWebhook({ url: receiverUrl });
    const { user: customer, conversationId } = await customerWrites(server, business, 'Where is my parcel?');
    const customerCursor = 0;
    const secret = `note-${uniqueHandle('secret')}`;
    // The customer and the agent are live on the WebSocket stream while the note is written.
    const customerLive: SyncEvent[] = [];
    const agentLive: SyncEvent[] = [];
    const customerStream = customer.client.stream({ cursor: await customer.client.updatesState(), onEvent: (e) => customerLive.push(e) });
    const agentStream = agent.client.stream({ cursor: await agent.client.updatesState(), onEvent: (e) => agentLive.push(e) });
    await Promise.all([customerStream.ready, agentStream.ready]);
    await agent.acting.inbox.addNote(conversationId, `Parcel lost, ${secret}`);
    const reply = await agent.acting.inbox.reply(conversationId, { text: 'We are on it!' });
    await eventually('the reply on the customer stream', () => customerLive.some((e) => e.type === 'message.created' && e.data.id === reply.id));
    await eventually('the note on the agent stream', () => agentLive.some((e) => e.type === 'inbox.note_added' && e.data.note.text.includes(secret)));
    customerStream.close();
    agentStream.close();
    assert.ok(!JSON.stringify(customerLive).includes(secret), 'the note is not on the customer live stream');
    assert.equal(customerLive.filter((e) => e.type.startsWith('inbox.')).length, 0);
    // The customer answers: the business's webhook gets that (a business's own messages are not
    // echoed to it), so once it arrives everything written before it has been through the webhook.
    const { message: thanks } = await customerWrites(server, business, 'Thanks!', { user: customer, conversationId });
    await eventually('the answer at the webhook', () => received.some((b) => b.includes(thanks.id)));
    const history = await customer.client.history(conversationId);
    assert.deepEqual(history.messages.map((m) => m.text), ['Where is my parcel?', 'We are on it!', 'Thanks!']);
    const events = await eventsAfter(customer.client, customerCursor);
    assert.ok(events.some((e) => e.type === 'message.created' && e.data.id === reply.id));
    assert.equal(events.filter((e) => e.type.startsWith('inbox.')).length, 0, 'no inbox event reaches the customer');
    assert.ok(!JSON.stringify(events).includes(secret), 'the note is in no event the customer receives');
    assert.ok(!received.some((b) => b.includes(secret)), 'the note is in no webhook delivery');
    assert.ok(!received.some((b) => b.includes('"inbox.')), 'inbox events are never webhooks');
    // The business's own view of the chat (its messages) has no note either: notes are not messages.
    const businessHistory = await business.client.history(conversationId);
    assert.ok(!JSON.stringify(businessHistory).includes(secret));
  });

  test('denials: analysts only read; a person outside the team sees nothing; another business’s chat is not found; keys need their scope', async () => {
    const { business, agent, analyst } = await newBusinessTeam(server);
    const { conversationId } = await customerWrites(server, business, 'hi');

    // Analysts read, never act.
    assert.equal((await analyst.acting.inbox.list()).conversations.length, 1);
    await rejectsWith(analyst.acting.inbox.update(conversationId, { assignee_id: agent.accountId }), 'forbidden', 403);
    await rejectsWith(analyst.acting.inbox.update(conversationId, { status: 'resolved' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.inbox.addNote(conversationId, 'x'), 'forbidden', 403);
    await rejectsWith(analyst.acting.inbox.reply(conversationId, { text: 'x' }), 'forbidden', 403);
    // Nobody assigns to an analyst, nor to someone off the team.
    await rejectsWith(agent.acting.inbox.update(conversationId, { assignee_id: analyst.accountId }), 'validation_failed', 400);
    const outsider = await server.signUp();
    await rejectsWith(agent.acting.inbox.update(conversationId, { assignee_id: outsider.accountId }), 'validation_failed', 400);
    await rejectsWith(agent.acting.inbox.update(conversationId, { if_unassigned: true }), 'validation_failed', 400);
    await rejectsWith(agent.acting.inbox.list({ cursor: 'not-a-cursor' }), 'validation_failed', 400);

    // A person outside the team: 404 for everything, as for a business that does not exist.
    const asOutsider = outsider.client.forBusiness(business.accountId);
    await rejectsWith(asOutsider.inbox.list(), 'not_found', 404);
    await rejectsWith(asOutsider.inbox.get(conversationId), 'not_found', 404);
    await rejectsWith(asOutsider.inbox.update(conversationId, { status: 'resolved' }), 'not_found', 404);
    await rejectsWith(asOutsider.inbox.addNote(conversationId, 'x'), 'not_found', 404);
    // The customer is not on the team either.
    const customerAsTeam = (await server.signUp()).client.forBusiness(business.accountId);
    await rejectsWith(customerAsTeam.inbox.list(), 'not_found', 404);

    // Another business's team, acting for their own business, finds nothing of this chat.
    const rival = await newBusinessTeam(server);
    await rejectsWith(rival.agent.acting.inbox.get(conversationId), 'not_found', 404);
    await rejectsWith(rival.agent.acting.inbox.update(conversationId, { status: 'resolved' }), 'not_found', 404);
    await rejectsWith(rival.agent.acting.inbox.addNote(conversationId, 'x'), 'not_found', 404);
    await rejectsWith(rival.agent.acting.inbox.reply(conversationId, { text: 'x' }), 'not_found', 404);
    assert.equal((await rival.business.client.inbox.list()).conversations.length, 0);
    // A conversation id that is no inbox chat at all.
    await rejectsWith(agent.acting.inbox.get('cnv_nope'), 'not_found', 404);

    // The business's API keys: reading takes business:read, acting inbox:write.
    const reader = await business.client.createApiKey({ name: 'reader', scopes: ['business:read'] });
    const asReader = server.anonymous.as(reader.key);
    assert.equal((await asReader.inbox.list()).conversations.length, 1);
    await rejectsWith(asReader.inbox.update(conversationId, { status: 'resolved' }), 'insufficient_scope', 403);
    await rejectsWith(asReader.inbox.addNote(conversationId, 'x'), 'insufficient_scope', 403);
    const writer = await business.client.createApiKey({ name: 'writer', scopes: ['inbox:write'] });
    await rejectsWith(server.anonymous.as(writer.key).inbox.list(), 'insufficient_scope', 403);
    assert.equal((await server.anonymous.as(writer.key).inbox.update(conversationId, { status: 'resolved' })).status, 'resolved');
  });
  test('agents reply as the business: the customer sees the business and the agent who wrote; the reply takes an unassigned chat', async () => {
    const { business, agent, admin } = await newBusinessTeam(server);
    const { user: customer, conversationId } = await customerWrites(server, business, 'Is the blue one in stock?');
    const adminCursor = await admin.client.updatesState();
    const customerCursor = await customer.client.updatesState();

    const reply = await agent.acting.inbox.reply(conversationId, { text: 'Yes, two left!', idempotency_key: 'k1' });
    assert.equal(reply.sender_id, business.accountId);
    assert.equal(reply.sender_kind, 'business');
    assert.deepEqual(reply.agent, { id: agent.accountId, handle: agent.handle });
    // A retry with the same key sends nothing new.
    assert.equal((await agent.acting.inbox.reply(conversationId, { text: 'Yes, two left!', idempotency_key: 'k1' })).id, reply.id);

    // The customer's history and live stream name the business and the agent.
    const seen = (await customer.client.history(conversationId)).messages.at(-1)!;
    assert.equal(seen.id, reply.id);
    assert.equal(seen.sender_handle, business.handle);
    assert.deepEqual(seen.agent, { id: agent.accountId, handle: agent.handle });
    const live = await waitForEvent(customer.client, customerCursor, 'message.created', (e) => e.data.id === reply.id);
    assert.deepEqual(live.data.agent, { id: agent.accountId, handle: agent.handle });

    // The team sees the reply, and that the agent now has the chat.
    const told = await waitForEvent(admin.client, adminCursor, 'inbox.updated', (e) => e.data.change === 'reply');
    assert.equal(told.data.by, agent.accountId);
    assert.equal(told.data.message_id, reply.id);
    assert.equal(told.data.conversation.assignee?.id, agent.accountId);
    assert.equal(told.data.conversation.last_message_from, 'business');
    const detail = await admin.acting.inbox.get(conversationId);
    assert.deepEqual(detail.messages.map((m) => [m.text, m.agent?.handle ?? null]), [['Is the blue one in stock?', null], ['Yes, two left!', agent.handle]]);

    // The business account replying itself names no agent; neither do its messages sent elsewhere.
    const own = await business.client.inbox.reply(conversationId, { text: 'From the shop' });
    assert.equal(own.agent, undefined);
    const direct = await business.client.send(conversationId, { text: 'Plain send' });
    assert.equal(direct.agent, undefined);
    // Nobody names an agent through the plain send API.
    await rejectsWith(customer.client.send(conversationId, { text: 'x', agent: { id: customer.accountId, handle: customer.handle } } as never), 'validation_failed', 400);
  });

  test("automation's hand-off: agents take a chat from the bot and hand it back; an agent's reply takes it too", async () => {
    const { business, agent, analyst } = await newBusinessTeam(server);
    await business.client.automation.updateSettings({ enabled: true });
    const { conversationId } = await customerWrites(server, business, 'hello bot');
    assert.equal((await agent.acting.inbox.get(conversationId)).conversation.handoff, 'bot');
    const cursor = await analyst.client.updatesState();

    const taken = await agent.acting.inbox.update(conversationId, { handoff: 'human' });
    assert.equal(taken.handoff, 'human');
    assert.equal((await business.client.automation.conversation(conversationId)).state, 'human', "automation's own state says so");
    const told = await waitForEvent(analyst.client, cursor, 'inbox.updated', (e) => e.data.change === 'handoff');
    assert.equal(told.data.conversation.handoff, 'human');
    await rejectsWith(analyst.acting.inbox.update(conversationId, { handoff: 'bot' }), 'forbidden', 403);

    assert.equal((await agent.acting.inbox.update(conversationId, { handoff: 'bot' })).handoff, 'bot');
    assert.equal((await business.client.automation.conversation(conversationId)).state, 'bot');
    // Replying by hand is taking over, as automation defines it.
    await agent.acting.inbox.reply(conversationId, { text: 'A person here' });
    assert.equal((await agent.acting.inbox.list()).conversations[0]!.handoff, 'human');
  });

  test("canned replies are the business's saved templates: agents save and delete them, analysts read, one an automation rule sends stays", async () => {
    const { business, agent, analyst } = await newBusinessTeam(server);
    const saved = await agent.acting.inbox.createCannedReply({ name: 'Shipping', text: 'Hi {{handle}}, it ships within 2 days. — {{business}}' });
    assert.deepEqual((await analyst.acting.inbox.cannedReplies()).canned_replies.map((c) => [c.name, c.text]), [['Shipping', 'Hi {{handle}}, it ships within 2 days. — {{business}}']]);
    // The same templates automation uses.
    assert.deepEqual((await business.client.automation.templates()).map((t) => t.id), [saved.id]);
    await rejectsWith(analyst.acting.inbox.createCannedReply({ name: 'x', text: 'y' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.inbox.deleteCannedReply(saved.id), 'forbidden', 403);
    await rejectsWith(agent.acting.inbox.createCannedReply({ name: 'Bad', text: 'Hi {{first_name}}' }), 'validation_failed', 400);
    await rejectsWith(agent.acting.inbox.createCannedReply({ name: 'Shipping', text: 'again' }), 'conflict', 409);

    const rule = await business.client.automation.createRule({ name: 'Shipping question', trigger: { type: 'keywords', keywords: ['ship'] }, actions: [{ type: 'template', template_id: saved.id }] });
    await rejectsWith(agent.acting.inbox.deleteCannedReply(saved.id), 'conflict', 409);
    await business.client.automation.deleteRule(rule.id);
    // Another business's team cannot touch it.
    const rival = await newBusinessTeam(server);
    await rejectsWith(rival.agent.acting.inbox.deleteCannedReply(saved.id), 'not_found', 404);
    await agent.acting.inbox.deleteCannedReply(saved.id);
    assert.deepEqual((await analyst.acting.inbox.cannedReplies()).canned_replies, []);
  });
  test("people see a business's display name and verified mark for their chats in one call; persons are left out", async () => {
    const { business } = await newBusinessTeam(server);
    await business.client.updateBusiness({ display_name: 'Harbour Bakery' });
    const other = await server.signUp(uniqueHandle('biz'), { kind: 'business' });
    const person = await server.signUp();
    await server.services.business.setVerified({ businessId: business.accountId, verified: true, by: business.accountId });
    const found = await person.client.businessProfiles([business.accountId, person.accountId, other.accountId, 'acc_nope']);
    assert.deepEqual(
      found.map((b) => [b.id, b.display_name, b.verified]),
      [
        [business.accountId, 'Harbour Bakery', true],
        [other.accountId, other.handle, false],
      ],
    );
    await rejectsWith(person.client.businessProfiles(Array.from({ length: 101 }, (_, i) => `acc_${i}`)), 'validation_failed', 400);
    await rejectsWith(server.anonymous.businessProfiles([business.accountId]), 'unauthenticated', 401);
  });
  test('two agents taking one chat at the same moment: exactly one gets it, the other a conflict', async () => {
    const { business, agent, admin } = await newBusinessTeam(server);
    for (let round = 0; round < 5; round++) {
      const { conversationId } = await customerWrites(server, business, `race ${round}`);
      const results = await Promise.allSettled([
        agent.acting.inbox.update(conversationId, { assignee_id: agent.accountId, if_unassigned: true }),
        admin.acting.inbox.update(conversationId, { assignee_id: admin.accountId, if_unassigned: true }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: one winner`);
      assert.equal(lost.length, 1);
      assert.equal((lost[0]!.reason as { code?: string }).code, 'conflict');
      const winner = (won[0] as PromiseFulfilledResult<{ assignee: { id: string } | null }>).value.assignee!.id;
      assert.equal((await agent.acting.inbox.get(conversationId)).conversation.assignee?.id, winner);
    }
  });

  test("older messages page with `before`; a deleted newest message leaves no preview; keys without messages:read get the team's events without content", async () => {
    const { business, agent } = await newBusinessTeam(server);
    const first = await customerWrites(server, business, 'one');
    for (const text of ['two', 'three', 'four']) await customerWrites(server, business, text, { user: first.user, conversationId: first.conversationId });
    const id = first.conversationId;
    const newest = await agent.acting.inbox.get(id, { limit: 2 });
    assert.deepEqual(newest.messages.map((m) => m.text), ['three', 'four']);
    assert.equal(newest.has_more, true);
    const older = await agent.acting.inbox.get(id, { limit: 2, before: newest.messages[0]!.seq });
    assert.deepEqual(older.messages.map((m) => m.text), ['one', 'two']);
    assert.equal(older.has_more, false);

    // The customer deletes what they wrote last: the list no longer shows it, and no team member's
    // catch-up reads it either (team events carry ids, never content).
    const last = newest.messages.at(-1)!;
    await first.user.client.deleteMessage(last.id);
    assert.equal((await agent.acting.inbox.get(id)).conversation.last_message_preview, null);
    assert.ok(!JSON.stringify(await eventsAfter(agent.client, 0)).includes('four'), "a deleted message is in no team member's events");

    // A business key that may follow events but not read messages sees that something happened, not what.
    const key = await business.client.createApiKey({ name: 'events only', scopes: ['updates:read'] });
    const watcher = server.anonymous.as(key.key);
    const cursor = await watcher.updatesState();
    await agent.acting.inbox.addNote(id, 'secret note text');
    await customerWrites(server, business, 'private words', { user: first.user, conversationId: id });
    const note = await waitForEvent(watcher, cursor, 'inbox.note_added', () => true);
    assert.equal(note.data.note.text, null);
    const update = await waitForEvent(watcher, cursor, 'inbox.updated', (e) => e.data.change === 'message');
    assert.equal(update.data.conversation.last_message_preview, null);
    assert.ok(!JSON.stringify(await eventsAfter(watcher, cursor)).includes('private words'));
    assert.ok(!JSON.stringify(await eventsAfter(watcher, cursor)).includes('secret note text'));
  });

  test('random bodies, queries and ids at every inbox route never cause a 5xx', async () => {
    const { business, agent } = await newBusinessTeam(server);
    const { conversationId } = await customerWrites(server, business, 'fuzz me');
    const headers = { authorization: `Bearer ${agent.token}`, 'x-mmd-business': business.accountId, 'content-type': 'application/json' };
    const near = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ assignee_id: fc.oneof(fc.string({ maxLength: 70 }), fc.constant(null), fc.constant(agent.accountId)), if_unassigned: fc.boolean(), status: fc.constantFrom('open', 'pending', 'resolved', 'x'), handoff: fc.constantFrom('bot', 'human', 'robot') }, { requiredKeys: [] }),
      fc.record({ text: fc.string({ maxLength: 40 }), idempotency_key: fc.string({ maxLength: 140 }), reply_to: fc.string({ maxLength: 70 }) }, { requiredKeys: [] }),
      fc.record({ name: fc.string({ maxLength: 70 }), text: fc.string({ maxLength: 40 }) }, { requiredKeys: [] }),
    );
    const ids = fc.oneof(fc.constant(conversationId), fc.string({ minLength: 1, maxLength: 80 }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('PATCH', 'POST notes', 'POST messages', 'POST canned', 'DELETE canned', 'GET one', 'GET list'), ids, near, fc.string({ maxLength: 60 }), async (route, id, body, q) => {
        const enc = encodeURIComponent(id);
        const [method, url] = {
          PATCH: ['PATCH', `/v1/business/inbox/${enc}`],
          'POST notes': ['POST', `/v1/business/inbox/${enc}/notes`],
          'POST messages': ['POST', `/v1/business/inbox/${enc}/messages`],
          'POST canned': ['POST', '/v1/business/canned-replies'],
          'DELETE canned': ['DELETE', `/v1/business/canned-replies/${enc}`],
          'GET one': ['GET', `/v1/business/inbox/${enc}?before=${encodeURIComponent(q)}`],
          'GET list': ['GET', `/v1/business/inbox?q=${encodeURIComponent(q)}&cursor=${encodeURIComponent(q)}&status=${encodeURIComponent(q)}`],
        }[route] as [string, string];
        const withBody = method === 'PATCH' || method === 'POST';
        const res = await server.app.inject({ method: method as 'POST', url, headers, ...(withBody ? { payload: JSON.stringify(body) } : {}) });
        assert.ok(res.statusCode < 500, `${method} ${url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400) assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      }),
      { numRuns: 150, seed: 20261205 },
    );
  });
  test("the team sees a customer's photo through the inbox, and only media of that chat's messages", async () => {
    const { business, agent, analyst } = await newBusinessTeam(server);
    const customer = await server.signUp(uniqueHandle('cust'));
    const chat = await customer.client.openDirect(business.handle);
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
    const { id: mediaId } = await customer.client.upload(png, { filename: 'parcel.png' });
    await customer.client.waitForMedia(mediaId);
    const sent = await customer.client.send(chat.id, { text: 'It arrived broken', media: [mediaId] });
    await eventually('the photo in the inbox', async () => (await agent.acting.inbox.get(chat.id)).messages.some((m) => m.id === sent.id && m.status === 'sent'));

    for (const member of [agent.acting, analyst.acting]) {
      const item = await member.inbox.media(chat.id, sent.id, mediaId);
      assert.equal(item.kind, 'image');
      const url = item.renditions.preview?.url ?? item.renditions.thumbnail?.url;
      assert.ok(url, 'a signed rendition URL');
      const res = await member.fetchFile(url!);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^image\//);
    }
    // Not through another message, another chat or another business.
    const other = await customerWrites(server, business, 'no photo here');
    await rejectsWith(agent.acting.inbox.media(other.conversationId, sent.id, mediaId), 'not_found', 404);
    const plain = (await agent.acting.inbox.get(chat.id)).messages[0]!;
    await rejectsWith(agent.acting.inbox.media(chat.id, plain.id === sent.id ? 'msg_nope' : plain.id, mediaId), 'not_found', 404);
    const rival = await newBusinessTeam(server);
    await rejectsWith(rival.agent.acting.inbox.media(chat.id, sent.id, mediaId), 'not_found', 404);
    const outsider = await server.signUp();
    await rejectsWith(outsider.client.forBusiness(business.accountId).inbox.media(chat.id, sent.id, mediaId), 'not_found', 404);
  });
  test("what no team member wrote (automation, campaigns) reaches the team only in a chat going on now: not resolved, the customer wrote within a day", async () => {
    let now = Date.now();
    const timed = await startTestServer({ dialect, clock: () => now });
    try {
      const { business, agent } = await newBusinessTeam(timed);
      const { conversationId } = await customerWrites(timed, business, 'hi there');
      const heard = async (text: string) => {
        const cursor = await agent.client.updatesState();
        const sent = await business.client.send(conversationId, { text });
        // A later event the agent surely gets marks how far to look.
        await agent.acting.inbox.addNote(conversationId, `after ${text}`);
        await waitForEvent(agent.client, cursor, 'inbox.note_added', (e) => e.data.note.text === `after ${text}`);
        return (await eventsAfter(agent.client, cursor)).some((e) => e.type === 'inbox.updated' && e.data.message_id === sent.id);
      };
      assert.equal(await heard('an answer while the customer is here'), true);
      now += 25 * 60 * 60 * 1000;
      assert.equal(await heard('a campaign a day later'), false);
      // Told or not, the list shows the newest activity.
      assert.equal((await agent.acting.inbox.get(conversationId)).conversation.last_message_preview, 'a campaign a day later');
      await agent.acting.inbox.update(conversationId, { status: 'resolved' });
      assert.equal(await heard('into a resolved chat'), false);
    } finally {
      await timed.close();
    }
  });
});
