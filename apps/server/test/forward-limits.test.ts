/**
 * Forward limits, enforced by the server (messaging/forward-limits.ts): one message to at most 5
 * chats a minute, one "forwarded many times" (5 hops or more) to one chat a minute, counted by the
 * message's origin whichever copy is forwarded, refused with 429 `forward_limit` and Retry-After.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MmdError } from '@mmd/sdk';
import { type TestServer, type User, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('forward limits', (dialect) => {
  let server: TestServer;
  let now = Date.UTC(2026, 11, 5, 12);
  before(async () => {
    server = await startTestServer({ dialect, clock: () => now });
  });
  after(() => server.close());

  /** `person` and `n` chats of theirs with new people. */
  async function chatsOf(person: User, n: number) {
    const chats = [];
    for (let i = 0; i < n; i += 1) chats.push(await person.client.openDirect((await server.signUp()).handle));
    return chats;
  }

  test('one message goes to at most 5 chats a minute, whichever copy is forwarded; a 6th is refused until a minute has passed', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const withAlice = await bob.client.openDirect(alice.handle);
    const original = await alice.client.send(withAlice.id, { text: 'pass it on' });
    const chats = await chatsOf(bob, 7);
    const copies = [];
    for (const chat of chats.slice(0, 5)) {
      copies.push(await bob.client.send(chat.id, { forward_of: original.id }));
      now += 1000;
    }
    // A 6th chat: refused, with when to retry (the first forward leaves the window 55 s from now).
    const refused = await bob.client.send(chats[5]!.id, { forward_of: original.id }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof MmdError);
    assert.equal(refused.code, 'forward_limit');
    assert.equal(refused.status, 429);
    assert.match(refused.message, /at most 5 chats a minute; retry in 55 s/);
    // Forwarding a forwarded copy is the same message: the same count.
    await rejectsWith(bob.client.send(chats[6]!.id, { forward_of: copies[0]!.id }), 'forward_limit', 429);
    // Another person's forwards of the same message are theirs to count: Alice may still forward it.
    const [aliceChat] = await chatsOf(alice, 1);
    await alice.client.send(aliceChat!.id, { forward_of: original.id });
    // A minute after the first forward, one slot is free again; the one after it is not yet.
    now += 55_000;
    await bob.client.send(chats[5]!.id, { forward_of: original.id });
    await rejectsWith(bob.client.send(chats[6]!.id, { forward_of: original.id }), 'forward_limit', 429);
    // Again into a chat already counted: allowed (it reaches nobody new).
    const again = await bob.client.send(chats[1]!.id, { forward_of: original.id });
    assert.equal(again.forward?.origin_message_id, original.id);
    // Another message is not limited by this one.
    const other = await alice.client.send(withAlice.id, { text: 'something else' });
    await bob.client.send(chats[6]!.id, { forward_of: other.id });
  });

  test('a message forwarded many times (5 hops) is labelled so and goes to one chat a minute', async () => {
    // A chain of six people: each forwards the last copy on to the next.
    const people = [];
    for (let i = 0; i < 7; i += 1) people.push(await server.signUp());
    const first = await people[0]!.client.openDirect(people[1]!.handle);
    let copy = await people[0]!.client.send(first.id, { text: 'chain letter' });
    assert.equal(copy.forward, null);
    for (let i = 1; i <= 5; i += 1) {
      const chat = await people[i]!.client.openDirect(people[i + 1]!.handle);
      copy = await people[i]!.client.send(chat.id, { forward_of: copy.id });
      assert.equal(copy.forward?.hops, i);
      assert.equal(copy.forward?.label, i >= 5 ? 'forwarded_many_times' : 'forwarded');
    }
    // people[6] got a copy with 5 hops: "forwarded many times". One chat a minute.
    const last = people[6]!;
    const chats = await chatsOf(last, 2);
    const onward = await last.client.send(chats[0]!.id, { forward_of: copy.id });
    assert.equal(onward.forward?.hops, 6);
    assert.equal(onward.forward?.label, 'forwarded_many_times');
    const refused = await last.client.send(chats[1]!.id, { forward_of: copy.id }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof MmdError && refused.code === 'forward_limit', String(refused));
    assert.match(refused.message, /forwarded many times: it can go to 1 chat a minute/);
    // History shows the label too, to everyone in the chat.
    const seen = (await last.client.history(chats[0]!.id)).messages.at(-1);
    assert.equal(seen?.forward?.label, 'forwarded_many_times');
    now += 60_001;
    await last.client.send(chats[1]!.id, { forward_of: copy.id });
  });
});
