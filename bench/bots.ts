/**
 * bench:bots — what bots and interactive messages cost, on this machine, in one run.
 *
 *   node --import tsx bench/bots.ts [--subscribers=10000] [--votes=5000] [--connected=200]
 *     [--webhook-messages=3000] [--updates=5000] [--quick]
 *
 * Starts a fresh MMD server (embedded SQLite in a temp dir) as a child process and measures:
 *  1. Webhooks: persons write to bots whose webhooks point at a receiver in this process that
 *     answers 500 to a fifth of the requests (so those deliveries are retried); one more bot's
 *     webhook points at a receiver that accepts the connection and never answers. Reported:
 *     deliveries/s (distinct events received with a 2xx answer), p50/p99 from the event
 *     (message created_at) to its first POST and to its successful POST, attempts per delivery,
 *     and whether every event reached the healthy receiver despite the hanging one. Baseline, same
 *     run: this process POSTing the same signed bodies (the `standardwebhooks` library signs them)
 *     to the same receiver, same concurrency, no failures.
 *  2. Updates: a bot with a backlog of N messages drains it with the Telegram-compatible
 *     `getUpdates` (offset, limit 100) and with MMD's native `GET /v1/updates` (cursor, limit 100):
 *     updates/s of each (the native path is the baseline).
 *  3. A poll in a channel of S subscribers, V of them voting in a burst (200 in flight): votes/s,
 *     p50/p99 vote latency, server CPU-seconds per vote, and the bytes each of C connected
 *     subscribers (WebSocket) received during the burst, next to what re-sending the whole
 *     message per vote would have cost. Baseline, same run: the same voters reacting to a text
 *     post in the same channel (reactions are not coalesced).
 * Prints one JSON object on stdout (progress on stderr).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { WebSocket } from 'ws';
import { MmdClient } from '../packages/sdk/src/index.ts';
import { argOptions, benchServerSettings, children, cpuSeconds, freePort, pool, serverEnv, track, waitReady } from './lib/harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const { count } = argOptions(argv);
const opts = {
  subscribers: count('subscribers', quick ? 1000 : 10_000),
  votes: count('votes', quick ? 500 : 5000),
  connected: count('connected', quick ? 50 : 200),
  webhookMessages: count('webhook-messages', quick ? 400 : 3000),
  webhookBots: 5,
  webhookPersons: 20,
  updates: count('updates', quick ? 1000 : 5000),
  inFlight: 200,
  failShare: 0.2,
};
const log = (...a: unknown[]) => console.error('[bench:bots]', ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function pct(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
}
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------------------------------------
// The MMD server

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

async function startServer(dataDir: string): Promise<{ pid: number; port: number; base: string }> {
  const port = await freePort();
  // Cheap password hashing and no sign-up limit (benchServerSettings), so 10,000 subscribers are
  // created in seconds; no path measured here hashes a password.
  const env = serverEnv(benchServerSettings, {
    MMD_PORT: String(port),
    MMD_DATA_DIR: dataDir,
    // The receivers live on loopback.
    MMD_OUTBOUND_ALLOW_PRIVATE: 'true',
    // Retries within the run (the default first retry is 5 s); the hanging receiver times out in 2 s.
    MMD_WEBHOOK_RETRY_BASE_MS: '200',
    MMD_WEBHOOK_RETRY_MAX_DELAY_MS: '2000',
    MMD_OUTBOUND_TIMEOUT_MS: '2000',
  });
  const proc = track(
    spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts', 'serve'], {
      cwd: root,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(proc, base, { timeoutMs: 60_000, pollMs: 100 });
  return { pid: proc.pid!, port, base };
}

let counter = 0;
async function person(base: string, prefix: string): Promise<MmdClient> {
  const anon = new MmdClient({ baseUrl: base });
  const handle = `${prefix}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const reply = await anon.createAccount({ handle, password: 'bench password that is long enough 1!' });
  return anon.as(reply.token);
}

// ---------------------------------------------------------------------------------------------
// 1. Webhooks

interface Receiver {
  url: string;
  close(): Promise<void>;
}

/** The healthy receiver: answers 500 to a share of requests (deterministic), else 204. */
function healthyReceiver(
  port: number,
  onPost: (body: string, headers: http.IncomingHttpHeaders, url: string, ok: boolean) => void,
): Promise<Receiver> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fail = n++ % Math.round(1 / opts.failShare) === 0;
      onPost(Buffer.concat(chunks).toString('utf8'), req.headers, req.url ?? '', !fail);
      res.statusCode = fail ? 500 : 204;
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/** Accepts connections and reads requests, never answers. */
function hangingReceiver(port: number): Promise<Receiver & { requests: () => number }> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (d) => {
      if (d.toString('latin1').startsWith('POST')) requests++;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests: () => requests,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}

