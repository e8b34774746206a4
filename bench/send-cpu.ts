/**
 * Server CPU per direct text message, in-process: the whole MMD app (buildApp, SQLite at
 * synchronous=FULL, group commit) driven through Fastify's inject(), so no sockets and no load
 * generator in another process compete for the measurement. Less exposed to a shared machine's
 * load than bench:messaging's throughput runs (which count a closed loop's wall-clock rate): CPU
 * time is what this process spent, whoever else runs.
 *
 *   node --import tsx bench/send-cpu.ts [--messages=3000] [--in-flight=50] [--rounds=3] [--dialect=sqlite|postgres]
 *
 * 20 people in 10 direct chats each send in turn; `in-flight` sends are outstanding at once (so
 * writes group as under load). Prints one JSON object: per round, messages, seconds, and CPU per
 * message — the process's (every thread, inject's own client side included) and its event loop
 * thread's (Linux, /proc/thread-self: clock ticks of 10 ms, so read it over thousands of messages).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { startTestServer } from '../apps/server/test/harness.ts';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const messages = Number(arg('messages', '3000'));
const inFlight = Number(arg('in-flight', '50'));
const rounds = Number(arg('rounds', '3'));
const dialect = arg('dialect', 'sqlite') as 'sqlite' | 'postgres';

function threadCpuMs() {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// The test harness opens SQLite at the default synchronous=FULL.
const server = await startTestServer({ dialect });
try {
  const senders: { token: string; chatId: string }[] = [];
  for (let i = 0; i < 10; i++) {
    const a = await server.signUp();
    const b = await server.signUp();
    const chat = await a.client.openDirect(b.handle);
    senders.push({ token: a.token, chatId: chat.id }, { token: b.token, chatId: chat.id });
  }
  const send = async (i: number) => {
    const s = senders[i % senders.length]!;
    const res = await server.app.inject({
      method: 'POST',
      url: `/v1/conversations/${s.chatId}/messages`,
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ text: `message ${i} lorem ipsum dolor sit amet, consectetur adipiscing elit` }),
    });
    if (res.statusCode !== 201) throw new Error(`send ${i}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  };
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count) await send(next++);
      }),
    );
  };
  await run(500); // warm-up: JIT, statement caches, session cache
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const thread0 = threadCpuMs();
    const t0 = performance.now();
    await run(messages);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    results.push({
      messages,
      seconds: Math.round(seconds * 100) / 100,
      per_s: Math.round(messages / seconds),
      process_cpu_ms_per_message: Math.round(((cpu.user + cpu.system) / 1000 / messages) * 1000) / 1000,
      event_loop_cpu_ms_per_message: Math.round(((threadCpuMs() - thread0) / messages) * 1000) / 1000,
    });
    console.error(`round ${r + 1}/${rounds}: ${JSON.stringify(results.at(-1))}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    JSON.stringify({
      what: 'direct text messages through the whole app via inject(), SQLite synchronous=FULL, group commit',
      dialect,
      in_flight: inFlight,
      load_average: os.loadavg().map((x) => Math.round(x * 10) / 10),
      rounds: results,
      median_process_cpu_ms_per_message: median(results.map((r) => r.process_cpu_ms_per_message)),
      median_event_loop_cpu_ms_per_message: median(results.map((r) => r.event_loop_cpu_ms_per_message)),
    }),
  );
} finally {
  await server.close();
}
