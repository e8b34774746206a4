/**
 * GET /metrics: who may read it (loopback without a token, the token with one, never a stranger
 * or a request through a proxy), and that its numbers come from the real sources with bounded
 * labels. Also the request ids every answer carries.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { MmdClient } from '@mmd/sdk';
import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError } from '../src/config.ts';
import type { buildApp } from '../src/app.ts';
import { type Redis, openRedis, redisPrefix } from '../src/platform/redis/index.ts';
import { campaignWorld } from './campaign-world.ts';
import { type ClusterNode, REDIS_URL, type TestCluster, clusterSkipReason, cuttableProxy, startTestCluster } from './cluster-harness.ts';
import { type TestServer, eventually, newBusinessTeam, onEachDatabase, startTestServer, uniqueHandle } from './harness.ts';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';
const STRANGER = '203.0.113.9';

/** One sample's value, or undefined: `name{labels} value`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (!labels && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
  assert.equal(res.statusCode, 200);
  return res.body;
}

const noop = async () => null;
/** Handlers for the core queue that do nothing: a test's jobs are processed without side effects. */
const coreNoops = { 'media-process': noop, 'safety-sweep': noop, 'safety-rehash': noop, 'automation-run': noop, 'automation-webhook': noop, 'interactive-close': noop, 'contacts-reply': noop };

/** What the audit needs of a server: a test server or a cluster node. */
interface Audited {
  app: FastifyInstance;
  services: Awaited<ReturnType<typeof buildApp>>['services'];
  signUp(): Promise<{ client: MmdClient; handle: string }>;
  /** Where its jobs live: per type in the database, per queue in BullMQ. */
  queue: 'database' | 'bullmq';
}

/**
 * Every metric issue 13 lists, on one server with no workers running: present, and moving when the
 * thing it measures happens (compared with a scrape taken before). Request latency by route, open
 * WebSockets, events (rate() of a counter), fan-out lag, commit time (the fsync, see operations.md),
 * queue depth and age (growing while jobs wait, zero once a worker has run them); webhook
 * outcomes and campaign progress are present here, and move in the suites below.
 */
