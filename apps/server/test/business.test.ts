/**
 * A business and its team: roles (owner, admin, agent, analyst) decide what each person may do
 * for the business; the x-mmd-business header names the business and is no oracle; settings are
 * validated; the operator's verified mark and the display name are what people see.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestServer, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

onEachDatabase('business and team', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect });
  });
  after(() => server.close());

  test('the business account is the owner; people it adds act for it with their role', async () => {
    const { business, admin, agent, analyst } = await newBusinessTeam(server);
    const self = await business.client.businessSelf();
    assert.equal(self.role, 'owner');
    assert.equal(self.business.id, business.accountId);
    assert.equal(self.business.display_name, business.handle, 'the handle until a display name is set');
    assert.equal(self.business.verified, false);
    assert.deepEqual(self.settings.quiet_hours, { start: '21:00', end: '08:00' });
    assert.deepEqual(self.settings.frequency_caps.marketing, { max: 2, days: 7 });
    for (const [member, role] of [[admin, 'admin'], [agent, 'agent'], [analyst, 'analyst']] as const) {
      const seen = await member.acting.businessSelf();
      assert.equal(seen.role, role);
      assert.equal(seen.business.id, business.accountId);
    }
    const team = await analyst.acting.businessMembers();
    assert.deepEqual(team.members.map((m) => [m.handle, m.role, m.is_business]), [
      [business.handle, 'owner', true],
      [admin.handle, 'admin', false],
      [agent.handle, 'agent', false],
      [analyst.handle, 'analyst', false],
    ]);
    const mine = await agent.client.myBusinesses();
    assert.deepEqual(mine.businesses.map((b) => [b.business.id, b.role]), [[business.accountId, 'agent']]);
  });

  test('a person without the header is told to name the business; a business they are not in is a 404, as one that does not exist', async () => {
    const { business, agent } = await newBusinessTeam(server);
    await rejectsWith(agent.client.businessSelf(), 'business_required', 400);
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.forBusiness(business.accountId).businessSelf(), 'not_found', 404);
    await rejectsWith(stranger.client.forBusiness('acc_doesnotexist').businessSelf(), 'not_found', 404);
    // Naming a person (not a business) as the business, even oneself, is a 404 too.
    await rejectsWith(agent.client.forBusiness(agent.accountId).businessSelf(), 'not_found', 404);
    // A business acts only as itself.
    const other = await server.signUp(uniqueHandle('biz'), { kind: 'business' });
    await rejectsWith(other.client.forBusiness(business.accountId).businessSelf(), 'not_found', 404);
    // Bots do not act for businesses.
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'bot' });
    await rejectsWith(bot.client.forBusiness(business.accountId).businessSelf(), 'forbidden', 403);
  });

  test('owners and admins change settings and the team; agents and analysts cannot; only an owner makes admins', async () => {
    const { business, admin, agent, analyst } = await newBusinessTeam(server);
    const updated = await admin.acting.updateBusiness({ display_name: 'Flower Shop', about: 'Fresh every morning', settings: { quiet_hours: { start: '22:00', end: '07:30' }, default_time_zone: 'Europe/Paris' } });
    assert.equal(updated.business.display_name, 'Flower Shop');
    assert.deepEqual(updated.settings.quiet_hours, { start: '22:00', end: '07:30' });
    assert.equal(updated.settings.default_time_zone, 'Europe/Paris');
    assert.deepEqual(updated.settings.frequency_caps.marketing, { max: 2, days: 7 }, 'settings not named keep their value');
    await rejectsWith(agent.acting.updateBusiness({ display_name: 'Mine now' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.updateBusiness({ settings: { agents_may_export: true } }), 'forbidden', 403);

    const newcomer = await server.signUp();
    await rejectsWith(agent.acting.putBusinessMember(newcomer.handle, 'agent'), 'forbidden', 403);
    await rejectsWith(analyst.acting.putBusinessMember(newcomer.handle, 'analyst'), 'forbidden', 403);
    // An admin adds agents and analysts, not admins or owners, and cannot demote another admin.
    await admin.acting.putBusinessMember(newcomer.handle, 'agent');
    await rejectsWith(admin.acting.putBusinessMember(newcomer.handle, 'admin'), 'forbidden', 403);
    const otherAdmin = await server.signUp();
    await business.client.putBusinessMember(otherAdmin.handle, 'admin');
    await rejectsWith(admin.acting.putBusinessMember(otherAdmin.handle, 'agent'), 'forbidden', 403);
    await rejectsWith(admin.acting.removeBusinessMember(otherAdmin.handle), 'forbidden', 403);
    await rejectsWith(admin.acting.putBusinessMember(admin.handle, 'owner'), 'forbidden', 403);
    // Agents cannot remove others, but anyone may leave.
    await rejectsWith(agent.acting.removeBusinessMember(newcomer.accountId), 'forbidden', 403);
    await analyst.acting.removeBusinessMember(analyst.handle);
    await rejectsWith(analyst.acting.businessSelf(), 'not_found', 404);
    // The business account cannot be removed.
    await rejectsWith(business.client.removeBusinessMember(business.accountId), 'forbidden', 403);
    // Only people join teams.
    const bot = await server.signUp(uniqueHandle('bot'), { kind: 'bot' });
    await rejectsWith(business.client.putBusinessMember(bot.handle, 'agent'), 'validation_failed', 400);
    await rejectsWith(business.client.putBusinessMember('nobody_by_this_name', 'agent'), 'not_found', 404);
  });

  test('a removed team member loses access at once', async () => {
    const { business, agent } = await newBusinessTeam(server);
    assert.equal((await agent.acting.businessSelf()).role, 'agent');
    await business.client.removeBusinessMember(agent.handle);
    await rejectsWith(agent.acting.businessSelf(), 'not_found', 404);
    assert.deepEqual((await agent.client.myBusinesses()).businesses, []);
  });

  test('settings are validated: time zone, locale, quiet hours, caps', async () => {
    const { business } = await newBusinessTeam(server);
    await rejectsWith(business.client.updateBusiness({ settings: { default_time_zone: 'Mars/Olympus_Mons' } }), 'validation_failed', 400);
    await rejectsWith(business.client.updateBusiness({ settings: { default_locale: 'not a locale!' } }), 'validation_failed', 400);
    await rejectsWith(business.client.updateBusiness({ settings: { quiet_hours: { start: '25:00', end: '08:00' } } }), 'validation_failed', 400);
    await rejectsWith(business.client.updateBusiness({ settings: { quiet_hours: { start: '08:00', end: '08:00' } } }), 'validation_failed', 400);
    await rejectsWith(business.client.updateBusiness({ settings: { frequency_caps: { marketing: { max: -1, days: 7 } } } }), 'validation_failed', 400);
    const cleared = await business.client.updateBusiness({ settings: { quiet_hours: null, frequency_caps: { marketing: { max: 4, days: 30 } } } });
    assert.equal(cleared.settings.quiet_hours, null);
    assert.deepEqual(cleared.settings.frequency_caps, { marketing: { max: 4, days: 30 } });
  });

  test("a business's API key acts within its scopes; it cannot change settings or the team", async () => {
    const { business } = await newBusinessTeam(server);
    const { key } = await business.client.createApiKey({ name: 'crm', scopes: ['business:read'] });
    const viaKey = server.anonymous.as(key);
    assert.equal((await viaKey.businessSelf()).role, 'owner');
    await rejectsWith(viaKey.updateBusiness({ display_name: 'x' }), 'insufficient_scope', 403);
    const person = await server.signUp();
    await rejectsWith(viaKey.putBusinessMember(person.handle, 'agent'), 'insufficient_scope', 403);
    const narrow = server.anonymous.as((await business.client.createApiKey({ name: 'sender', scopes: ['messages:write'] })).key);
    await rejectsWith(narrow.businessSelf(), 'insufficient_scope', 403);
  });

  test("people see a business's display name and the operator's verified mark; only instance admins set it", async () => {
    const { business, admin } = await newBusinessTeam(server);
    await business.client.updateBusiness({ display_name: 'Acme Bank' });
    const person = await server.signUp();
    const seen = await person.client.businessProfile(business.handle);
    assert.deepEqual({ name: seen.display_name, verified: seen.verified }, { name: 'Acme Bank', verified: false });
    await rejectsWith(business.client.setBusinessVerified(business.accountId, true), 'forbidden', 403);
    await rejectsWith(admin.client.setBusinessVerified(business.accountId, true), 'forbidden', 403);
    const operator = await server.signUp();
    await server.db.db.updateTable('accounts').set({ role: 'admin' }).where('id', '=', operator.accountId).execute();
    assert.equal((await operator.client.setBusinessVerified(business.accountId, true)).verified, true);
    assert.equal((await person.client.businessProfile(business.handle)).verified, true);
    // The business cannot set its own mark through its settings.
    await rejectsWith(business.client.request('PATCH', '/v1/business', { verified: false }), 'validation_failed', 400);
    assert.equal((await person.client.businessProfile(business.handle)).verified, true);
    // A person is not a business.
    await rejectsWith(person.client.businessProfile(person.handle), 'not_found', 404);
    await rejectsWith(operator.client.setBusinessVerified(person.accountId, true), 'not_found', 404);
  });
});
