/**
 * bench:messaging client process: holds up to a few thousand WebSocket connections opened with the
 * raw `ws` package, parses every frame, and reports over IPC when each `message.created` event
 * arrived (process.hrtime: CLOCK_MONOTONIC, the same clock in every process on the machine).
 *
 * Parent → child: {t:'connect', clients:[{i,url}], ack, concurrency, timeoutMs}, {t:'ack', on},
 * {t:'disconnect'}, {t:'exit'}.
 * Child → parent: {t:'hello'}, {t:'connected', ok, failed, nodes}, {t:'recv', c, k, at}, {t:'other', counts},
 * {t:'closed', i, code, reason}, {t:'frame_error', i, code, detail}, {t:'ack_set'}, {t:'disconnected'}.
 * The message tag is the first word of the message text. `nodes` lists [i, name] for each client
 * whose upgrade response named the node that took it (`x-mmd-node`, set by bench:cluster's HAProxy).
 */
import { WebSocket } from 'ws';

interface Client {
  i: number;
  ws: WebSocket;
  cursor: number;
  ackTimer: NodeJS.Timeout | null;
  ready: boolean;
  leaving: boolean;
}

type ParentMessage =
  | {
      t: 'connect';
      clients: { i: number; url: string }[];
      ack: boolean;
      concurrency: number;
      timeoutMs: number;
    }
  | { t: 'ack'; on: boolean }
  | { t: 'disconnect' }
  | { t: 'exit' };

const now = () => Number(process.hrtime.bigint()) / 1e6;
const send = (m: object) => {
  if (process.connected) process.send!(m);
};

const clients = new Map<number, Client>();
let ack = true;
/** [client, node] pairs from upgrade responses since the last `connect` answer. */
let nodes: [number, string][] = [];

// Receipts are batched: one IPC message every 20 ms at most.
let batchC: number[] = [];
let batchK: string[] = [];
let batchAt: number[] = [];
const otherCounts: Record<string, number> = {};
let otherDirty = false;
const flusher = setInterval(() => {
  if (batchC.length > 0) {
    send({ t: 'recv', c: batchC, k: batchK, at: batchAt });
    batchC = [];
    batchK = [];
    batchAt = [];
  }
  if (otherDirty) {
    otherDirty = false;
    send({ t: 'other', counts: { ...otherCounts } });
  }
}, 20);

interface Frame {
  type?: string;
  cursor?: number;
  code?: string;
  detail?: string;
  event?: { cursor: number; type: string; data?: { text?: string | null } };
}

function onFrame(client: Client, data: Buffer, at: number, onReady: () => void) {
  let frame: Frame;
  try {
    frame = JSON.parse(data.toString()) as Frame;
  } catch {
    otherCounts.malformed = (otherCounts.malformed ?? 0) + 1;
    otherDirty = true;
    return;
  }
  if (frame.type === 'event' && frame.event) {
    const e = frame.event;
    if (e.type === 'message.created') {
      const text = e.data?.text ?? '';
      const space = text.indexOf(' ');
      batchC.push(client.i);
      batchK.push(space < 0 ? text : text.slice(0, space));
      batchAt.push(at);
    } else {
      otherCounts[e.type] = (otherCounts[e.type] ?? 0) + 1;
      otherDirty = true;
    }
    if (e.cursor > client.cursor) client.cursor = e.cursor;
    // Acknowledge like the SDK does: at most one ack per 200 ms per connection.
    if (ack && !client.ackTimer) {
      client.ackTimer = setTimeout(() => {
        client.ackTimer = null;
        if (client.ws.readyState === WebSocket.OPEN)
          client.ws.send(`{"type":"ack","cursor":${client.cursor}}`);
      }, 200);
    }
  } else if (frame.type === 'ready') {
    client.cursor = Math.max(client.cursor, frame.cursor ?? 0);
    if (!client.ready) {
      client.ready = true;
      onReady();
    }
  } else if (frame.type === 'error') {
    send({ t: 'frame_error', i: client.i, code: frame.code, detail: frame.detail });
  }
}

function open(i: number, url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(error);
    };
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const client: Client = { i, ws, cursor: 0, ackTimer: null, ready: false, leaving: false };
    clients.set(i, client);
    const timer = setTimeout(() => {
      settle('timeout waiting for the ready frame');
      ws.terminate();
    }, timeoutMs);
    ws.on('upgrade', (res) => {
      const node = res.headers['x-mmd-node'];
      if (typeof node === 'string') nodes.push([i, node]);
    });
    ws.on('message', (data: Buffer) => onFrame(client, data, now(), () => settle(null)));
    ws.on('error', (err) => settle(`error: ${err.message}`));
    ws.on('close', (code, reason) => {
      if (client.ackTimer) clearTimeout(client.ackTimer);
      if (clients.get(i) === client) clients.delete(i);
      settle(`closed ${code} ${reason.toString()}`);
      if (!client.leaving) send({ t: 'closed', i, code, reason: reason.toString() });
    });
  });
}

async function connect(list: { i: number; url: string }[], concurrency: number, timeoutMs: number) {
  const failed: { i: number; reason: string }[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, list.length) }, async () => {
    while (next < list.length) {
      const c = list[next++]!;
      const error = await open(c.i, c.url, timeoutMs);
      if (error) failed.push({ i: c.i, reason: error });
    }
  });
  await Promise.all(lanes);
  const tagged = nodes;
  nodes = [];
  return { ok: list.length - failed.length, failed: failed.slice(0, 20), failedCount: failed.length, nodes: tagged };
}

async function disconnect() {
  const all = [...clients.values()];
  const closed = all.map(
    (c) =>
      new Promise<void>((resolve) => {
        c.leaving = true;
        if (c.ackTimer) clearTimeout(c.ackTimer);
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        c.ws.terminate();
      }),
  );
  await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 10_000))]);
  clients.clear();
}

process.on('message', (raw) => {
  const m = raw as ParentMessage;
  if (m.t === 'connect') {
    ack = m.ack;
    void connect(m.clients, m.concurrency, m.timeoutMs).then((r) => send({ t: 'connected', ...r }));
  } else if (m.t === 'ack') {
    ack = m.on;
    send({ t: 'ack_set' });
  } else if (m.t === 'disconnect') {
    void disconnect().then(() => send({ t: 'disconnected' }));
  } else if (m.t === 'exit') {
    clearInterval(flusher);
    for (const c of clients.values()) c.ws.terminate();
    process.exit(0);
  }
});
// The parent went away (crash or kill): leave with it.
process.on('disconnect', () => process.exit(0));
send({ t: 'hello', pid: process.pid });