async function benchWebhooks(base: string) {
  log('webhooks: setting up');
  const owner = await person(base, 'own');
  const bots: { id: string; handle: string; client: MmdClient; secret: string }[] = [];
  for (let i = 0; i < opts.webhookBots + 1; i++) {
    const handle = `whbot${i}_${Math.random().toString(36).slice(2, 7)}`;
    const created = await owner.createBot({ handle, name: `bench bot ${i}` });
    bots.push({ id: created.bot.id, handle, client: owner.as(created.token), secret: '' });
  }
  const healthy = bots.slice(0, opts.webhookBots);
  const hangBot = bots[opts.webhookBots]!;

  // Receivers.
  const firstPost = new Map<string, number>();
  const delivered = new Map<string, number>();
  let attempts = 0;
  let badSignatures = 0;
  const verifiers = new Map<string, Webhook>();
  const receiver = await healthyReceiver(await freePort(), (body, headers, url, ok) => {
    const t = Date.now();
    attempts++;
    const event = JSON.parse(body) as { type: string; data: { type: string; data: { id?: string } } };
    const verifier = verifiers.get(url.slice(1));
    if (verifier) {
      try {
        verifier.verify(body, headers as Record<string, string>);
      } catch {
        badSignatures++;
      }
    }
    if (event.type !== 'message.created') return;
    const id = event.data.data.id ?? '';
    if (!firstPost.has(id)) firstPost.set(id, t);
    if (ok && !delivered.has(id)) delivered.set(id, t);
  });
  const hanging = await hangingReceiver(await freePort());
  for (const b of healthy) {
    // The path names the bot so the receiver knows which secret verifies the signature.
    const hook = await owner.createWebhook({
      url: `${receiver.url}/${b.handle}`,
      bot: b.id,
      events: ['message.created'],
    });
    b.secret = hook.secret;
  }
  await owner.createWebhook({ url: `${hanging.url}/hang`, bot: hangBot.id, events: ['message.created'] });
  // The receiver checks each signature with the secret of the bot its URL path names.
  for (const b of healthy) verifiers.set(b.handle, new Webhook(b.secret));

  const persons = await Promise.all(Array.from({ length: opts.webhookPersons }, () => person(base, 'whp')));
  const lanes: { client: MmdClient; conversation: string }[] = [];
  const hangLanes: { client: MmdClient; conversation: string }[] = [];
  await pool(persons, 10, async (p) => {
    for (const b of healthy) lanes.push({ client: p, conversation: (await p.openDirect(b.handle)).id });
    hangLanes.push({ client: p, conversation: (await p.openDirect(hangBot.handle)).id });
  });

  log(
    `webhooks: ${opts.webhookMessages} messages over ${lanes.length} chats with ${healthy.length} bots (+ a hanging receiver)`,
  );
  const created = new Map<string, number>();
  const t0 = Date.now();
  const jobs = Array.from({ length: opts.webhookMessages }, (_, i) => i);
  await pool(jobs, 50, async (i) => {
    const hang = i % 20 === 0;
    const lane = hang ? hangLanes[i % hangLanes.length]! : lanes[i % lanes.length]!;
    const m = await lane.client.send(lane.conversation, { text: `webhook bench ${i}` });
    if (!hang) created.set(m.id, m.created_at);
  });
  const sendSeconds = (Date.now() - t0) / 1000;
  const deadline = Date.now() + 120_000;
  while (delivered.size < created.size && Date.now() < deadline) await sleep(100);
  const lastDelivery = Math.max(...delivered.values());
  const toFirst: number[] = [];
  const toDelivered: number[] = [];
  for (const [id, at] of created) {
    const f = firstPost.get(id);
    const d = delivered.get(id);
    if (f !== undefined) toFirst.push(f - at);
    if (d !== undefined) toDelivered.push(d - at);
  }
  const mmd = {
    messages_to_healthy_receiver: created.size,
    delivered: delivered.size,
    all_delivered: delivered.size === created.size,
    deliveries_per_second: round(delivered.size / ((lastDelivery - t0) / 1000), 1),
    send_seconds: round(sendSeconds),
    event_to_first_post_ms: { p50: pct(toFirst, 50), p99: pct(toFirst, 99) },
    event_to_successful_post_ms: { p50: pct(toDelivered, 50), p99: pct(toDelivered, 99) },
    attempts_per_delivery: round(attempts / Math.max(1, delivered.size)),
    bad_signatures: badSignatures,
    hanging_receiver_requests: hanging.requests(),
  };

  // Baseline: this process signs and POSTs the same number of bodies to the same receiver.
  log('webhooks: baseline (signed POSTs from this process)');
  const wh = new Webhook(healthy[0]!.secret);
  const sample = JSON.stringify({
    type: 'message.created',
    timestamp: new Date().toISOString(),
    data: { type: 'message.created', data: { id: 'x', text: 'webhook bench 0' } },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  let baseOk = 0;
  const b0 = Date.now();
  await pool(jobs, 50, async (i) => {
    const id = `msg_baseline_${i}`;
    const ts = new Date();
    const body = sample.replace('"x"', JSON.stringify(id));
    const signature = wh.sign(id, ts, body);
    // A 500 from the receiver is retried once at once: the baseline counts successes too.
    for (;;) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${receiver.url}/baseline`,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'webhook-id': id,
              'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
              'webhook-signature': signature,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      if (status < 300) break;
    }
    baseOk++;
  });
  const baseline = { posts_per_second: round(baseOk / ((Date.now() - b0) / 1000), 1) };
  agent.destroy();
  await receiver.close();
  await hanging.close();
  return {
    mmd,
    baseline,
    ratio_deliveries_to_baseline: round(mmd.deliveries_per_second / baseline.posts_per_second, 3),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. getUpdates vs GET /v1/updates

async function benchUpdates(base: string) {
  log(`updates: a backlog of ${opts.updates} messages to one bot`);
  const owner = await person(base, 'upo');
  const handle = `upbot_${Math.random().toString(36).slice(2, 8)}`;
  const created = await owner.createBot({ handle, name: 'updates bench bot' });
  const bot = owner.as(created.token);
  const startCursor = await bot.updatesState();
  const senders = await Promise.all(Array.from({ length: 10 }, () => person(base, 'ups')));
  const chats = await Promise.all(senders.map(async (s) => ({ s, id: (await s.openDirect(handle)).id })));
  await pool(
    Array.from({ length: opts.updates }, (_, i) => i),
    50,
    async (i) => {
      const c = chats[i % chats.length]!;
      await c.s.send(c.id, { text: `update ${i}` });
    },
  );
  // Native: page through from the cursor before the backlog.
  const runs: Record<string, { updates: number; seconds: number; per_second: number }[]> = {
    native: [],
    telegram: [],
  };
  for (let round_ = 0; round_ < 3; round_++) {
    let cursor = startCursor;
    let n = 0;
    const t = now();
    for (;;) {
      const page = await bot.updates({ cursor, limit: 100 });
      n += page.events.length;
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    const s = (now() - t) / 1000;
    runs.native!.push({ updates: n, seconds: round(s, 3), per_second: round(n / s, 1) });
  }
  // Telegram: getUpdates confirms what it passes, so it drains once.
  {
    let offset = 0;
    let n = 0;
    const t = now();
    for (;;) {
      const r = await fetch(
        `${base}/telegram/bot${created.token}/getUpdates?limit=100&timeout=0${offset ? `&offset=${offset}` : ''}`,
      );
      const body = (await r.json()) as { ok: boolean; result: { update_id: number }[]; description?: string };
      if (!body.ok) throw new Error(`getUpdates: ${body.description}`);
      if (body.result.length === 0) break;
      n += body.result.length;
      offset = body.result[body.result.length - 1]!.update_id + 1;
    }
    const s = (now() - t) / 1000;
    runs.telegram!.push({ updates: n, seconds: round(s, 3), per_second: round(n / s, 1) });
  }
  const nativeBest = Math.max(...runs.native!.map((r) => r.per_second));
  return {
    backlog: opts.updates,
    page: 100,
    native_get_v1_updates: runs.native,
    telegram_get_updates: runs.telegram,
    ratio_telegram_to_native: round(runs.telegram![0]!.per_second / nativeBest, 3),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. A poll in a big channel

interface Listener {
  bytes: number;
  frames: Record<string, number>;
  close(): void;
}
function listen(port: number, token: string, cursor: number): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const l: Listener = { bytes: 0, frames: {}, close: () => ws.terminate() };
    const ws = new WebSocket(
      `ws://127.0.0.1:${port}/v1/stream?cursor=${cursor}&token=${encodeURIComponent(token)}`,
      { perMessageDeflate: false },
    );
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; event?: { type: string } };
      if (frame.type === 'ready') return resolve(l);
      l.bytes += data.length;
      const key = frame.event?.type ?? frame.type;
      l.frames[key] = (l.frames[key] ?? 0) + 1;
    });
    ws.on('error', reject);
  });
}

