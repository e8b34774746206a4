/**
 * Exactly once per recipient across kill -9: a real server sends a campaign, is killed with
 * SIGKILL mid-send (while a batch's messages are going out and before they are recorded),
 * restarted on the same data, and finishes: every recipient has exactly one message in their chat
 * with the business, none twice, none lost, and the funnel says so.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { MmdClient } from '@mmd/sdk';
import { sql } from 'kysely';
import { openDatabase } from '../src/platform/db/index.ts';
import { crashTestOnEachDatabase, freePort, killHard, spawnServer, waitReady } from './child-server.ts';
import { eventually } from './harness.ts';

const RECIPIENTS = 120;
const proof = { wording: 'Offers from the shop, at most twice a week', at: '2026-01-01T09:00:00Z', evidence: 'web form 77' };

async function crashMidCampaign(env: Record<string, string>) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Small batches (each recorded in one transaction after its sends), quick take-over of a dead
  // lane's claims and jobs.
  const serverEnv = { ...env, MMD_PORT: String(port), MMD_SIGNUP_RATE_LIMIT: '100000', MMD_CAMPAIGN_BATCH_SIZE: '10', MMD_CAMPAIGN_CLAIM_MS: '3000', MMD_CAMPAIGN_LANES: '2' };
  let server = spawnServer(serverEnv);
  try {
    await waitReady(url);
    const anonymous = new MmdClient({ baseUrl: url });
    const biz = await anonymous.createAccount({ handle: `shop${port}`, password: 'correct horse battery', kind: 'business' });
    const business = anonymous.as(biz.token);
    // This server keeps the wall clock: without quiet hours, a run at night (UTC) is not held until 08:00.
    await business.updateBusiness({ settings: { quiet_hours: null } });
    const people: { token: string; contactId: string }[] = [];
    for (let i = 0; i < RECIPIENTS; i += 1) {
      const p = await anonymous.createAccount({ handle: `c${i}x${port}`, password: 'correct horse battery' });
      const contact = await business.contacts.create({ handle: p.account.handle, consent: [{ purpose: 'marketing', proof }] });
      people.push({ token: p.token, contactId: contact.id });
    }
    const template = await business.createTemplate({ name: 'offer', purpose: 'marketing', default_locale: 'en', variants: { en: { text: 'Hello {{handle}}, spring sale today' } } });
    const version = (await business.approveTemplate(template.id)).approved_version!.id;
    const campaign = await business.createCampaign({ name: 'Spring', audience: { contact_ids: people.map((p) => p.contactId) }, variants: [{ template_version_id: version }], throttle_per_second: 25 });
    await business.startCampaign(campaign.id);

    // Watch the database from outside (as an operator could) and kill mid-send, once some
    // batches have gone out and while lanes are writing the next (a batch's messages and their
    // records commit in one transaction, so a kill inside it must leave neither). If that moment
    // is not caught within 20 s, kill anyway (the outcome must be right whenever the kill falls).
    const db = openDatabase({ databaseUrl: env.MMD_DATABASE_URL, pgSchema: env.MMD_DATABASE_SCHEMA, sqlitePath: path.join(env.MMD_DATA_DIR!, 'mmd.sqlite') });
    const progress = async () => {
      const recorded = await db.db.selectFrom('campaign_recipients').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '>=', 2).executeTakeFirstOrThrow();
      const messages = await sql<{ n: number }>`select count(*) as n from messages where idempotency_key like 'campaign:%'`.execute(db.db);
      return { recorded: Number(recorded.n), messages: Number(messages.rows[0]!.n) };
    };
    let atKill: { recorded: number; messages: number };
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const now = await progress();
        if (now.recorded >= 20 || Date.now() > deadline) break;
      }
      await killHard(server);
      atKill = await progress();
    } finally {
      await db.close();
    }
    assert.ok(atKill.recorded < RECIPIENTS, `killed before the end (${atKill.recorded} recorded)`);
    console.log(`# at the kill: ${atKill.messages} campaign messages sent, ${atKill.recorded} recorded`);
    assert.equal(atKill.messages, atKill.recorded, 'no message is left unrecorded: a batch commits its messages and their records together');

    server = spawnServer(serverEnv);
    await waitReady(url);
    const done = await eventually('the campaign completes after the restart', async () => {
      const c = await business.campaign(campaign.id);
      return c.status === 'completed' ? c : null;
    }, 120_000);
    assert.equal(done.funnel.planned, RECIPIENTS);
    assert.equal(done.funnel.sent, RECIPIENTS, 'every recipient sent');
    assert.equal(done.funnel.failed + done.funnel.skipped, 0);

    // Each person: exactly one campaign message in their chat with the business.
    for (const p of people) {
      const client = anonymous.as(p.token);
      const chat = await client.openDirect(`shop${port}`);
      const messages = (await client.history(chat.id)).messages.filter((m) => m.sender_id === biz.account.id);
      assert.equal(messages.length, 1, `contact ${p.contactId} got exactly one message (got ${messages.length})`);
    }
    const recipients = await business.campaignRecipients(campaign.id, { limit: 1000 });
    assert.equal(new Set(recipients.recipients.map((r) => r.message_id)).size, RECIPIENTS, 'a distinct message per recipient');
  } finally {
    await killHard(server);
  }
}

crashTestOnEachDatabase('a campaign killed with SIGKILL mid-send resumes with no recipient messaged twice and none lost', crashMidCampaign);
