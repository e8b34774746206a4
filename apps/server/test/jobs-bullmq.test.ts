/**
 * MMD with MMD_QUEUE=bullmq (a cluster node on PostgreSQL and Redis): an upload is processed and a
 * bot's webhook delivered by jobs that ran on BullMQ, and the database held only their outbox
 * rows. Skipped, saying why, without PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { type Database, openDatabase } from '../src/platform/db/index.ts';
import { type Redis, openRedis } from '../src/platform/redis/index.ts';
import { type ClusterNode, REDIS_URL, type TestCluster, clusterSkipReason, startTestCluster } from './cluster-harness.ts';
import { POSTGRES_URL, eventually, uniqueHandle } from './harness.ts';
import { redisPrefix } from '../src/platform/redis/index.ts';

describe('jobs on BullMQ', { skip: clusterSkipReason() }, () => {
  let cluster: TestCluster;
  let node: ClusterNode;
  let db: Database;
  let redis: Redis;

  before(async () => {
    cluster = await startTestCluster();
    node = await cluster.node({ config: { queue: 'bullmq', redisUrl: REDIS_URL, outboundAllowPrivate: true, outboundTimeoutMs: 5000 } });
    db = openDatabase({ databaseUrl: POSTGRES_URL, pgSchema: cluster.schema });
    redis = openRedis(REDIS_URL!);
  });
  after(async () => {
    await db?.close();
    await cluster?.close();
    if (redis) {
      const keys = await redis.keys(`${redisPrefix(cluster.schema)}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  test('an upload is processed and a webhook delivered by BullMQ workers; the database keeps only the outbox', async () => {
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    after(() => new Promise((r) => receiver.close(r)));

    const owner = node.anonymous.as((await node.anonymous.createAccount({ handle: uniqueHandle('bqowner'), password: 'correct horse battery' })).token);
    const { bot, token } = await owner.createBot({ handle: uniqueHandle('bqbot'), name: 'Queued' });
    const botClient = node.anonymous.as(token);
    await botClient.createWebhook({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, events: ['message.created'] });
    const person = node.anonymous.as((await node.anonymous.createAccount({ handle: uniqueHandle('bqperson'), password: 'correct horse battery' })).token);
    const chat = await person.openDirect(bot.handle);
    await person.send(chat.id, { text: 'hello through BullMQ' });

    const photo = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#228844' } }).jpeg().toBuffer();
    const { id } = await person.upload(photo, { filename: 'green.jpg' });
    const item = await person.waitForMedia(id, { timeoutMs: 60_000 });
    assert.equal(item.status, 'ready', item.reason ?? '');
    await eventually('the webhook was delivered', () => bodies.some((b) => b.includes('hello through BullMQ')), 30_000);

    // The jobs ran on BullMQ: their queues are in Redis; the database's jobs table holds only
    // outbox rows, each relayed.
    const prefix = `${redisPrefix(cluster.schema)}bull`;
    assert.ok((await redis.keys(`${prefix}:core:*`)).length > 0, 'the core queue (media) is in Redis');
    assert.ok((await redis.keys(`${prefix}:webhooks:*`)).length > 0, 'the webhooks queue is in Redis');
    const rows = await db.db.selectFrom('jobs').select(['type', 'status']).execute();
    assert.ok(rows.length >= 2);
    assert.deepEqual(rows.filter((r) => !r.type.startsWith('bullmq-relay-')), [], 'only outbox rows in the database');
    assert.ok(rows.some((r) => r.type === 'bullmq-relay-core') && rows.some((r) => r.type === 'bullmq-relay-webhooks'));
    await eventually('every outbox row relayed', async () => (await db.db.selectFrom('jobs').select('id').where('status', '!=', 'succeeded').execute()).length === 0, 30_000);
  });
});