async function auditIssueMetrics(t: TestContext, server: Audited) {
  const before = await scrape(server.app);
  const value = (text: string, name: string, labels = '') => sample(text, name, labels) ?? 0;
  const alice = await server.signUp();
  const bob = await server.signUp();
  const chat = await alice.client.openDirect(bob.handle);
  const received: string[] = [];
  const stream = bob.client.stream({ cursor: await bob.client.updatesState(), onEvent: (e) => void (e.type === 'message.created' && received.push(e.cursor.toString())) });
  t.after(() => stream.close());
  await stream.ready;
  for (let i = 0; i < 3; i++) await alice.client.send(chat.id, { text: `hello ${i}` });
  await eventually('three messages live', () => received.length === 3);
  await server.services.queue.enqueue('interactive-close', { messageId: 'msg_metrics_waiting' });
  await server.services.queue.enqueue('interactive-close', { messageId: 'msg_metrics_later' }, { runAt: Date.now() + 3_600_000 });
  // Database: per type (and its queue); BullMQ: per queue, once relayed from the outbox.
  const jobs = server.queue === 'database' ? 'queue="core",type="interactive-close"' : 'queue="core"';
  const during = await eventually('the jobs counted where they live', async () => {
    const text = await scrape(server.app);
    return sample(text, 'mmd_jobs_waiting', jobs) === 1 && sample(text, 'mmd_jobs_scheduled', jobs) === 1 ? text : null;
  }, 10_000);

  const sends = 'route="/v1/conversations/:id/messages",method="POST",status="2xx"';
  assert.ok(value(during, 'mmd_http_request_duration_seconds_count', sends) - value(before, 'mmd_http_request_duration_seconds_count', sends) >= 3, 'sends timed under their route template');
  assert.ok(value(during, 'mmd_http_request_duration_seconds_sum', sends) > value(before, 'mmd_http_request_duration_seconds_sum', sends));
  assert.ok(!during.includes(chat.id), 'no conversation id in any label');
  assert.ok(value(during, 'mmd_events_total', 'type="message.created"') - value(before, 'mmd_events_total', 'type="message.created"') >= 3, 'events counted as written');
  assert.ok(value(during, 'mmd_fanout_lag_seconds_count') - value(before, 'mmd_fanout_lag_seconds_count') >= 3, 'each live delivery timed');
  assert.ok(value(during, 'mmd_db_commit_seconds_count') - value(before, 'mmd_db_commit_seconds_count') >= 3, 'each send’s commit timed');
  assert.ok(value(during, 'mmd_db_commit_seconds_sum') > value(before, 'mmd_db_commit_seconds_sum'));
  assert.equal(value(before, 'mmd_websockets_open'), 0);
  assert.equal(sample(during, 'mmd_websockets_open'), 1);
  assert.equal(sample(during, 'mmd_sync_subscribers', 'state="live"'), 1);
  assert.equal(value(before, 'mmd_jobs_waiting', jobs), 0, 'nothing waited before');
  for (const outcome of ['succeeded', 'retrying', 'failed']) assert.ok(sample(during, 'mmd_webhook_deliveries_total', `outcome="${outcome}"`) !== undefined, `webhook outcome ${outcome}`);
  for (const status of ['waiting', 'planning', 'sending']) assert.ok(sample(during, 'mmd_campaign_runs', `status="${status}"`) !== undefined, `campaign runs ${status}`);
  assert.ok(during.includes('process_cpu_seconds_total'), 'the usual Node.js process metrics');

  // The waiting job's age grows from scrape to scrape (BullMQ's reading is reused up to a second:
  // its age is still reckoned at each scrape).
  const age1 = value(during, 'mmd_jobs_oldest_waiting_seconds', jobs);
  await new Promise((r) => setTimeout(r, 1200));
  const age2 = value(await scrape(server.app), 'mmd_jobs_oldest_waiting_seconds', jobs);
  assert.ok(age2 >= age1 + 1, `the age grew: ${age1} s, then ${age2} s`);

  // A worker runs the due job: nothing waits, nothing runs; the later one stays scheduled.
  const worker = server.services.queue.work(coreNoops, { concurrency: 2 });
  t.after(() => worker.stop({ timeoutMs: 5000 }));
  const done = await eventually('the due job processed: none waiting, none running', async () => {
    const text = await scrape(server.app);
    return sample(text, 'mmd_jobs_waiting', jobs) === 0 && sample(text, 'mmd_jobs_running', jobs) === 0 ? text : null;
  }, 10_000);
  assert.equal(value(done, 'mmd_jobs_oldest_waiting_seconds', jobs), 0);
  assert.equal(sample(done, 'mmd_jobs_scheduled', jobs), 1);
  assert.ok(value(done, 'mmd_job_runs_total', 'type="interactive-close",outcome="succeeded"') >= 1);
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

  test('count requests by route template, events, fan-out, commits, open sockets and queued jobs, each moving as things happen', async (t) => {
    await auditIssueMetrics(t, { app: server.app, services: server.services, signUp: () => server.signUp(), queue: 'database' });
  });

  test('unknown URLs share one label, however many a scanner tries', async () => {
    await server.app.inject({ method: 'GET', url: '/wp-admin/secret-1', remoteAddress: STRANGER });
    await server.app.inject({ method: 'GET', url: '/wp-admin/secret-2', remoteAddress: STRANGER });
    const after404 = await scrape(server.app);
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

onEachDatabase('metrics of background work', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      dialect,
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
    // The receiver has the request before the server has its answer and counts it: scrape until
    // the outcomes are in (on a loaded machine the first scrape can come between the two).
    const scrape = async () => (await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    let text = '';
    await eventually(
      'the deliveries and their job runs counted',
      async () => {
        text = await scrape();
        return (
          (sample(text, 'mmd_webhook_deliveries_total', 'outcome="succeeded"') ?? 0) >= 2 &&
          sample(text, 'mmd_webhook_deliveries_total', 'outcome="failed"') !== undefined &&
          (sample(text, 'mmd_job_runs_total', 'type="webhook-deliver",outcome="succeeded"') ?? 0) >= 1
        );
      },
      15_000,
    );
    assert.ok((sample(text, 'mmd_webhook_deliveries_total', 'outcome="succeeded"') ?? 0) >= 2);
    assert.ok((sample(text, 'mmd_webhook_deliveries_total', 'outcome="retrying"') ?? 0) >= 1);
    assert.equal(sample(text, 'mmd_webhook_deliveries_total', 'outcome="failed"'), 1);
    assert.ok((sample(text, 'mmd_webhook_delivery_duration_seconds_count', 'outcome="succeeded"') ?? 0) >= 2);
    assert.ok((sample(text, 'mmd_job_runs_total', 'type="webhook-deliver",outcome="succeeded"') ?? 0) >= 1);
    assert.ok((sample(text, 'mmd_job_run_duration_seconds_count', 'type="webhook-deliver"') ?? 0) >= 1);
  });
});

onEachDatabase('metrics of a campaign run', (dialect) => {
  // The clock stands still while the test looks, so the throttle's bucket (one send a second) lets
  // exactly one recipient through until the test moves the clock on.
  let server: TestServer;
  let frozenAt: number | null = null;
  const clock = () => frozenAt ?? Date.now();
  const world = campaignWorld();
  before(async () => {
    server = await startTestServer({ dialect, clock, campaignPorts: world.ports });
  });
  after(() => server.close());

  test('campaign progress: runs by status and recipients by stage move as a run sends, and leave once it is done', async () => {
    const business = (await newBusinessTeam(server)).business;
    const people = [await server.signUp(), await server.signUp(), await server.signUp()];
    const contacts = people.map((p) => world.addContact(business.accountId, p.accountId).id);
    const version = world.addTemplate(business.accountId, 'Hello {{name}}');
    const created = await business.client.createCampaign({ name: 'Measured', audience: { contact_ids: contacts }, variants: [{ template_version_id: version }], throttle_per_second: 1 });
    const before = await scrape(server.app);
    assert.equal(sample(before, 'mmd_campaign_runs', 'status="sending"'), 0);
    assert.equal(sample(before, 'mmd_campaign_recipients', 'stage="planned"'), undefined);
    frozenAt = Date.now();
    await business.client.startCampaign(created.id);
    const sending = await eventually('the run sending, one recipient sent', async () => {
      const text = await scrape(server.app);
      return sample(text, 'mmd_campaign_runs', 'status="sending"') === 1 && sample(text, 'mmd_campaign_recipients', 'stage="sent"') === 1 ? text : null;
    }, 20_000);
    assert.equal(sample(sending, 'mmd_campaign_recipients', 'stage="planned"'), 3);
    frozenAt = null;
    const done = await eventually('the run finished', async () => {
      const c = await business.client.campaign(created.id);
      return c.funnel.sent === 3 && c.runs.every((r) => r.status === 'done') ? scrape(server.app) : null;
    }, 20_000);
    assert.equal(sample(done, 'mmd_campaign_runs', 'status="sending"'), 0);
    assert.equal(sample(done, 'mmd_campaign_recipients', 'stage="sent"'), undefined, 'a finished run is no longer in progress');
  });
});

// PostgreSQL (the single-node server with its database elsewhere): the same audit.
describe('metrics on PostgreSQL', { skip: process.env.MMD_TEST_POSTGRES_URL ? false : 'PostgreSQL not run: MMD_TEST_POSTGRES_URL is not set' }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect: 'postgres', worker: false });
  });
  after(() => server.close());

  test('every listed metric is present and moves, jobs counted per type from the database', async (t) => {
    await auditIssueMetrics(t, { app: server.app, services: server.services, signUp: () => server.signUp(), queue: 'database' });
  });
});

