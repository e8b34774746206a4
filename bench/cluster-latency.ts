/**
 * bench:cluster-latency — how much later an event reaches a stream on another API node (through
 * Redis) than one on the node that took the send, in one run on this machine.
 *
 *   MMD_TEST_POSTGRES_URL=postgres://… MMD_TEST_REDIS_URL=redis://… \
 *     node --import tsx bench/cluster-latency.ts [--sends=300]
 *
 * Two API nodes in this process on one PostgreSQL schema and one Redis (the cluster test's
 * harness; database polls a minute apart). One sender on node A posts to a group one message at
 * a time; one member streams from node A (the baseline: the in-process bus), another from node B.
 * For each send: send start → arrival on A's stream, send start → arrival on B's stream, and B
 * minus A (the Redis hop and B's dispatch). Prints one JSON object (p50/p99/max in ms).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { startTestCluster } from '../apps/server/test/cluster-harness.ts';
import { uniqueHandle } from '../apps/server/test/harness.ts';

const sends = Number(process.argv.find((a) => a.startsWith('--sends='))?.slice(8) ?? 300);
if (!process.env.MMD_TEST_POSTGRES_URL || !process.env.MMD_TEST_REDIS_URL) {
  console.error('set MMD_TEST_POSTGRES_URL and MMD_TEST_REDIS_URL');
  process.exit(2);
}

const cluster = await startTestCluster();
try {
  const a = await cluster.node();
  const b = await cluster.node();
  const account = async () => {
    const handle = uniqueHandle('lat');
    const created = await a.anonymous.createAccount({ handle, password: 'correct horse battery' });
    return { handle, token: created.token };
  };
  const [sender, onA, onB] = [await account(), await account(), await account()];
  const alice = a.anonymous.as(sender.token);
  const group = await alice.createConversation({ kind: 'group', title: 'latency', members: [onA.handle, onB.handle] });
  const arrivals = { a: new Map<string, number>(), b: new Map<string, number>() };
  const listen = (node: typeof a, token: string, into: Map<string, number>) =>
    node.anonymous.as(token).stream({
      onEvent: (e) => {
        if (e.type === 'message.created') into.set((e.data as { text: string }).text, performance.now());
      },
    });
  const streams = [listen(a, onA.token, arrivals.a), listen(b, onB.token, arrivals.b)];
  await Promise.all(streams.map((s) => s.ready));

  const sameNode: number[] = [];
  const crossNode: number[] = [];
  const hop: number[] = [];
  for (let i = 0; i < sends + 20; i++) {
    const text = `m${i}`;
    const started = performance.now();
    await alice.send(group.id, { text });
    while (!arrivals.a.has(text) || !arrivals.b.has(text)) await new Promise((r) => setTimeout(r, 1));
    if (i < 20) continue; // warm-up
    sameNode.push(arrivals.a.get(text)! - started);
    crossNode.push(arrivals.b.get(text)! - started);
    hop.push(arrivals.b.get(text)! - arrivals.a.get(text)!);
  }
  for (const s of streams) s.close();
  const summary = (xs: number[]) => {
    const sorted = [...xs].sort((x, y) => x - y);
    const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
    return { p50: at(0.5), p99: at(0.99), max: Number(sorted.at(-1)!.toFixed(2)) };
  };
  const same = summary(sameNode);
  const cross = summary(crossNode);
  console.log(
    JSON.stringify(
      {
        bench: 'cluster-latency',
        machine: { cpus: os.cpus().length, load: os.loadavg().map((l) => Number(l.toFixed(2))) },
        sends,
        sendToSameNodeStreamMs: same,
        sendToOtherNodeStreamMs: cross,
        otherNodeMinusSameNodeMs: summary(hop),
        ratioP50: Number((cross.p50 / same.p50).toFixed(2)),
        ratioP99: Number((cross.p99 / same.p99).toFixed(2)),
      },
      null,
      2,
    ),
  );
} finally {
  await cluster.close();
}
process.exit(0);
