/**
 * GET /metrics: who may read it (loopback without a token, the token with one, never a stranger
 * or a request through a proxy), and that its numbers come from the real sources with bounded
 * labels. Also the request ids every answer carries.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { loadConfig, ConfigError } from '../src/config.ts';
import { type TestServer, eventually, startTestServer, uniqueHandle } from './harness.ts';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';
const STRANGER = '203.0.113.9';

/** One sample's value, or undefined: `name{labels} value`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (!labels && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics without a token', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite', worker: false });
  });
  after(() => server.close());

  test('are served to this machine, not to a stranger nor through a proxy', async () => {
    const local = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    assert.equal(local.statusCode, 200);
    assert.match(String(local.headers['content-type']), /^text\/plain/);
    assert.equal(local.headers['cache-control'], 'no-store');
    const stranger = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: STRANGER });
    assert.equal(stranger.statusCode, 403);
    assert.equal(stranger.json().code, 'forbidden');
    assert.doesNotMatch(stranger.body, /mmd_/);
    // A reverse proxy on the same host connects from loopback on a stranger's behalf.
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const proxied = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { [header]: STRANGER } });
      assert.equal(proxied.statusCode, 403, header);
    }
    // A token nobody configured opens nothing either.
    const guessed = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: STRANGER, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(guessed.statusCode, 403);
  });

  test('count requests by route template, events as written, fan-out to sockets, commits, open sockets, queued jobs and campaign progress', async (t) => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const chat = await alice.client.openDirect(bob.handle);
    const received: string[] = [];
    const stream = bob.client.stream({ cursor: await bob.client.updatesState(), onEvent: (e) => void (e.type === 'message.created' && received.push(e.cursor.toString())) });
    t.after(() => stream.close());
    await stream.ready;
    for (let i = 0; i < 3; i++) await alice.client.send(chat.id, { text: `hello ${i}` });
    await eventually('three messages live', () => received.length === 3);
    await server.services.queue.enqueue('media-process', { mediaId: 'med_waiting' });
    await server.services.queue.enqueue('media-process', { mediaId: 'med_later' }, { runAt: Date.now() + 3_600_000 });
    await new Promise((r) => setTimeout(r, 30));
    // A campaign run part-way through (rows as the planner and sender leave them): its funnel
    // counters show; a finished run's do not.
    const now = Date.now();
    const run = (status: string) => ({ campaign_id: 'cmp_metrics', kind: 'scheduled', status, scheduled_at: now, plan_cursor: null, planned: 0, resend_of: null, resend_to: null, tokens: 0, refilled_at: now, sender_chain: 0, created_at: now, finished_at: null });
    const sendingRun = await server.db.db.insertInto('campaign_runs').values(run('sending')).returning('id').executeTakeFirstOrThrow();
    const doneRun = await server.db.db.insertInto('campaign_runs').values(run('done')).returning('id').executeTakeFirstOrThrow();
    await server.db.db
      .insertInto('campaign_counts')
      .values([
        { run_id: sendingRun.id, variant: 0, stage: 0, n: 1000 },
        { run_id: sendingRun.id, variant: 1, stage: 0, n: 1000 },
        { run_id: sendingRun.id, variant: 0, stage: 1, n: 700 },
        { run_id: sendingRun.id, variant: 0, stage: 2, n: 650 },
        { run_id: doneRun.id, variant: 0, stage: 1, n: 5 },
      ])
      .execute();

    const text = (await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    assert.equal(sample(text, 'mmd_campaign_runs', 'status="sending"'), 1);
    assert.equal(sample(text, 'mmd_campaign_runs', 'status="planning"'), 0);
    assert.equal(sample(text, 'mmd_campaign_recipients', 'stage="planned"'), 2000);
    assert.equal(sample(text, 'mmd_campaign_recipients', 'stage="sent"'), 700);
    assert.equal(sample(text, 'mmd_campaign_recipients', 'stage="delivered"'), 650);
    const sends = sample(text, 'mmd_http_request_duration_seconds_count', 'route="/v1/conversations/:id/messages",method="POST",status="2xx"');
    assert.ok(sends !== undefined && sends >= 3, 'sends counted under their route template');
    assert.ok(!text.includes(chat.id), 'no conversation id in any label');
    assert.ok((sample(text, 'mmd_events_total', 'type="message.created"') ?? 0) >= 3);
    assert.ok((sample(text, 'mmd_fanout_lag_seconds_count') ?? 0) >= 3, 'each live delivery timed');
    assert.ok((sample(text, 'mmd_db_commit_seconds_count') ?? 0) >= 3);
    assert.equal(sample(text, 'mmd_websockets_open'), 1);
    assert.equal(sample(text, 'mmd_sync_subscribers', 'state="live"'), 1);
    assert.equal(sample(text, 'mmd_jobs_waiting', 'type="media-process"'), 1);
    assert.equal(sample(text, 'mmd_jobs_scheduled', 'type="media-process"'), 1);
    assert.ok((sample(text, 'mmd_jobs_oldest_waiting_seconds', 'type="media-process"') ?? -1) >= 0);
    assert.equal(sample(text, 'mmd_webhook_deliveries_total', 'outcome="failed"'), 0);
    assert.ok(text.includes('process_cpu_seconds_total'), 'the usual Node.js process metrics');

    // Unknown URLs share one label, however many a scanner tries.
    await server.app.inject({ method: 'GET', url: '/wp-admin/secret-1', remoteAddress: STRANGER });
    await server.app.inject({ method: 'GET', url: '/wp-admin/secret-2', remoteAddress: STRANGER });
    const after404 = (await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    assert.ok(!after404.includes('secret-1'));
    assert.ok((sample(after404, 'mmd_http_request_duration_seconds_count', 'route="unmatched",method="GET",status="4xx"') ?? 0) >= 2);
  });

  test('every answer carries a request id: the caller’s when it is sane, a new one otherwise', async () => {
    const kept = await server.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'lb-7f3a.2:node1' } });
    assert.equal(kept.headers['x-request-id'], 'lb-7f3a.2:node1');
    for (const bad of ['has space', 'x'.repeat(200), 'new\nline', '"quoted"']) {
      const replaced = await server.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
      assert.match(String(replaced.headers['x-request-id']), /^req_[A-Za-z0-9_-]{12}$/, JSON.stringify(bad));
    }
    const refused = await server.app.inject({ method: 'GET', url: '/v1/me' });
    assert.equal(refused.statusCode, 401);
    assert.match(String(refused.headers['x-request-id']), /^req_/);
    assert.equal(refused.json().request_id, refused.headers['x-request-id']);
  });
});

describe('metrics with a token', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'sqlite', config: { metricsToken: TOKEN } });
  });
  after(() => server.close());

  test('are refused without the token or with a wrong one, even from this machine', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const res = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: authorization ? { authorization } : {} });
      assert.equal(res.statusCode, 401, String(authorization));
      assert.equal(res.json().code, 'unauthenticated');
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      assert.doesNotMatch(res.body, /mmd_/);
    }
  });

  test('are served to a scraper presenting the token, from anywhere', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /mmd_http_request_duration_seconds/);
    const remote = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: STRANGER, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(remote.statusCode, 200);
  });

  test('a token too short to resist guessing is refused at start', () => {
    assert.throws(() => loadConfig({ MMD_METRICS_TOKEN: 'short' }), ConfigError);
  });
});

describe('metrics of background work', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect: 'sqlite',
      config: { outboundAllowPrivate: true, webhookRetryBaseMs: 20, webhookRetryMaxDelayMs: 50, webhookRetryWindowMs: 300 },
    });
  });
  after(() => server.close());

  test('count webhook attempts by outcome and job runs by type and outcome', async (t) => {
    // The receiver refuses the message saying "refuse" (until the delivery is given up), takes the rest.
    const seen: string[] = [];
    const rx = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const text = (JSON.parse(body) as { data: { data: { text?: string } } }).data.data.text ?? '';
        seen.push(text);
        res.writeHead(text === 'refuse' ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => rx.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((r) => rx.close(r)));
    const owner = await server.signUp();
    const { bot, token } = await owner.client.createBot({ handle: uniqueHandle('mbot'), name: 'Metered' });
    await server.anonymous.as(token).createWebhook({ url: `http://127.0.0.1:${(rx.address() as { port: number }).port}/hook`, events: ['message.created'] });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    await person.client.send(chat.id, { text: 'take this' });
    await person.client.send(chat.id, { text: 'refuse' });
    await person.client.send(chat.id, { text: 'and this' });
    await eventually('the last delivery, after the refused one is given up', () => seen.includes('and this'), 15_000);

    const text = (await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    assert.ok((sample(text, 'mmd_webhook_deliveries_total', 'outcome="succeeded"') ?? 0) >= 2);
    assert.ok((sample(text, 'mmd_webhook_deliveries_total', 'outcome="retrying"') ?? 0) >= 1);
    assert.equal(sample(text, 'mmd_webhook_deliveries_total', 'outcome="failed"'), 1);
    assert.ok((sample(text, 'mmd_webhook_delivery_duration_seconds_count', 'outcome="succeeded"') ?? 0) >= 2);
    assert.ok((sample(text, 'mmd_job_runs_total', 'type="webhook-deliver",outcome="succeeded"') ?? 0) >= 1);
    assert.ok((sample(text, 'mmd_job_run_duration_seconds_count', 'type="webhook-deliver"') ?? 0) >= 1);
  });
});
