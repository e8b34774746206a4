/**
 * bench:messaging baselines, each run as a child process (`broadcast` or `insert <dir>`), reporting
 * its port over IPC as {t:'listening', port, pid}.
 *
 * broadcast: a bare `ws` WebSocketServer (plain HTTP requests answer 200, for health checks). Subscribers get {"type":"ready"} on connecting; a
 *   publisher (?role=pub) sends {"tag":…}; the server parses it, serialises one frame shaped and
 *   sized like an MMD message.created event, and sends that same string to every subscriber.
 *   This is about the least work a Node process can do to fan a message out over WebSocket.
 * insert: a bare Fastify route, POST /insert {text}, inserting one row into a better-sqlite3 table
 *   in WAL mode with synchronous=FULL (MMD's default durability: one fsync per commit).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';

const mode = process.argv[2];
const send = (m: object) => {
  if (process.connected) process.send!(m);
};
process.on('disconnect', () => process.exit(0));

if (mode === 'broadcast') {
  // Plain HTTP requests get 200 (a load balancer's health check: bench:cluster puts HAProxy in front).
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 16 * 1024 });
  const subscribers = new Set<WebSocket>();
  let cursor = 0;
  wss.on('connection', (ws, req) => {
    const pub = req.url?.includes('role=pub') ?? false;
    ws.on('error', () => {});
    if (!pub) {
      subscribers.add(ws);
      ws.on('close', () => subscribers.delete(ws));
      ws.send('{"type":"ready","cursor":0}');
      return;
    }
    ws.on('message', (data: Buffer) => {
      const { tag } = JSON.parse(data.toString()) as { tag: string };
      const at = Date.now();
      cursor++;
      const frame = JSON.stringify({
        type: 'event',
        event: {
          cursor,
          type: 'message.created',
          conversation_id: 'cnv_baselinebaselinebase',
          at,
          data: {
            id: `msg_${randomBytes(12).toString('base64url')}`,
            conversation_id: 'cnv_baselinebaselinebase',
            seq: cursor,
            sender_id: 'acc_baselinebaselinebase',
            sender_handle: 'owner',
            text: `${tag} ${'x'.repeat(60)}`,
            reply_to: null,
            forward: null,
            reactions: [],
            created_at: at,
            edited_at: null,
            deleted: false,
          },
        },
      });
      const t0 = process.hrtime.bigint();
      for (const s of subscribers) s.send(frame);
      send({ t: 'broadcast', ms: Number(process.hrtime.bigint() - t0) / 1e6, sockets: subscribers.size });
    });
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () =>
    send({ t: 'listening', port: (server.address() as { port: number }).port, pid: process.pid }),
  );
} else if (mode === 'insert') {
  const dir = process.argv[3];
  if (!dir) throw new Error('usage: insert <dir>');
  const db = new BetterSqlite3(path.join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'create table if not exists messages (id text primary key, text text not null, created_at integer not null)',
  );
  const insert = db.prepare('insert into messages (id, text, created_at) values (?, ?, ?)');
  const app = Fastify({ logger: false });
  app.post('/insert', async (request, reply) => {
    const { text } = request.body as { text: string };
    const id = `msg_${randomBytes(12).toString('base64url')}`;
    const at = Date.now();
    insert.run(id, text, at);
    return reply.status(201).send({ id, text, created_at: at });
  });
  const close = () => {
    void app.close().then(() => {
      db.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  await app.listen({ host: '127.0.0.1', port: 0 });
  send({ t: 'listening', port: (app.server.address() as { port: number }).port, pid: process.pid });
} else {
  console.error('usage: messaging-baselines.ts broadcast | insert <dir>');
  process.exit(2);
}
