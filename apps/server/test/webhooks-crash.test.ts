/**
 * Webhook deliveries are durable jobs, not listeners: a real server is killed with SIGKILL while
 * deliveries are waiting and in flight, restarted on the same data, and every message it
 * acknowledged still reaches the receiver — signed, with its stable webhook-id, in conversation
 * order (a delivery may arrive twice: at least once, never lost).
 */
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, createServer as createHttpServer } from 'node:http';
import { MmdClient, MmdError } from '@mmd/sdk';
import { Webhook } from 'standardwebhooks';
import { crashTestOnEachDatabase, freePort, killHard, spawnServer, waitReady } from './child-server.ts';
import { eventually } from './harness.ts';

/** Webhook retries short enough for a test. */
const WEBHOOK_ENV = { MMD_OUTBOUND_ALLOW_PRIVATE: 'true', MMD_WEBHOOK_RETRY_BASE_MS: '50', MMD_WEBHOOK_RETRY_MAX_DELAY_MS: '500' };

async function crashAndRecover(env: Record<string, string>) {
  // The receiver: fails the first requests (a backlog builds up), then answers slowly, so that at
  // the kill some deliveries are done, some waiting and some in flight.
  const received: { headers: IncomingHttpHeaders; body: string; ok: boolean }[] = [];
  let failFirst = 15;
  const rx = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const ok = failFirst-- <= 0;
      received.push({ headers: req.headers, body, ok });
      setTimeout(() => res.writeHead(ok ? 200 : 500).end(), 20);
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  const rxUrl = `http://127.0.0.1:${(rx.address() as { port: number }).port}/hook`;

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv = { ...WEBHOOK_ENV, ...env, MMD_PORT: String(port) };
  let server = spawnServer(serverEnv);
  try {
    await waitReady(url);
    const anonymous = new MmdClient({ baseUrl: url });
    const owner = await anonymous.createAccount({ handle: `owner${port}`, password: 'correct horse battery' });
    const { bot, token } = await anonymous.as(owner.token).createBot({ handle: `crashbot${port}`, name: 'Crash' });
    const hook = await anonymous.as(token).createWebhook({ url: rxUrl, events: ['message.created'] });
    const people = await Promise.all([0, 1].map((i) => anonymous.createAccount({ handle: `p${i}x${port}`, password: 'correct horse battery' })));
    const chats = await Promise.all(people.map((p) => anonymous.as(p.token).openDirect(bot.handle)));

    const total = 120;
    const acknowledged = new Set<string>();
    let next = 0;
    let wasKilled = false;
    const sender = async () => {
      while (next < total) {
        const i = next++;
        if (i === 60 && !wasKilled) {
          wasKilled = true;
          await killHard(server);
        }
        const who = i % 2;
        try {
          await anonymous.as(people[who]!.token).send(chats[who]!.id, { text: `m${i}`, idempotency_key: `k${i}` });
          acknowledged.add(`m${i}`);
        } catch (err) {
          assert.ok(err instanceof MmdError && err.status === 0, `only network failures expected, got ${err}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, sender));
    assert.ok(wasKilled);
    assert.ok(acknowledged.size >= 40, `sends were acknowledged before the crash (${acknowledged.size})`);
    const atKill = received.filter((r) => r.ok).length;
    assert.ok(atKill < acknowledged.size, `deliveries were still owed at the kill (${atKill} of ${acknowledged.size} delivered)`);

    server = spawnServer(serverEnv);
    await waitReady(url);

    const verifier = new Webhook(hook.secret);
    const textOf = (r: { body: string; headers: IncomingHttpHeaders }) => (verifier.verify(r.body, r.headers as Record<string, string>) as { data: { data: { text: string } } }).data.data.text;
    await eventually('every acknowledged message delivered', () => {
      const got = new Set(received.filter((r) => r.ok).map(textOf));
      return [...acknowledged].every((t) => got.has(t));
    }, 90_000);

    // Duplicates (at least once) carry the same webhook-id; per conversation, first arrivals are in send order.
    const idOf = new Map<string, string>();
    for (const r of received) {
      const text = textOf(r);
      const id = String(r.headers['webhook-id']);
      if (idOf.has(text)) assert.equal(idOf.get(text), id, `${text} kept its webhook-id`);
      idOf.set(text, id);
    }
    // Concurrent senders commit in any order; the conversation's order is the messages' seq.
    const seqOf = (r: { body: string }) => (JSON.parse(r.body) as { data: { conversation_id: string; data: { seq: number } } }).data;
    for (const chat of chats) {
      const order = received.filter((r) => r.ok).map(seqOf).filter((e) => e.conversation_id === chat.id).map((e) => e.data.seq);
      const first = order.filter((seq, i) => order.indexOf(seq) === i);
      assert.deepEqual(first, [...first].sort((a, b) => a - b), `conversation ${chat.id} in order`);
    }
    // And the log settles with every delivery sent (one in flight at the check may still be marking).
    await eventually('the log settles', async () => (await anonymous.as(token).webhookDeliveries(hook.id, { limit: 200 })).deliveries.every((d) => d.status === 'succeeded'), 30_000);
  } finally {
    await killHard(server);
    rx.closeAllConnections();
    await new Promise((r) => rx.close(r));
  }
}

crashTestOnEachDatabase('webhook deliveries survive kill -9 and restart', crashAndRecover);
