import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_MESSAGE_TEXT } from '@mmd/contracts';
import { type TestServer, onEachDatabase, rejectsWith, secondDevice, startTestServer } from './harness.ts';

onEachDatabase('drafts', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test('a draft is kept per chat, reaches my other devices, and goes when emptied or when I leave', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const phone = await secondDevice(server, alice);
    const chat = await alice.client.openDirect(bob.handle);
    const group = await alice.client.createConversation({ kind: 'group', title: 'G', members: [bob.handle] });
    const cursor = await phone.updatesState();
    const bobCursor = await bob.client.updatesState();
    await alice.client.saveDraft(chat.id, 'half a thou');
    await alice.client.saveDraft(chat.id, 'half a thought');
    await alice.client.saveDraft(chat.id, 'half a thought'); // unchanged: no event
    await alice.client.saveDraft(group.id, 'for the group');
    assert.deepEqual((await phone.drafts()).map((d) => [d.conversation_id, d.text]).sort(), [[chat.id, 'half a thought'], [group.id, 'for the group']].sort());
    const events = (await phone.updates({ cursor })).events.filter((e) => e.type === 'draft.updated');
    assert.deepEqual(events.map((e) => e.type === 'draft.updated' && e.data.text), ['half a thou', 'half a thought', 'for the group']);
    assert.equal(events[0]!.conversation_id, null);
    assert.equal((await bob.client.updates({ cursor: bobCursor })).events.some((e) => e.type === 'draft.updated'), false);
    assert.deepEqual(await bob.client.drafts(), []);
    await alice.client.saveDraft(chat.id, '');
    await alice.client.removeMember(group.id, alice.accountId);
    assert.deepEqual(await alice.client.drafts(), []);
  });

  test('a key that follows events but may not read messages gets draft events without their text', async () => {
    const alice = await server.signUp(undefined, { kind: 'business' });
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const { key } = await alice.client.createApiKey({ name: 'events only', scopes: ['updates:read'] });
    const blind = server.anonymous.as(key);
    const cursor = await blind.updatesState();
    await alice.client.saveDraft(chat.id, 'my secret plan');
    const events = (await blind.updates({ cursor })).events.filter((e) => e.type === 'draft.updated');
    assert.equal(events.length, 1);
    assert.ok(!JSON.stringify(events).includes('secret'), 'no draft text');
    assert.equal((events[0]!.data as { content_withheld?: boolean }).content_withheld, true);
  });

  test('denials: no token, not a member, unknown chat, too long, bad body', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const stranger = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    await rejectsWith(server.anonymous.saveDraft(chat.id, 'x'), 'unauthenticated', 401);
    await rejectsWith(server.anonymous.drafts(), 'unauthenticated', 401);
    await rejectsWith(stranger.client.saveDraft(chat.id, 'x'), 'not_a_member', 403);
    await rejectsWith(alice.client.saveDraft('cnv_unknown', 'x'), 'not_found', 404);
    await rejectsWith(alice.client.saveDraft(chat.id, 'x'.repeat(MAX_MESSAGE_TEXT + 1)), 'validation_failed', 400);
    await rejectsWith(alice.client.saveDraft(chat.id, { a: 1 } as unknown as string), 'validation_failed', 400);
  });
});