// A cluster node (PostgreSQL, Redis event bus) with MMD_QUEUE=bullmq: the job gauges are BullMQ's
// queues in Redis, not the outbox rows in the database, which have gauges of their own.
describe('metrics on a cluster node with BullMQ', { skip: clusterSkipReason() }, () => {
  let cluster: TestCluster;
  let node: ClusterNode;
  let redis: Redis;
  const proxies: { close(): Promise<void> }[] = [];
  before(async () => {
    cluster = await startTestCluster();
    node = await cluster.node({ config: { queue: 'bullmq', redisUrl: REDIS_URL }, worker: false });
    redis = openRedis(REDIS_URL!);
  });
  after(async () => {
    await cluster?.close();
    for (const proxy of proxies) await proxy.close();
    if (redis) {
      const keys = await redis.keys(`${redisPrefix(cluster.schema)}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
  const signUp = async () => {
    const handle = uniqueHandle('bqm');
    const created = await node.anonymous.createAccount({ handle, password: 'correct horse battery' });
    return { client: node.anonymous.as(created.token), handle };
  };

  test('every listed metric is present and moves, jobs counted per queue from Redis', async (t) => {
    await auditIssueMetrics(t, { app: node.app, services: node.services, signUp, queue: 'bullmq' });
  });

  test('with Redis gone, a scrape still answers in seconds, without the job gauges and counting the failure; they return with Redis', async (t) => {
    const proxy = await cuttableProxy(REDIS_URL!);
    // Redis back for the node's close (with the cluster's), the proxy closed after it.
    proxies.push(proxy);
    t.after(() => proxy.restore());
    const cut = await cluster.node({ redisUrl: proxy.url, config: { queue: 'bullmq', redisUrl: REDIS_URL }, worker: false });
    const healthy = await scrape(cut.app);
    assert.equal(sample(healthy, 'mmd_jobs_waiting', 'queue="core"'), 0);
    assert.equal(sample(healthy, 'mmd_metrics_source_failures_total', 'source="jobs"'), 0);
    // Past the reading's one-second reuse, so the next scrape asks Redis.
    await new Promise((r) => setTimeout(r, 1100));
    // Connections dropped and refused: BullMQ's commands wait for Redis to return, however long.
    proxy.cut();
    const started = performance.now();
    const gone = await scrape(cut.app);
    const ms = performance.now() - started;
    t.diagnostic(`scrape with Redis gone: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 10_000, `answered in ${ms.toFixed(0)} ms, not held until Redis returns`);
    assert.equal(sample(gone, 'mmd_jobs_waiting', 'queue="core"'), undefined, 'no stale or made-up depth');
    assert.equal(sample(gone, 'mmd_metrics_source_failures_total', 'source="jobs"'), 1);
    assert.equal(sample(gone, 'mmd_campaign_runs', 'status="sending"'), 0, 'the database’s gauges still read');
    assert.match(gone, /mmd_http_request_duration_seconds_count/);
    await proxy.restore();
    const restored = performance.now();
    await eventually('the job gauges back', async () => sample(await scrape(cut.app), 'mmd_jobs_waiting', 'queue="core"') === 0 || null, 90_000);
    t.diagnostic(`job gauges back ${(performance.now() - restored).toFixed(0)} ms after Redis`);
  });

  test('every queue reports its depth, zeros included; failed jobs are counted; the outbox has its own gauges', async () => {
    const text = await scrape(node.app);
    for (const queue of ['core', 'webhooks', 'link-previews', 'template-renders', 'contact-imports', 'campaigns', 'federation', 'push']) {
      assert.ok(sample(text, 'mmd_jobs_waiting', `queue="${queue}"`) !== undefined, `${queue} waiting`);
      assert.ok(sample(text, 'mmd_jobs_failed', `queue="${queue}"`) !== undefined, `${queue} failed`);
      assert.ok(sample(text, 'mmd_jobs_outbox_pending', `queue="${queue}"`) !== undefined, `${queue} outbox`);
    }
    assert.doesNotMatch(text, /type="bullmq-relay-/, 'outbox rows are not counted as jobs');
    // A job failing for good stays counted among the failed (BullMQ keeps them 7 days).
    const failedBefore = sample(text, 'mmd_jobs_failed', 'queue="webhooks"') ?? 0;
    await node.services.webhookQueue.enqueue('webhook-deliver', { webhookId: 'wh_metrics_none' }, { maxAttempts: 1 });
    const worker = node.services.webhookQueue.work({ 'webhook-deliver': async () => { throw new Error('refused'); } }, { concurrency: 1 });
    try {
      await eventually('the failed job counted', async () => (sample(await scrape(node.app), 'mmd_jobs_failed', 'queue="webhooks"') ?? 0) === failedBefore + 1 || null, 10_000);
    } finally {
      await worker.stop({ timeoutMs: 5000 });
    }
  });
});
