/**
 * The WebSocket side of bench:campaigns, in a process of its own (a process holds ~20,000 open
 * files here: 10,000 sockets need one process for the server's ends and another for these):
 *
 *   node --import tsx bench/campaigns-clients.ts <ws base url> <tokens file> <business account id>
 *
 * Opens one /v1/stream per token (200 connecting at a time), prints `{"ready":N}` on
 * stdout once all are open (or refused), then for each socket records how long after the message
 * was created (its created_at, the server's clock on this same machine) the business's
 * message.created event reached it. On SIGTERM, or once every socket has one, prints the summary
 * as one JSON line on stdout and exits.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';

const [base, tokensFile, businessId] = process.argv.slice(2);
if (!base || !tokensFile || !businessId) throw new Error('usage: campaigns-clients.ts <ws base> <tokens file> <business id>');
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
const delays: number[] = [];
const got = new Set<number>();
let refused = 0;
let closedEarly = 0;
const sockets: WebSocket[] = [];

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base}/v1/stream?token=${encodeURIComponent(tokens[i]!)}`, { perMessageDeflate: false });
    let ready = false;
    let readyAt = 0;
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; event?: { type: string; data?: { sender_id?: string; created_at?: number } } };
      if (frame.type === 'ready') {
        ready = true;
        readyAt = Date.now();
        return resolve();
      }
      const e = frame.event;
      // Only what is sent after this socket was ready: a new device's stream first replays the
      // backlog (an earlier campaign's message, say) before its ready frame.
      if (!ready || Number(e?.data?.created_at) < readyAt) return;
      if (e?.type === 'message.created' && e.data?.sender_id === businessId && !got.has(i)) {
        got.add(i);
        delays.push(Date.now() - Number(e.data?.created_at));
        if (got.size === tokens.length) finish();
      }
    });
    ws.on('error', () => {
      if (!ready) {
        refused++;
        resolve();
      }
    });
    ws.on('close', () => {
      if (ready) closedEarly++;
    });
    sockets.push(ws);
  });
}

function pct(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  process.stdout.write(
    `${JSON.stringify({ sockets: tokens.length, refused, closed_early: closedEarly, received: got.size, delay_ms: { p50: pct(delays, 50), p99: pct(delays, 99), max: pct(delays, 100) }, memory_rss_mb: Math.round(process.memoryUsage.rss() / 1048576) })}\n`,
  );
  for (const s of sockets) s.terminate();
  process.exit(0);
}
process.on('SIGTERM', finish);

const limit = 200;
let next = 0;
await Promise.all(
  Array.from({ length: limit }, async () => {
    for (;;) {
      const i = next++;
      if (i >= tokens.length) return;
      await open(i);
    }
  }),
);
process.stdout.write(`${JSON.stringify({ ready: tokens.length - refused, refused })}\n`);
