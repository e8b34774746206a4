/**
 * bench:web — what the web app adds on top of the messaging core, in real Chromium, in one run.
 *
 *   node --import tsx bench/web.ts [--messages=100] [--conversations=300] [--history=2000]
 *
 * Starts an MMD server (embedded SQLite, in this process) and Debian's Chromium, then measures:
 *  1. send → seen latency between two people in two browser tabs: Alice presses Enter, Bob's open
 *     chat shows the message (timed inside Bob's page with performance.now() against a shared
 *     clock); baseline: the same chat, SDK → SDK stream in Node, measured in the same run;
 *  2. page load → conversation list on screen, for an account with `conversations` chats
 *     (cold and warm cache); baseline: the same API calls (state + list) from Node;
 *  3. opening a chat with `history` messages: time to the newest page on screen, and the page's
 *     JS heap after scrolling back through the whole history;
 *  4. the initial download: JavaScript and CSS bytes before the list shows, decoded and on the wire
 *     (the build's brotli copies).
 * Prints one JSON object on stdout; progress on stderr.
 */
import type { Page } from 'playwright-core';
import { startTestServer } from '../apps/server/test/harness.ts';
import { DESKTOP, buildWebApp, launchBrowser, signedIn } from '../e2e/browser.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const MESSAGES = Number(args.messages ?? 100);
const CONVERSATIONS = Number(args.conversations ?? 300);
const HISTORY = Number(args.history ?? 2000);

const log = (...parts: unknown[]) => console.error('[bench:web]', ...parts);
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (n: number) => Math.round(n * 10) / 10;
const summary = (values: number[]) => ({ n: values.length, p50_ms: ms(pct(values, 50)), p90_ms: ms(pct(values, 90)), p99_ms: ms(pct(values, 99)), max_ms: ms(Math.max(...values)) });

