/**
 * Campaigns: creation refuses what cannot work (past schedule, throttle 0, a cron that never
 * fires, an empty audience, unapproved templates, unknown variables); sending goes into each
 * contact's chat with the business, paced by the throttle, through the consent gate, exactly once;
 * A/B variants split by a stable hash; local-time and recurring schedules; pause, resume, cancel;
 * the funnel follows receipts and replies; the business's own stream gets no event per recipient.
 *
 * The server's clock is real time plus an offset the tests move forward (schedules, quiet hours
 * and the throttle all read it); the throttle's test stops it and moves it in steps.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CampaignDetail } from '@mmd/contracts';
import { DateTime } from 'luxon';
import { variantOf } from '../src/campaigns/variants.ts';
import { campaignWorld } from './campaign-world.ts';
import { type TestServer, type User, eventually, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

onEachDatabase('campaigns', (dialect) => {
  let server: TestServer;
  let offset = 0;
  let frozenAt: number | null = null;
  const clock = () => frozenAt ?? Date.now() + offset;
  const world = campaignWorld();
  before(async () => {
    server = await startTestServer({ dialect, clock, campaignPorts: world.ports, config: { campaignClaimMs: 5000 } });
  });
  after(() => server.close());

  async function customers(businessId: string, n: number, extra: Parameters<typeof world.addContact>[2] = {}) {
    const out: (User & { contactId: string })[] = [];
    for (let i = 0; i < n; i += 1) {
      const person = await server.signUp();
      out.push({ ...person, contactId: world.addContact(businessId, person.accountId, extra).id });
    }
    return out;
  }

  async function settled(client: User['client'], id: string, what: (c: CampaignDetail) => boolean, ms = 20_000) {
    return eventually(`campaign ${id} to settle`, async () => {
      const c = await client.campaign(id);
      return what(c) ? c : null;
    }, ms);
  }

  test('creation refuses a throttle of 0, a past schedule, a cron that never fires, an empty audience, unapproved templates and unknown variables', async () => {
    const { business } = await newBusinessTeam(server);
    const [alice] = await customers(business.accountId, 1);
    const ok = world.addTemplate(business.accountId, 'Hello {{name}}');
    const base = { name: 'Winter sale', audience: { contact_ids: [alice!.contactId] }, variants: [{ template_version_id: ok }] };
    const c = business.client;

    await rejectsWith(c.createCampaign({ ...base, throttle_per_second: 0 }), 'validation_failed', 400);
    await rejectsWith(c.createCampaign({ ...base, schedule: { kind: 'at', at: new Date(clock() - 60_000).toISOString() } }), 'schedule_in_past', 400);
    // 09:00 today has passed in UTC+14 by the time it is 19:00 UTC the day before: a local time must be ahead everywhere.
    const today = DateTime.fromMillis(clock(), { zone: 'UTC' }).toFormat("yyyy-MM-dd'T'HH:mm");
    await rejectsWith(c.createCampaign({ ...base, schedule: { kind: 'local', local_time: today } }), 'schedule_in_past', 400);
    await rejectsWith(c.createCampaign({ ...base, schedule: { kind: 'recurring', cron: '0 0 30 2 *' } }), 'schedule_never_fires', 400);
    await rejectsWith(c.createCampaign({ ...base, schedule: { kind: 'recurring', cron: 'every day please' } }), 'validation_failed', 400);
    await rejectsWith(c.createCampaign({ ...base, schedule: { kind: 'recurring', cron: '0 9 * * *', time_zone: 'Mars/Olympus' } }), 'validation_failed', 400);
    await rejectsWith(c.createCampaign({ ...base, audience: { segment_id: 'nobody-has-this-tag' } }), 'audience_empty', 400);
    await rejectsWith(c.createCampaign({ ...base, audience: { contact_ids: ['ct_unknown'] } }), 'validation_failed', 400);
    await rejectsWith(c.createCampaign({ ...base, variants: [{ template_version_id: world.addTemplate(business.accountId, 'Draft', false) }] }), 'template_not_approved');
    await rejectsWith(c.createCampaign({ ...base, variants: [{ template_version_id: world.addTemplate(business.accountId, 'Code {{coupon}}') }] }), 'unknown_variables', 400);
    // Given as a campaign variable, the same template is fine.
    const fine = await c.createCampaign({ ...base, variants: [{ template_version_id: world.addTemplate(business.accountId, 'Code {{coupon}}') }], variables: { coupon: 'XMAS' } });
    assert.equal(fine.status, 'draft');
    assert.equal(fine.purpose, 'marketing', 'marketing by default: the consent gate applies');
    assert.equal(fine.throttle_per_second, 50);
  });

  test('a campaign sent now reaches every consenting contact once, in their chat with the business, and skips the others with a reason', async () => {
    const { business } = await newBusinessTeam(server);
    const yes = await customers(business.accountId, 3);
    const [noConsent] = await customers(business.accountId, 1, { consent: 'opted_out' });
    const [suppressed] = await customers(business.accountId, 1, { suppressed: true });
    const version = world.addTemplate(business.accountId, 'Hi {{name}}, 20% off today');
    const all = [...yes, noConsent!, suppressed!];
    const stateBefore = await business.client.updatesState();
    const created = await business.client.createCampaign({ name: 'Now', audience: { contact_ids: all.map((p) => p.contactId) }, variants: [{ template_version_id: version }], throttle_per_second: 100 });
    const started = await business.client.startCampaign(created.id);
    assert.equal(started.status, 'running');
    const done = await settled(business.client, created.id, (c) => c.status === 'completed');
    assert.equal(done.funnel.planned, 5);
    assert.equal(done.funnel.sent, 3);
    assert.equal(done.funnel.skipped, 2);

    const skipped = await business.client.campaignRecipients(created.id, { status: 'skipped' });
    assert.deepEqual(skipped.recipients.map((r) => [r.contact_id, r.reason]).sort(), [[noConsent!.contactId, 'no_consent'], [suppressed!.contactId, 'suppressed']].sort());
    for (const person of yes) {
      const chat = await person.client.openDirect(business.handle);
      const history = await person.client.history(chat.id);
      const texts = history.messages.map((m) => m.text);
      const name = world.contacts.get(person.contactId)!.name;
      assert.deepEqual(texts, [`Hi ${name}, 20% off today`], 'exactly one message, personalised');
      assert.equal(history.messages[0]!.sender_id, business.accountId);
    }
    for (const person of [noConsent!, suppressed!]) {
      const chats = await person.client.conversations();
      assert.equal(chats.filter((c) => c.kind === 'direct').length, 0, 'nothing reached a contact without consent');
    }
    // The business's own stream: no message.created per recipient (they are addressed to each contact alone).
    const updates = await business.client.updates({ cursor: stateBefore, limit: 200 });
    assert.equal(updates.events.filter((e) => e.type === 'message.created').length, 0, 'no live event per recipient for the business');
    const theirs = await yes[0]!.client.updates({ limit: 200 });
    assert.equal(theirs.events.filter((e) => e.type === 'message.created').length, 1, 'the contact gets theirs live');
    assert.equal(theirs.events.filter((e) => e.type === 'conversation.created').length, 1, 'and hears of the chat');
    // They read it: their own devices hear the receipt, the funnel counts it, and the business's
    // stream gets neither the chats' creation nor one receipt per recipient.
    for (const person of yes) {
      const chat = await person.client.openDirect(business.handle);
      await person.client.markRead(chat.id, 1);
      const own = await person.client.updates({ limit: 200 });
      assert.ok(
        own.events.some((e) => e.type === 'receipt.updated' && (e.data as { read_seq: number }).read_seq === 1),
        'the reader’s devices hear their read receipt',
      );
    }
    const read = await settled(business.client, created.id, (c) => c.funnel.read === 3);
    assert.equal(read.funnel.read, 3, 'the funnel counts every read');
    const after = await business.client.updates({ cursor: stateBefore, limit: 200 });
    const flood = after.events.filter((e) => e.type === 'conversation.created' || e.type === 'receipt.updated' || e.type === 'message.created');
    assert.deepEqual(
      flood.map((e) => e.type),
      [],
      'nothing per recipient on the business’s own stream',
    );
    // An agent's (not automated) reply is another matter: its read receipt reaches the business.
    const chat = await yes[0]!.client.openDirect(business.handle);
    const reply = await business.client.send(chat.id, { text: 'Any questions? Ask me.' });
    await yes[0]!.client.markRead(chat.id, reply.seq);
    const later = await business.client.updates({ cursor: stateBefore, limit: 200 });
    assert.ok(
      later.events.some((e) => e.type === 'receipt.updated' && (e.data as { read_seq: number }).read_seq === reply.seq),
      'the business hears that its own reply was read',
    );
  });

  test('one batch: blocks either way fail that recipient alone and open no chat; an old chat gets the next message; buttons and plain text both go', async () => {
    const { business } = await newBusinessTeam(server);
    const [plain, blocksBusiness, blockedByBusiness, chatted, blocksLater, withButtons] = await customers(business.accountId, 6);
    await blocksBusiness!.client.block(business.handle);
    await business.client.block(blockedByBusiness!.handle);
    // Someone who already talked with the business, and someone who did and then blocked it.
    const old = await chatted!.client.openDirect(business.handle);
    await chatted!.client.send(old.id, { text: 'Do you ship to Lyon?' });
    await business.client.send(old.id, { text: 'We do.' });
    const oldBlocked = await blocksLater!.client.openDirect(business.handle);
    await blocksLater!.client.send(oldBlocked.id, { text: 'hello' });
    await blocksLater!.client.block(business.handle);
    const text = world.addTemplate(business.accountId, 'Sale {{name}}');
    const buttons = world.addTemplate(business.accountId, 'Coming? [[buttons]]');
    const everyone = [plain!, blocksBusiness!, blockedByBusiness!, chatted!, blocksLater!];
    // Two campaigns at once so both kinds of message share the sender's batches.
    const a = await business.client.createCampaign({ name: 'Plain', audience: { contact_ids: everyone.map((p) => p.contactId) }, variants: [{ template_version_id: text }], throttle_per_second: 1000 });
    const b = await business.client.createCampaign({ name: 'Buttons', audience: { contact_ids: [withButtons!.contactId, plain!.contactId] }, variants: [{ template_version_id: buttons }], throttle_per_second: 1000 });
    await business.client.startCampaign(a.id);
    await business.client.startCampaign(b.id);
    const doneA = await settled(business.client, a.id, (c) => c.status === 'completed');
    const doneB = await settled(business.client, b.id, (c) => c.status === 'completed');
    assert.equal(doneA.funnel.sent, 2);
    assert.equal(doneA.funnel.failed, 3);
    assert.equal(doneB.funnel.sent, 2);
    const failed = await business.client.campaignRecipients(a.id, { status: 'failed' });
    assert.deepEqual(
      Object.fromEntries(failed.recipients.map((r) => [r.contact_id, r.reason])),
      {
        [blocksBusiness!.contactId]: 'forbidden: this account does not accept messages from you',
        [blockedByBusiness!.contactId]: 'forbidden: you blocked this account; unblock it to write',
        [blocksLater!.contactId]: 'forbidden: this account does not accept messages from you',
      },
    );
    for (const p of [blocksBusiness!, blockedByBusiness!]) {
      assert.equal((await p.client.conversations()).filter((c) => c.kind === 'direct').length, 0, 'no chat opened for a blocked pair');
    }
    assert.deepEqual(
      (await blocksLater!.client.history(oldBlocked.id)).messages.map((m) => m.text),
      ['hello'],
      'nothing new in a chat whose person blocked the business',
    );
    // The old chat: the campaign's message comes next, and the business has read its own.
    const history = await chatted!.client.history(old.id);
    assert.deepEqual(
      history.messages.map((m) => [m.seq, m.text]),
      [
        [1, 'Do you ship to Lyon?'],
        [2, 'We do.'],
        [3, `Sale ${world.contacts.get(chatted!.contactId)!.name}`],
      ],
    );
    const theirView = (await business.client.conversations()).find((c) => c.id === old.id);
    assert.equal(theirView?.unread_count ?? 0, 0, 'the business’s own message is not unread for it');
    // Plain text and buttons, one of each, in the same chat: two messages, seqs 1 and 2.
    const chat = await plain!.client.openDirect(business.handle);
    const got = (await plain!.client.history(chat.id)).messages;
    assert.deepEqual(
      got.map((m) => m.seq),
      [1, 2],
    );
    assert.deepEqual(got.map((m) => m.text).sort(), ['Coming?', `Sale ${world.contacts.get(plain!.contactId)!.name}`].sort());
    const withQuickReplies = got.find((m) => m.text === 'Coming?') as unknown as { quick_replies?: { rows: { text: string }[][] } };
    assert.deepEqual(withQuickReplies.quick_replies?.rows.flat().map((b) => b.text), ['Yes', 'No']);
    const own = (await withButtons!.client.history((await withButtons!.client.openDirect(business.handle)).id)).messages;
    assert.deepEqual(
      own.map((m) => m.text),
      ['Coming?'],
    );
  });

  test('A/B variants split the audience by a stable hash of campaign and contact', async () => {
    const { business } = await newBusinessTeam(server);
    // Contacts of accounts that do not exist: planning is what is measured (sending skips them).
    const ids = Array.from({ length: 400 }, (_, i) => world.addContact(business.accountId, `acc_missing${i}`, { tags: ['ab'] }).id);
    const a = world.addTemplate(business.accountId, 'A {{name}}');
    const b = world.addTemplate(business.accountId, 'B {{name}}');
    const created = await business.client.createCampaign({ name: 'AB', audience: { segment_id: 'ab' }, variants: [{ template_version_id: a, weight: 50 }, { template_version_id: b, weight: 50 }], throttle_per_second: 1000 });
    await business.client.startCampaign(created.id);
    const done = await settled(business.client, created.id, (c) => c.status === 'completed', 60_000);
    const [va, vb] = done.variant_funnels;
    assert.equal(va!.funnel.planned + vb!.funnel.planned, 400);
    assert.ok(va!.funnel.planned > 150 && vb!.funnel.planned > 150, `a 50/50 split (${va!.funnel.planned}/${vb!.funnel.planned})`);
    assert.equal(done.funnel.skipped, 400);
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await business.client.campaignRecipients(created.id, { cursor, limit: 150 });
      for (const r of page.recipients) {
        assert.equal(r.variant, ['A', 'B'][variantOf(created.id, r.contact_id, [{ weight: 50 }, { weight: 50 }])], 'the variant is the hash’s');
        assert.equal(r.reason, 'not_a_contact');
      }
      seen += page.recipients.length;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    assert.equal(seen, 400);
    assert.deepEqual(new Set(ids).size, 400);
    const csv = await business.client.exportCampaign(created.id);
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'run_id,contact_id,variant,status,reason,message_id,send_after,updated_at');
    assert.equal(lines.length, 401);
  });

  test('the throttle paces sends: a full bucket at once, then only the tokens the clock grants', async () => {
    const { business } = await newBusinessTeam(server);
    const people = await customers(business.accountId, 12);
    const version = world.addTemplate(business.accountId, 'Paced {{name}}');
    const created = await business.client.createCampaign({ name: 'Paced', audience: { contact_ids: people.map((p) => p.contactId) }, variants: [{ template_version_id: version }], throttle_per_second: 4 });
    // The clock stands still and moves only in steps the test takes, so every token the sender
    // can take is one this test granted, whatever the machine's load.
    frozenAt = clock();
    try {
      const steps: { advanceMs: number; sentBy: number }[] = [
        { advanceMs: 0, sentBy: 4 }, // the full bucket
        { advanceMs: 500, sentBy: 6 }, // half a second: 2 tokens
        { advanceMs: 1000, sentBy: 10 }, // a second: 4 tokens
        { advanceMs: 500, sentBy: 12 },
      ];
      const stampedAt = new Map<number, number>();
      await business.client.startCampaign(created.id);
      for (const step of steps) {
        frozenAt += step.advanceMs;
        await eventually(`${step.sentBy} sent`, async () => (await business.client.campaign(created.id)).funnel.sent >= step.sentBy, 30_000);
        // Longer than the job queue's poll: a sender that ignored the bucket would have sent more.
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal((await business.client.campaign(created.id)).funnel.sent, step.sentBy, `no more than the tokens granted by ${frozenAt}`);
        stampedAt.set(frozenAt, step.sentBy);
      }
      const times: number[] = [];
      for (const p of people) {
        const chat = await p.client.openDirect(business.handle);
        const [m] = (await p.client.history(chat.id)).messages;
        times.push(m!.created_at);
      }
      // Each message carries the clock of the step that granted its token.
      let before = 0;
      for (const [at, sentBy] of stampedAt) {
        assert.equal(times.filter((t) => t === at).length, sentBy - before, `${sentBy - before} messages stamped at step ${at}`);
        before = sentBy;
      }
    } finally {
      // Real time ran on while the clock stood still; it never goes back.
      offset = Math.max(offset, (frozenAt ?? 0) - Date.now());
      frozenAt = null;
    }
  });

  test('quiet hours hold a message until they end, then it is sent; a send window that ends first skips it', async () => {
    const { business } = await newBusinessTeam(server);
    const [night, day, late] = await customers(business.accountId, 3);
    const until = clock() + 3 * 60 * 60 * 1000;
    world.quietUntil.set(night!.accountId, until);
    world.quietUntil.set(late!.accountId, until);
    const version = world.addTemplate(business.accountId, 'Good morning {{name}}');
    const created = await business.client.createCampaign({ name: 'Quiet', audience: { contact_ids: [night!.contactId, day!.contactId] }, variants: [{ template_version_id: version }] });
    await business.client.startCampaign(created.id);
    await settled(business.client, created.id, (c) => c.funnel.sent === 1);
    const waiting = await business.client.campaignRecipients(created.id, { status: 'queued' });
    assert.deepEqual(waiting.recipients.map((r) => [r.contact_id, r.reason, r.send_after]), [[night!.contactId, 'quiet_hours', until]], 'waiting, not dropped');
    assert.equal((await business.client.campaign(created.id)).status, 'running');

    const windowed = await business.client.createCampaign({
      name: 'Windowed',
      audience: { contact_ids: [late!.contactId] },
      variants: [{ template_version_id: version }],
      send_until: new Date(clock() + 60 * 60 * 1000).toISOString(),
    });
    await business.client.startCampaign(windowed.id);
    const closed = await settled(business.client, windowed.id, (c) => c.status === 'completed');
    assert.equal(closed.funnel.skipped, 1);
    assert.equal((await business.client.campaignRecipients(windowed.id)).recipients[0]!.reason, 'quiet_hours_passed_window');

    offset += 3 * 60 * 60 * 1000 + 1000;
    const done = await settled(business.client, created.id, (c) => c.status === 'completed');
    assert.equal(done.funnel.sent, 2);
    const chat = await night!.client.openDirect(business.handle);
    assert.equal((await night!.client.history(chat.id)).messages.length, 1);
  });

  test('a local-time schedule gives each recipient the hour in their own time zone', async () => {
    const { business } = await newBusinessTeam(server);
    const [paris] = await customers(business.accountId, 1, { time_zone: 'Europe/Paris' });
    const [york] = await customers(business.accountId, 1, { time_zone: 'America/New_York' });
    const [plain] = await customers(business.accountId, 1);
    const version = world.addTemplate(business.accountId, 'Merry Christmas {{name}}');
    const day = DateTime.fromMillis(clock(), { zone: 'UTC' }).plus({ days: 2 }).toFormat('yyyy-MM-dd');
    const localTime = `${day}T09:00`;
    const created = await business.client.createCampaign({ name: 'Local', audience: { contact_ids: [paris!.contactId, york!.contactId, plain!.contactId] }, variants: [{ template_version_id: version }], schedule: { kind: 'local', local_time: localTime } });
    const started = await business.client.startCampaign(created.id);
    assert.equal(started.status, 'scheduled');
    const earliest = DateTime.fromISO(localTime, { zone: 'Pacific/Kiritimati' }).toMillis();
    assert.equal(started.runs[0]!.scheduled_at, earliest, 'planning starts when the earliest zone reaches the hour');
    offset += earliest - clock() + 1000;
    await settled(business.client, created.id, (c) => c.runs[0]!.status === 'sending' || c.runs[0]!.status === 'done');
    const at = new Map((await business.client.campaignRecipients(created.id)).recipients.map((r) => [r.contact_id, r.send_after]));
    assert.equal(at.get(paris!.contactId), DateTime.fromISO(localTime, { zone: 'Europe/Paris' }).toMillis());
    assert.equal(at.get(york!.contactId), DateTime.fromISO(localTime, { zone: 'America/New_York' }).toMillis());
    assert.equal(at.get(plain!.contactId), DateTime.fromISO(localTime, { zone: 'UTC' }).toMillis(), "the business's zone for a contact without one");
    // Paris's 09:00 comes: only Paris has it.
    offset += DateTime.fromISO(localTime, { zone: 'Europe/Paris' }).toMillis() - clock() + 1000;
    await settled(business.client, created.id, (c) => c.funnel.sent === 1);
    assert.equal((await business.client.campaignRecipients(created.id, { status: 'sent' })).recipients[0]!.contact_id, paris!.contactId);
    offset += DateTime.fromISO(localTime, { zone: 'America/New_York' }).toMillis() - clock() + 1000;
    const done = await settled(business.client, created.id, (c) => c.status === 'completed');
    assert.equal(done.funnel.sent, 3);
  });

  test('a recurring campaign sends each occurrence as its own run', async () => {
    const { business } = await newBusinessTeam(server);
    const [fan] = await customers(business.accountId, 1);
    const version = world.addTemplate(business.accountId, 'Weekly news for {{name}}');
    const created = await business.client.createCampaign({ name: 'Weekly', audience: { contact_ids: [fan!.contactId] }, variants: [{ template_version_id: version }], schedule: { kind: 'recurring', cron: '0 9 * * 1', time_zone: 'Europe/Paris' } });
    const started = await business.client.startCampaign(created.id);
    assert.equal(started.status, 'scheduled');
    const first = started.runs[0]!.scheduled_at;
    assert.equal(DateTime.fromMillis(first, { zone: 'Europe/Paris' }).toFormat('ccc HH:mm'), 'Mon 09:00');
    assert.equal(started.next_run_at, first);
    offset += first - clock() + 1000;
    const one = await settled(business.client, created.id, (c) => c.runs.length === 2 && c.runs[0]!.status === 'done');
    assert.equal(one.runs[1]!.scheduled_at - first, 7 * 24 * 60 * 60 * 1000, 'the next occurrence, a week later');
    assert.equal(one.status, 'scheduled');
    offset += one.runs[1]!.scheduled_at - clock() + 1000;
    const two = await settled(business.client, created.id, (c) => c.runs.length === 3 && c.runs[1]!.status === 'done');
    assert.equal(two.funnel.sent, 2);
    const chat = await fan!.client.openDirect(business.handle);
    assert.equal((await fan!.client.history(chat.id)).messages.length, 2, 'one message per occurrence');
    const cancelled = await business.client.cancelCampaign(created.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.runs[2]!.status, 'cancelled');
  });

  /** True once no sender lane of the campaign's runs is queued or running (they stopped on their own). */
  async function lanesStopped(campaignId: string) {
    const runs = await server.db.db.selectFrom('campaign_runs').select('id').where('campaign_id', '=', campaignId).execute();
    const keys = runs.map((r) => `campaign-send:${Number(r.id)}:%`);
    for (const key of keys) {
      const live = await server.db.db.selectFrom('jobs').select('id').where('dedupe_key', 'like', key).where('status', 'in', ['queued', 'running']).execute();
      if (live.length > 0) return false;
    }
    return true;
  }

  test('pause stops sending, resume carries on, cancel stops for good', async () => {
    const { business } = await newBusinessTeam(server);
    const people = await customers(business.accountId, 6);
    const version = world.addTemplate(business.accountId, 'Step {{name}}');
    const created = await business.client.createCampaign({ name: 'Stepwise', audience: { contact_ids: people.map((p) => p.contactId) }, variants: [{ template_version_id: version }], throttle_per_second: 1 });
    await business.client.startCampaign(created.id);
    await settled(business.client, created.id, (c) => c.funnel.sent >= 1);
    const paused = await business.client.pauseCampaign(created.id);
    assert.equal(paused.status, 'paused');
    await rejectsWith(business.client.pauseCampaign(created.id), 'campaign_state', 409);
    // The lanes see the pause at their next batch and stop without a successor.
    await eventually('the sender lanes stop', () => lanesStopped(created.id), 20_000);
    const atPause = (await business.client.campaign(created.id)).funnel.sent;
    assert.ok(atPause < 6, 'paused before the end');
    offset += 60_000;
    // A minute of clock at 1/s: a running campaign would have sent everything; a paused one sends nothing.
    assert.equal((await business.client.campaign(created.id)).funnel.sent, atPause);
    assert.ok(await lanesStopped(created.id), 'and nothing is waiting to send');

    const resumed = await business.client.resumeCampaign(created.id);
    assert.equal(resumed.status, 'running');
    await eventually('sending resumed', async () => {
      offset += 500;
      return (await business.client.campaign(created.id)).funnel.sent > atPause;
    }, 20_000);
    const cancelled = await business.client.cancelCampaign(created.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.runs[0]!.status, 'cancelled');
    await eventually('the sender lanes stop', () => lanesStopped(created.id), 20_000);
    const sentAtCancel = (await business.client.campaign(created.id)).funnel.sent;
    offset += 60_000;
    await rejectsWith(business.client.resumeCampaign(created.id), 'campaign_state', 409);
    await rejectsWith(business.client.startCampaign(created.id), 'campaign_state', 409);
    const after = await business.client.campaign(created.id);
    assert.equal(after.funnel.sent, sentAtCancel, 'nothing more after cancel');
    assert.ok(after.funnel.sent < 6);
    assert.ok(await lanesStopped(created.id));
  });

  test('the funnel moves on delivery and read receipts and replies; resend to unread is a follow-up run', async () => {
    const { business } = await newBusinessTeam(server);
    const [reader, replier, silent] = await customers(business.accountId, 3);
    const version = world.addTemplate(business.accountId, 'News for {{name}}');
    const created = await business.client.createCampaign({ name: 'Funnel', audience: { contact_ids: [reader!.contactId, replier!.contactId, silent!.contactId] }, variants: [{ template_version_id: version }] });
    await business.client.startCampaign(created.id);
    await settled(business.client, created.id, (c) => c.status === 'completed');
    const readerChat = await reader!.client.openDirect(business.handle);
    const [m] = (await reader!.client.history(readerChat.id)).messages;
    await reader!.client.markRead(readerChat.id, m!.seq);
    const replierChat = await replier!.client.openDirect(business.handle);
    await replier!.client.send(replierChat.id, { text: 'Tell me more' });
    const c = await settled(business.client, created.id, (x) => x.funnel.read === 2 && x.funnel.replied === 1);
    assert.equal(c.funnel.sent, 3);
    assert.equal(c.funnel.delivered, 2, 'read implies delivered');
    assert.equal(c.variant_funnels[0]!.funnel.read, 2);
    const statuses = new Map((await business.client.campaignRecipients(created.id)).recipients.map((r) => [r.contact_id, r.status]));
    assert.equal(statuses.get(reader!.contactId), 'read');
    assert.equal(statuses.get(replier!.contactId), 'replied');
    assert.equal(statuses.get(silent!.contactId), 'sent');

    const resent = await business.client.resendCampaign(created.id, { to: 'unread' });
    assert.equal(resent.runs.length, 2);
    assert.equal(resent.runs[1]!.kind, 'resend');
    await settled(business.client, created.id, (x) => x.status === 'completed' && x.runs[1]!.status === 'done');
    const second = (await business.client.campaignRecipients(created.id)).recipients.filter((r) => r.run_id === resent.runs[1]!.id);
    assert.deepEqual(second.map((r) => [r.contact_id, r.status]), [[silent!.contactId, 'sent']], 'only the unread one, again');
    const silentChat = await silent!.client.openDirect(business.handle);
    assert.equal((await silent!.client.history(silentChat.id)).messages.length, 2);
  });

  test('a contact with read receipts off counts as delivered, never read', async () => {
    const { business } = await newBusinessTeam(server);
    const [contact] = await customers(business.accountId, 1);
    await contact!.client.setPrivacy({ read_receipts: false });
    const version = world.addTemplate(business.accountId, 'Private {{name}}');
    const created = await business.client.createCampaign({ name: 'Private reads', audience: { contact_ids: [contact!.contactId] }, variants: [{ template_version_id: version }] });
    await business.client.startCampaign(created.id);
    await settled(business.client, created.id, (c) => c.status === 'completed');
    const chat = await contact!.client.openDirect(business.handle);
    const [m] = (await contact!.client.history(chat.id)).messages;
    await contact!.client.markRead(chat.id, m!.seq);
    // The receipts tap runs in the receipt's own transaction: once markRead answered, the funnel has moved.
    const c = await settled(business.client, created.id, (x) => x.funnel.delivered === 1);
    assert.equal(c.funnel.read, 0);
    const [recipient] = (await business.client.campaignRecipients(created.id)).recipients;
    assert.equal(recipient?.status, 'delivered');
  });

  test('a test send reaches team members, marked as a test, one per variant', async () => {
    const { business, admin, agent } = await newBusinessTeam(server);
    const [someone] = await customers(business.accountId, 1);
    const a = world.addTemplate(business.accountId, 'Offer A for {{name}}');
    const b = world.addTemplate(business.accountId, 'Offer B for {{name}}');
    const created = await admin.acting.createCampaign({ name: 'Tested', audience: { contact_ids: [someone!.contactId] }, variants: [{ template_version_id: a }, { template_version_id: b }] });
    const reply = await admin.acting.testCampaign(created.id, { handles: [agent.handle] });
    assert.deepEqual(reply.sent.map((s) => [s.handle, s.variant]), [[agent.handle, 'A'], [agent.handle, 'B']]);
    const chat = await agent.client.openDirect(business.handle);
    assert.deepEqual((await agent.client.history(chat.id)).messages.map((m) => m.text), ['[Test · A] Offer A for Sample', '[Test · B] Offer B for Sample']);
    await rejectsWith(admin.acting.testCampaign(created.id, { handles: [someone!.handle] }), 'validation_failed', 400);
    assert.equal((await admin.acting.campaign(created.id)).status, 'draft', 'a test send does not start the campaign');
  });

  test('denials: analysts read but cannot create or start, agents cannot create, another business sees nothing, a read-only key cannot write', async () => {
    const { business, admin, agent, analyst } = await newBusinessTeam(server);
    const [someone] = await customers(business.accountId, 1);
    const version = world.addTemplate(business.accountId, 'Hi {{name}}');
    const body = { name: 'Guarded', audience: { contact_ids: [someone!.contactId] }, variants: [{ template_version_id: version }] };
    await rejectsWith(agent.acting.createCampaign(body), 'forbidden', 403);
    await rejectsWith(analyst.acting.createCampaign(body), 'forbidden', 403);
    const created = await admin.acting.createCampaign(body);
    assert.equal((await analyst.acting.campaign(created.id)).name, 'Guarded');
    assert.equal((await analyst.acting.campaigns()).campaigns.length, 1);
    await rejectsWith(analyst.acting.startCampaign(created.id), 'forbidden', 403);
    await rejectsWith(agent.acting.startCampaign(created.id), 'forbidden', 403);
    await rejectsWith(analyst.acting.testCampaign(created.id), 'forbidden', 403);
    await rejectsWith(analyst.acting.resendCampaign(created.id, { to: 'failed' }), 'forbidden', 403);

    const other = await newBusinessTeam(server);
    await rejectsWith(other.business.client.campaign(created.id), 'not_found', 404);
    await rejectsWith(other.business.client.startCampaign(created.id), 'not_found', 404);
    await rejectsWith(other.business.client.campaignRecipients(created.id), 'not_found', 404);
    await rejectsWith(other.business.client.exportCampaign(created.id), 'not_found', 404);
    assert.equal((await other.business.client.campaigns()).campaigns.length, 0);
    // A contact of another business cannot be put in this one's audience.
    const [theirs] = await customers(other.business.accountId, 1);
    await rejectsWith(business.client.createCampaign({ ...body, audience: { contact_ids: [theirs!.contactId] } }), 'validation_failed', 400);

    const key = await business.client.createApiKey({ name: 'reports', scopes: ['business:read'] });
    const reporting = server.anonymous.as(key.key);
    assert.equal((await reporting.campaign(created.id)).id, created.id);
    await rejectsWith(reporting.createCampaign(body), 'insufficient_scope', 403);
    await rejectsWith(reporting.startCampaign(created.id), 'insufficient_scope', 403);
  });
});
