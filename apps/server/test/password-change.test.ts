/**
 * Changing one's password: the current password is required, the new one meets the rule, every
 * other device is signed out, and guessing the current password through a session is slow.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type TestServer, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('password change', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  it('takes the new password, refuses the old one, and signs out the other devices only', async () => {
    const alice = await server.signUp();
    const laptop = server.anonymous.as((await server.anonymous.login({ handle: alice.handle, password: alice.password })).token);
    // Used once before, so its session sits in the server's session cache: it must still end at once.
    assert.equal((await laptop.me()).handle, alice.handle);
    const reply = await alice.client.changePassword({ current_password: alice.password, new_password: 'violet kettle under moonlight' });
    assert.deepEqual(reply, { signed_out_devices: 1 });
    await rejectsWith(laptop.me(), 'unauthenticated', 401);
    assert.equal((await alice.client.me()).handle, alice.handle, 'this device stays signed in');
    await rejectsWith(server.anonymous.login({ handle: alice.handle, password: alice.password }), 'invalid_credentials', 401);
    await server.anonymous.login({ handle: alice.handle, password: 'violet kettle under moonlight' });
  });

  it('refuses a wrong current password (403), a weak new one (400), strangers (401) and API keys (403)', async () => {
    const bob = await server.signUp();
    await rejectsWith(bob.client.changePassword({ current_password: 'not my password', new_password: 'violet kettle under moonlight' }), 'forbidden', 403);
    await rejectsWith(bob.client.changePassword({ current_password: bob.password, new_password: 'Password123!' }), 'weak_password', 400);
    await rejectsWith(bob.client.changePassword({ current_password: bob.password, new_password: bob.handle }), 'weak_password', 400);
    await rejectsWith(bob.client.changePassword({ current_password: bob.password } as never), 'validation_failed', 400);
    await rejectsWith(server.anonymous.changePassword({ current_password: 'x', new_password: 'violet kettle under moonlight' }), 'unauthenticated', 401);
    const biz = await server.signUp(uniqueHandle('biz'), { kind: 'business' });
    const { key } = await biz.client.createApiKey({ name: 'k', scopes: ['messages:read'] });
    await rejectsWith(server.anonymous.as(key).changePassword({ current_password: biz.password, new_password: 'violet kettle under moonlight' }), 'insufficient_scope', 403);
    // The old password still works: nothing changed.
    await server.anonymous.login({ handle: bob.handle, password: bob.password });
  });

  it('allows five tries per quarter hour per account (429 with Retry-After after)', async () => {
    const carol = await server.signUp();
    for (let i = 0; i < 5; i++) await rejectsWith(carol.client.changePassword({ current_password: `guess ${i}`, new_password: 'violet kettle under moonlight' }), 'forbidden', 403);
    await rejectsWith(carol.client.changePassword({ current_password: carol.password, new_password: 'violet kettle under moonlight' }), 'rate_limited', 429);
  });
});