buildWebApp();
const server = await startTestServer({ dialect: 'sqlite', config: { sqliteSynchronous: 'full' } });
const browser = await launchBrowser();
const result: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, model: (await import('node:os')).cpus()[0]?.model, node: process.version } };
try {
  // 1. Latency, browser to browser vs SDK to SDK.
  const alice = await server.signUp();
  const bob = await server.signUp();
  const chat = await alice.client.openDirect(bob.handle);
  await alice.client.send(chat.id, { text: 'warm-up' });

  log('SDK → SDK baseline');
  const sdkLatencies: number[] = [];
  {
    const seen = new Map<string, number>();
    const stream = bob.client.stream({ cursor: await bob.client.updatesState(), onEvent: (e) => {
      const text = (e.data as { text?: string }).text;
      if (e.type === 'message.created' && text) seen.set(text, performance.now());
    } });
    await stream.ready;
    for (let i = 0; i < MESSAGES; i++) {
      const text = `sdk ${i}`;
      const start = performance.now();
      await alice.client.send(chat.id, { text });
      while (!seen.has(text)) await new Promise((r) => setTimeout(r, 1));
      sdkLatencies.push(seen.get(text)! - start);
    }
    stream.close();
  }

  log('browser → browser');
  const a = await signedIn(browser, server, alice, DESKTOP);
  const b = await signedIn(browser, server, bob, DESKTOP);
  for (const page of [a.page, b.page]) {
    await page.goto(`${server.url}/chats/${chat.id}`);
    await page.getByRole('log', { name: 'Messages' }).getByText(`sdk ${MESSAGES - 1}`, { exact: true }).waitFor();
  }
  // Bob's page notes when each text appears; both tabs share the machine's clock (Date.now()).
  await b.page.evaluate(() => {
    const seen: Record<string, number> = {};
    (window as unknown as { seen: Record<string, number> }).seen = seen;
    new MutationObserver(() => {
      for (const p of document.querySelectorAll('[role="log"] p.text')) {
        const text = p.textContent ?? '';
        if (text.startsWith('web ') && !(text in seen)) seen[text] = performance.timeOrigin + performance.now();
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const composer = a.page.getByLabel('Message', { exact: true });
  const webLatencies: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const text = `web ${i}`;
    await composer.fill(text);
    // Enter is dispatched inside the page, timed there: Playwright's press() first waits for the
    // element to be stable over two animation frames, which would be counted as app latency.
    const start = await a.page.evaluate(() => {
      const field = document.querySelector('textarea');
      const at = performance.timeOrigin + performance.now();
      field?.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      return at;
    });
    const seenAt = await b.page.waitForFunction((t) => (window as unknown as { seen: Record<string, number> }).seen[t], text, { polling: 'raf' });
    webLatencies.push(((await seenAt.jsonValue()) as number) - start);
  }
  result.latency = { browser_to_browser: summary(webLatencies), sdk_to_sdk: summary(sdkLatencies), ratio_p50: ms(pct(webLatencies, 50) / pct(sdkLatencies, 50)) };
  log(result.latency);
  await a.context.close();
  await b.context.close();

  // 2. Load time with many conversations.
  log(`${CONVERSATIONS} conversations`);
  const busy = await server.signUp();
  const others = await Promise.all(Array.from({ length: 20 }, () => server.signUp()));
  for (let i = 0; i < CONVERSATIONS; i++) {
    const c = i < others.length
      ? await busy.client.openDirect(others[i]!.handle)
      : await busy.client.createConversation({ kind: 'group', title: `Group ${i}`, members: [others[i % others.length]!.handle] });
    await busy.client.send(c.id, { text: `hello ${i}` });
  }
  const apiTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await busy.client.updatesState();
    await busy.client.conversations();
    apiTimes.push(performance.now() - start);
  }
  const b2 = await signedIn(browser, server, busy, DESKTOP);
  const loadTimes: { cold: number; warm: number[] } = { cold: 0, warm: [] };
  const bytes = { js: 0, css: 0, js_wire: 0, css_wire: 0 };
  const measureLoad = async (page: Page, record: boolean) => {
    const seenResponses: Promise<void>[] = [];
    if (record)
      page.on('response', (r) => {
        const type = r.headers()['content-type'] ?? '';
        if (!/javascript|css/.test(type)) return;
        seenResponses.push(r.body().then((body) => {
          const key = type.includes('css') ? 'css' : 'js';
          bytes[key] += body.length;
          // On the wire: the build's precompressed copy when the browser accepts it.
          bytes[`${key}_wire`] += Number(r.headers()['content-length'] ?? body.length);
        }).catch(() => {}));
      });
    const start = Date.now();
    await page.goto(server.url);
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link').first().waitFor();
    const elapsed = Date.now() - start;
    await Promise.all(seenResponses);
    return elapsed;
  };
  const coldContext = await browser.newContext({ viewport: DESKTOP });
  await coldContext.addInitScript((t) => window.localStorage.setItem('mmd.token', t), busy.token);
  loadTimes.cold = await measureLoad(await coldContext.newPage(), true);
  await coldContext.close();
  for (let i = 0; i < 5; i++) loadTimes.warm.push(await measureLoad(b2.page, false));
  const listed = await b2.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link').count();
  result.load = { conversations: CONVERSATIONS, listed, cold_ms: loadTimes.cold, warm_p50_ms: pct(loadTimes.warm, 50), api_only_p50_ms: ms(pct(apiTimes, 50)), ratio_warm_vs_api: ms(pct(loadTimes.warm, 50) / pct(apiTimes, 50)) };
  result.initial_download = { js_bytes: bytes.js, js_on_wire_bytes: bytes.js_wire, css_bytes: bytes.css, css_on_wire_bytes: bytes.css_wire };
  log(result.load, result.initial_download);
  await b2.context.close();

  // 3. A long history: first page time, then scroll back through it all and read the heap.
  log(`${HISTORY} messages of history`);
  const reader = await server.signUp();
  const writer = await server.signUp();
  const long = await writer.client.openDirect(reader.handle);
  for (let i = 1; i <= HISTORY; i++) await writer.client.send(long.id, { text: `line ${i} ${'lorem ipsum '.repeat(i % 7)}` });
  const r = await signedIn(browser, server, reader, DESKTOP);
  const cdp = await r.context.newCDPSession(r.page);
  const openStart = Date.now();
  await r.page.goto(`${server.url}/chats/${long.id}`);
  await r.page.getByRole('log', { name: 'Messages' }).getByText(`line ${HISTORY} `).waitFor();
  const firstPage = Date.now() - openStart;
  const scrollStart = Date.now();
  const messages = r.page.getByRole('log', { name: 'Messages' });
  while ((await messages.getByText('Beginning of the conversation').count()) === 0) {
    await messages.evaluate((el) => el.scrollTo(0, 0));
    await r.page.waitForTimeout(50);
  }
  const scrollAll = Date.now() - scrollStart;
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const rendered = await messages.locator('[data-message-id]').count();
  result.history = { messages: HISTORY, rendered, first_page_ms: firstPage, scroll_to_start_ms: scrollAll, js_heap_mib: ms(heap.usedSize / 2 ** 20), heap_bytes_per_message: Math.round(heap.usedSize / rendered) };
  log(result.history);
  await r.context.close();
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(result, null, 2));