async function benchPoll(base: string, port: number, pid: number) {
  log(`poll: signing up ${opts.subscribers} subscribers`);
  const owner = await person(base, 'cho');
  const channelHandle = `benchchan${Math.random().toString(36).slice(2, 8)}`;
  const channel = await owner.createConversation({
    kind: 'channel',
    title: 'Bench channel',
    handle: channelHandle,
  });
  const subs: MmdClient[] = [];
  const t0 = now();
  await pool(
    Array.from({ length: opts.subscribers }, (_, i) => i),
    64,
    async () => {
      const p = await person(base, 's');
      await p.join(channel.id);
      subs.push(p);
    },
  );
  log(`poll: ${subs.length} subscribers in ${round((now() - t0) / 1000, 1)} s; connecting ${opts.connected}`);
  const cursor = await owner.updatesState();
  const listeners = await Promise.all(
    subs.slice(0, opts.connected).map((s) => listen(port, s.token!, cursor)),
  );
  const poll = await owner.sendPoll(channel.id, {
    question: 'Which day suits the team offsite best?',
    options: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
    anonymous: true,
  });
  const post = await owner.send(channel.id, { text: 'React to this post if you are coming to the offsite.' });
  await sleep(1000);
  const messageBytes = Math.max(...listeners.map((l) => l.bytes)) / 2; // the two message.created frames
  const wholePollFrame = JSON.stringify({
    type: 'event',
    event: {
      cursor: 1,
      type: 'message.edited',
      conversation_id: channel.id,
      at: Date.now(),
      data: await owner.message(poll.id),
    },
  }).length;

  async function burst(what: 'vote' | 'react') {
    for (const l of listeners) {
      l.bytes = 0;
      l.frames = {};
    }
    const voters = subs.slice(0, opts.votes);
    const latencies: number[] = [];
    let failures = 0;
    const cpu0 = cpuSeconds(pid);
    const t = now();
    await pool(voters, opts.inFlight, async (v, i) => {
      const s = now();
      try {
        if (what === 'vote') await v.vote(poll.id, [i % 5]);
        else await v.react(post.id, '👍');
      } catch {
        failures++;
      }
      latencies.push(now() - s);
    });
    const seconds = (now() - t) / 1000;
    // Let coalesced updates and fan-out finish before reading the bytes.
    await sleep(2000);
    const cpu = cpuSeconds(pid) - cpu0;
    const bytes = listeners.map((l) => l.bytes);
    return {
      operations: voters.length,
      failures,
      per_second: round(voters.length / seconds, 1),
      latency_ms: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
      server_cpu_ms_per_operation: round((cpu * 1000) / voters.length, 3),
      bytes_per_connected_subscriber: Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length),
      frames_per_connected_subscriber: listeners[0]!.frames,
    };
  }
  log(`poll: ${opts.votes} votes in a burst`);
  const votes = await burst('vote');
  const results = await owner.message(poll.id);
  log(`poll: baseline, ${opts.votes} reactions in a burst`);
  const reactions = await burst('react');
  for (const l of listeners) l.close();
  const resend = wholePollFrame * votes.operations;
  return {
    subscribers: subs.length,
    connected_subscribers: listeners.length,
    votes,
    votes_counted: results.poll?.voters ?? null,
    message_frame_bytes: Math.round(messageBytes),
    whole_poll_frame_bytes: wholePollFrame,
    bytes_if_whole_message_resent_per_vote: resend,
    ratio_bytes_to_resending_whole_message: round(votes.bytes_per_connected_subscriber / resend, 5),
    baseline_reactions: reactions,
    ratio_votes_per_second_to_reactions: round(votes.per_second / reactions.per_second, 3),
    ratio_cpu_per_vote_to_reaction: round(
      votes.server_cpu_ms_per_operation / reactions.server_cpu_ms_per_operation,
      3,
    ),
  };
}

// ---------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-bots-'));
const result: Record<string, unknown> = {
  benchmark: 'bots',
  date: new Date().toISOString(),
  command: `node --import tsx bench/bots.ts${argv.length ? ` ${argv.join(' ')}` : ''}`,
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, load_at_start: os.loadavg()[0] },
  options: opts,
};
try {
  const server = await startServer(dataDir);
  result.webhooks = await benchWebhooks(server.base);
  result.updates = await benchUpdates(server.base);
  result.poll = await benchPoll(server.base, server.port, server.pid);
  result.load_at_end = os.loadavg()[0];
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
