/**
 * bench:campaigns — what business messaging at a million recipients costs on this machine, with
 * the baseline measured in the same run.
 *
 *   npm run bench:campaigns -- [--only=render,import,campaign,sockets] [--contacts=1000000]
 *     [--renders=40] [--sockets=10000] [--batch=1000] [--throttle=5000] [--world=<dir>]
 *
 * BENCH_SERVER_ENV='MMD_HEAP_GROWING_PERCENT=0,…' passes settings to the server under test.
 *
 * --world=<dir> keeps the imported world (accounts, business, contacts) in <dir> after an import,
 * and a later run whose --only leaves out import starts its campaign from a copy of it (same
 * --contacts), so the campaign can be measured again without importing a million rows again.
 *
 * Every part runs MMD's own code on embedded SQLite at the default durability (WAL,
 * synchronous=FULL), never a reimplementation, and each can run alone (`--only render`):
 *  - baseline: the bare cost of inserting the same number of rows in batches (one transaction per
 *    `--batch` rows, one prepared statement) with better-sqlite3 into a fresh table with the real
 *    table's columns and indexes (its DDL copied from a migrated MMD database), same pragmas;
 *  - render: personalised images through the templates capability (`templates.personalise`: the
 *    base and layers resolved, the cache looked up by content hash, drawn with sharp + Pango,
 *    ingested through media's ladder, recorded) — cache misses (each render a different name)
 *    and cache hits (the same specs again), with drawOverImage alone and sharp re-encoding the
 *    base as the floors;
 *  - import: N contacts through POST /v1/business/contacts/import and its job (a real server in a
 *    child process; peak RSS is its VmHWM), the N handles created first as accounts;
 *  - campaign: a personalised text campaign to all of them (planning, messages/s, p99 delay
 *    behind the schedule, peak RSS, disk bytes per recipient);
 *  - sockets: the same while 10,000 of them are connected over WebSocket (clients in a child process).
 * A part whose code is not on main yet is reported as "not run: <why>", never estimated.
 * Prints ONE JSON object on stdout; progress goes to stderr.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { cpSync, createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { hash as argon2Hash } from '@node-rs/argon2';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { handleKeys } from '../apps/server/src/accounts/handles.ts';
import { buildApp } from '../apps/server/src/app.ts';
import { newId } from '../apps/server/src/lib/ids.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { loadMedia } from '../apps/server/src/media/index.ts';
import { openDatabase } from '../apps/server/src/platform/db/index.ts';
import { createLocalEventBus } from '../apps/server/src/platform/pubsub/index.ts';
import { drawOverImage } from '../apps/server/src/templates/index.ts';
import { argOptions, benchServerSettings, freePort, pool, serverEnv, track, waitReady } from './lib/harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const PARTS = ['render', 'import', 'campaign', 'sockets'] as const;
type Part = (typeof PARTS)[number];

// ---------------------------------------------------------------------------------------------
// Options: --name=value or --name value

const argv = process.argv.slice(2);
const { option, count } = argOptions(argv);
const only = (option('only') ?? PARTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part "${p}" (one or more of ${PARTS.join(', ')})`);
const opts = {
  only: only as Part[],
  contacts: count('contacts', 1_000_000),
  renders: count('renders', 40),
  sockets: count('sockets', 10_000),
  batch: count('batch', 1000),
  throttle: count('throttle', 5000),
  /** A folder keeping the imported world between runs: the campaign and sockets parts start from a copy of it. */
  world: option('world'),
};

const log = (...m: unknown[]) => process.stderr.write(`[bench:campaigns] ${m.join(' ')}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** Peak resident memory of a process (kernel's high-water mark), in bytes. */
function vmHwm(pid: number | 'self'): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples this process's RSS every 100 ms; `stop()` gives the largest sample. */
function rssSampler() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A migrated MMD database: the real tables' DDL for the baselines

let migratedTemplate: string | null = null;
/** Path of an SQLite file migrated by MMD's own migrations (made once per run). */
async function migratedDatabase(scratch: string): Promise<string> {
  if (migratedTemplate) return migratedTemplate;
  const file = path.join(scratch, 'migrated.sqlite');
  const db = openDatabase({ sqlitePath: file });
  await db.migrate();
  await db.close();
  migratedTemplate = file;
  return file;
}

/**
 * The baseline: `rows` rows inserted into a fresh copy of MMD's `table` (same columns, constraints
 * and indexes, foreign keys not enforced) in transactions of `batch` rows through one prepared
 * statement, at MMD's pragmas (WAL, synchronous=FULL). Text columns get random 16-character
 * id-like values (MMD's ids are random, so index inserts land as randomly as the real ones);
 * numbers get timestamps.
 */
async function baselineInsert(scratch: string, table: string, rows: number, batch: number) {
  const template = new BetterSqlite3(await migratedDatabase(scratch), { readonly: true });
  const ddl = template
    .prepare("select sql from sqlite_master where tbl_name = ? and sql is not null order by type = 'table' desc, name")
    .all(table) as { sql: string }[];
  const columns = template.prepare(`select name, type from pragma_table_info(?) order by cid`).all(table) as { name: string; type: string }[];
  template.close();
  if (ddl.length === 0) throw new Error(`no table ${table} in MMD's schema`);
  const file = path.join(scratch, `baseline-${table}-${Date.now()}.sqlite`);
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = OFF');
  for (const s of ddl) db.exec(s.sql);
  const insert = db.prepare(`insert into ${table} (${columns.map((c) => `"${c.name}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  const numeric = columns.map((c) => /int|real|double|num/i.test(c.type));
  // Random values come from a refilled buffer: a randomBytes call per value (~15 µs here) would
  // cost more than the insert and the baseline would measure the generator.
  const random = randomBytes(1 << 20);
  let offset = 0;
  const randomId = () => {
    if (offset + 12 > random.length) {
      randomFillSync(random);
      offset = 0;
    }
    offset += 12;
    return random.toString('base64url', offset - 12, offset);
  };
  const insertBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const at = 1_780_000_000_000 + i;
      insert.run(numeric.map((isNumber) => (isNumber ? at : randomId())));
    }
  });
  const sizeBefore = statSync(file).size;
  const t0 = performance.now();
  for (let i = 0; i < rows; i += batch) insertBatch(i, Math.min(rows, i + batch));
  const seconds = (performance.now() - t0) / 1000;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const bytes = statSync(file).size - sizeBefore;
  rmSync(file, { force: true });
  return {
    table,
    columns: columns.length,
    indexes: ddl.length - 1,
    rows,
    batch,
    seconds: round(seconds, 2),
    rows_per_second: Math.round(rows / seconds),
    disk_bytes_per_row: round(bytes / rows, 1),
  };
}

// ---------------------------------------------------------------------------------------------
// render: personalised images through templates.personalise

async function benchRender(scratch: string) {
  const dir = mkdtempSync(path.join(scratch, 'render-'));
  const config = loadConfig({}, { dataDir: dir, port: 0, host: '127.0.0.1', argon2MemoryKib: 1024, argon2Iterations: 1 });
  const db = openDatabase({ sqlitePath: path.join(dir, 'mmd.sqlite'), sqliteSynchronous: config.sqliteSynchronous });
  await db.migrate();
  const { app, services } = await buildApp({ config, db, bus: createLocalEventBus(), logger: false });
  await app.ready();
  try {
    const business = await services.accounts.createAccount({ handle: `benchshop${Date.now().toString(36)}`, password: 'a bench password that is long enough', kind: 'business' });
    const businessId = business.account.id;

    // The business's base picture and product photo, uploaded as media items and processed.
    const baseBytes = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#1d3557' } })
      .composite([{ input: await sharp({ create: { width: 600, height: 300, channels: 3, background: '#457b9d' } }).png().toBuffer(), left: 40, top: 380 }])
      .jpeg({ quality: 85 })
      .toBuffer();
    const productBytes = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#e63946' } }).jpeg().toBuffer();
    const ingestReady = async (bytes: Buffer, name: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      const { id } = await services.media.ingest(businessId, file, name);
      return waitMediaReady(id);
    };
    async function waitMediaReady(id: string, ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const row = await loadMedia(db.db, id);
        if (row?.status === 'ready') return id;
        if (row?.status === 'failed' || row?.status === 'removed') throw new Error(`media ${id} is ${row.status}`);
        if (Date.now() > deadline) throw new Error(`media ${id} not ready within ${ms} ms`);
        await sleep(50);
      }
    }
    const baseId = await ingestReady(baseBytes, 'base.jpg');
    const productId = await ingestReady(productBytes, 'product.jpg');

    const names = ['Ann', 'Zoé', 'Jörg', 'Bartholomew-Maximilian', 'Li', 'Ngozi', 'Søren', 'Ana María'];
    const nameOf = (i: number) => `${names[i % names.length]} ${i}`;
    const textLayer = (i: number) => ({ type: 'text' as const, text: `${nameOf(i)}: your code SAVE20`, x: 40, y: 40, font_size: 64, color: '#ffffff', max_width: 700, max_lines: 2 });
    const specFor = (i: number) => ({
      base_media_id: baseId,
      layers: [textLayer(i), { type: 'image' as const, media_id: productId, x: 900, y: 380, width: 300, height: 300 }],
    });
    const n = opts.renders;
    const inFlight = 4;
    const specs = Array.from({ length: n }, (_, i) => specFor(i));

    async function personaliseAll(label: string) {
      const results: { mediaId: string; cached: boolean }[] = [];
      const t0 = performance.now();
      await pool(specs, inFlight, async (spec, i) => {
        const r = await services.templates.personalise(businessId, spec);
        if (!r.ok) throw new Error(`${label} render ${i} refused: ${r.reason}`);
        results[i] = { mediaId: r.mediaId, cached: r.cached };
      });
      return { results, seconds: (performance.now() - t0) / 1000 };
    }

    log(`render: ${n} personalised images, each a different name (cache misses)`);
    const misses = await personaliseAll('miss');
    if (misses.results.some((r) => r.cached)) throw new Error('a first render was reported as cached');
    // Each new render is an ordinary media item: the ladder makes its renditions after the call.
    const tLadder = performance.now();
    for (const r of misses.results) await waitMediaReady(r.mediaId);
    const ladderSeconds = misses.seconds + (performance.now() - tLadder) / 1000;
    log(`render: the same ${n} specs again (cache hits)`);
    const hits = await personaliseAll('hit');
    const allHits = hits.results.every((r, i) => r.cached && r.mediaId === misses.results[i]!.mediaId);

    // Floors in the same run: drawing alone (no cache, no ingest) and sharp re-encoding the base.
    log('render: baselines (drawOverImage alone; sharp re-encoding the base)');
    const layerBytes = productBytes;
    let t0 = performance.now();
    let k = 0;
    await pool(specs, inFlight, async () => {
      const i = k++;
      await drawOverImage({ base: baseBytes, designWidth: 1280, layers: [textLayer(i + n), { type: 'image', x: 900, y: 380, width: 300, height: 300, bytes: layerBytes }], maxPixels: 1e8 });
    });
    const drawSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await pool(specs, inFlight, async () => {
      await sharp(baseBytes).jpeg({ quality: 90 }).toBuffer();
    });
    const reencodeSeconds = (performance.now() - t0) / 1000;

    const missesPerSecond = n / misses.seconds;
    const drawPerSecond = n / drawSeconds;
    return {
      size: '1280x720 JPEG base (a media item of the business), a wrapped text layer with the name and a 300x300 product photo (a media item)',
      renders: n,
      in_flight: inFlight,
      cache_misses: {
        per_second: round(missesPerSecond, 2),
        seconds: round(misses.seconds, 2),
        note: 'templates.personalise returned (drawn, ingested, recorded); renditions follow on the media queue',
      },
      cache_misses_through_the_ladder: { per_second: round(n / ladderSeconds, 2), seconds: round(ladderSeconds, 2), note: 'until every render is a ready media item with its renditions' },
      cache_hits: { per_second: round(n / hits.seconds, 1), seconds: round(hits.seconds, 3), all_hits_same_media: allHits },
      baseline_draw_only_per_second: round(drawPerSecond, 2),
      baseline_sharp_reencode_per_second: round(n / reencodeSeconds, 1),
      ratio_misses_to_draw_only: round(missesPerSecond / drawPerSecond, 3),
      ratio_hits_to_misses: round(n / hits.seconds / missesPerSecond, 1),
    };
  } finally {
    await app.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Parts whose code may not be on main yet

function notOnMain(paths: string[], what: string): string | null {
  const missing = paths.filter((p) => !existsSync(path.join(root, p)));
  return missing.length ? `not run: ${what} is not on main yet (${missing.join(', ')} missing)` : null;
}

// ---------------------------------------------------------------------------------------------
// The MMD server as a child process, the accounts and the CSV file

interface Server {
  proc: ChildProcess;
  pid: number;
  port: number;
  base: string;
  /** VmHWM: the server's peak resident memory since it started. */
  peakRss(): number | null;
  stop(): Promise<void>;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** `main.ts serve` on `dataDir` (API and worker in one process: the embedded default). */
async function startServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  // Cheap password hashing and no sign-up (benchServerSettings) or sign-in limits: the bench signs
  // in thousands of people; no measured path hashes a password.
  const env = serverEnv(benchServerSettings, {
    MMD_PORT: String(port),
    MMD_DATA_DIR: dataDir,
    MMD_LOGIN_RATE_LIMIT: '1000000',
    MMD_LOGIN_ADDRESS_RATE_LIMIT: '1000000',
    ...extraEnv,
  });
  // BENCH_SERVER_ENV='MMD_X=1,MMD_Y=2': settings for the server under test (to compare one against another).
  for (const pair of (process.env.BENCH_SERVER_ENV ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (to find where time goes).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_SERVER_NODE_FLAGS='--trace-gc --max-semi-space-size=4': Node flags for the server under test.
  const nodeFlags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = track(spawn(process.execPath, [...profile, ...nodeFlags, '--import', 'tsx', 'apps/server/src/main.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 2, 'inherit'] })); // its stdout (logs, --trace-gc) to our stderr: our stdout is the JSON
  let stopping = false;
  proc.once('exit', (code, signal) => {
    if (!stopping) log(`the MMD server exited unexpectedly (code ${code}, signal ${signal})`);
  });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(proc, base, { timeoutMs: 120_000, pollMs: 200 });
  const pid = proc.pid!;
  return {
    proc,
    pid,
    port,
    base,
    peakRss: () => vmHwm(pid),
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 30_000).unref();
      }),
  };
}

const PASSWORD = 'a bench password that is long enough';
const handleOf = (i: number) => `cust${i}`;

/**
 * N person accounts written straight into the database (a documented direct insert, not a sign-up:
 * sign-up over HTTP would spend its time hashing passwords): exactly the rows sign-up writes — the
 * `accounts` row and its `handles` keys from the accounts capability's own `handleKeys` — through
 * prepared better-sqlite3 statements, one transaction per 10,000 accounts, after MMD's own
 * migrations. Every account shares one Argon2 hash (made here at the server's cheap bench cost),
 * so the sockets part can sign people in.
 */
async function seedAccounts(dataDir: string, n: number) {
  const file = path.join(dataDir, 'mmd.sqlite');
  const migrated = openDatabase({ sqlitePath: file });
  await migrated.migrate();
  await migrated.close();
  const passwordHash = await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 1 });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const account = db.prepare("insert into accounts (id, handle, handle_key, password_hash, kind, role, created_at) values (?, ?, ?, ?, 'person', 'user', ?)");
  const handleKey = db.prepare("insert into handles (key, owner_kind, owner_id, created_at) values (?, 'account', ?, ?)");
  const at = Date.now();
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const handle = handleOf(i);
      const id = newId('acc');
      account.run(id, handle, handle.toLowerCase(), passwordHash, at);
      for (const key of handleKeys(handle)) handleKey.run(key, id, at);
    }
  });
  const t0 = performance.now();
  for (let from = 0; from < n; from += 10_000) {
    batch(from, Math.min(n, from + 10_000));
    if ((from / 10_000) % 20 === 19) log(`accounts: ${from + 10_000} of ${n}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { accounts: n, seconds: round(seconds, 1), per_second: Math.round(n / seconds), path: "direct insert of sign-up's rows (accounts + handles via accounts/handles.ts handleKeys), prepared statements, one transaction per 10,000 accounts, one shared Argon2 hash" };
}

const LOCALES = ['en-GB', 'fr-FR', 'de-DE', 'es-ES', 'pt-BR'];
const ZONES = ['Europe/London', 'Europe/Paris', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo'];
const FIRST_NAMES = ['Ann', 'Zoé', 'Jörg', 'Li', 'Ngozi', 'Søren', 'Ana María', 'Bartholomew'];

/**
 * The import file: one row per account with an external id, a name, locale, time zone, two tags,
 * a first_name attribute and a marketing opt-in with its proof (the campaign needs consent).
 */
async function writeContactsCsv(file: string, n: number): Promise<number> {
  const out = createWriteStream(file);
  const write = (chunk: string) => (out.write(chunk) ? Promise.resolve() : once(out, 'drain').then(() => undefined));
  await write('handle,external_id,name,locale,time_zone,tags,attr:first_name,consent_purpose,consent_source,consent_wording,consent_at,consent_evidence\n');
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
    chunk += `${handleOf(i)},crm-${i},"${first} Example",${LOCALES[i % LOCALES.length]},${ZONES[i % ZONES.length]},customers;${i % 3 === 0 ? 'vip' : 'regular'},${first},marketing,signup form,"I want offers from the bench shop",2026-01-15T10:00:00Z,form-submission-${i}\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
  return statSync(file).size;
}

async function api<T>(server: Server, token: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const request = () =>
    fetch(`${server.base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let answer: Response;
  for (let attempt = 1; ; attempt++) {
    try {
      answer = await request();
      break;
    } catch (err) {
      // A reused keep-alive connection the server had just closed (ECONNRESET): read requests are safe to repeat.
      if (method !== 'GET' || attempt >= 5) throw err;
      await sleep(200);
    }
  }
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${method} ${url}: ${answer.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Samples a child's resident memory (VmRSS) every `ms` while it runs: the shape of its memory over time. */
function childRssSampler(pid: number, ms = 1000) {
  const samples: number[] = [];
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) samples.push(Number(m[1]) * 1024);
    } catch {
      // exited
    }
  }, ms);
  return {
    last: () => samples.at(-1) ?? 0,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// import: N contacts through the real import route and job

interface World {
  dataDir: string;
  businessToken: string;
  businessId: string;
  contacts: number;
  accounts: Awaited<ReturnType<typeof seedAccounts>>;
}
let world: World | null = null;

/** Accounts seeded, the business signed up, the contacts imported (once per run; the campaign reuses them). */
async function benchImport(scratch: string) {
  const why = notOnMain(['apps/server/src/contacts/import.ts'], 'the contacts import job');
  const n = opts.contacts;
  if (why) return { not_run: why, baseline: await baselineInsert(scratch, 'contacts', n, opts.batch) };
  const dataDir = mkdtempSync(path.join(scratch, 'server-'));
  log(`import: ${n} accounts (direct insert through the accounts capability)`);
  const accounts = await seedAccounts(dataDir, n);
  const csv = path.join(scratch, 'contacts.csv');
  log('import: writing the CSV file');
  const fileBytes = await writeContactsCsv(csv, n);
  const server = await startServer(dataDir);
  try {
    const signup = await fetch(`${server.base}/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: 'benchshop', password: PASSWORD, kind: 'business' }) });
    if (!signup.ok) throw new Error(`business sign-up: ${signup.status} ${await signup.text()}`);
    const business = (await signup.json()) as { token: string; account: { id: string } };
    // No quiet hours: a run at midday UTC would otherwise hold New York's fifth of the audience
    // until 08:00 there (they wait, as they should), and the bench would measure the clock.
    await api(server, business.token, 'PATCH', '/v1/business', { settings: { quiet_hours: null } });
    const sampler = childRssSampler(server.pid);
    const diskBefore = dirBytes(dataDir);
    log(`import: uploading ${mb(fileBytes)} MB (${n} rows) to POST /v1/business/contacts/import`);
    const t0 = performance.now();
    const upload = await fetch(`${server.base}/v1/business/contacts/import?format=csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${business.token}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(createReadStream(csv)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    if (upload.status !== 202) throw new Error(`import upload: ${upload.status} ${await upload.text()}`);
    const uploadSeconds = (performance.now() - t0) / 1000;
    let job = (await upload.json()) as { id: string; status: string; rows: { done: number; created: number; refused: number; consents_recorded: number }; progress: number; started_at: number | null; finished_at: number | null; error: unknown };
    let lastLog = 0;
    while (job.status === 'queued' || job.status === 'running') {
      await sleep(1000);
      job = await api(server, business.token, 'GET', `/v1/business/contacts/imports/${job.id}`);
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`import: ${job.rows.done} rows (${Math.round(job.progress * 100)} %), server RSS ${mb(sampler.last())} MB`);
      }
    }
    const totalSeconds = (performance.now() - t0) / 1000;
    const rss = sampler.stop();
    const peak = server.peakRss();
    const jobSeconds = job.started_at && job.finished_at ? (job.finished_at - job.started_at) / 1000 : null;
    if (job.status !== 'succeeded') throw new Error(`the import ended ${job.status}: ${JSON.stringify(job.error)}`);
    await server.stop();
    const diskAfter = dirBytes(dataDir);
    log('import: baseline');
    const baseline = await baselineInsert(scratch, 'contacts', n, opts.batch);
    world = { dataDir, businessToken: business.token, businessId: business.account.id, contacts: job.rows.created, accounts };
    if (opts.world) {
      rmSync(opts.world, { recursive: true, force: true });
      cpSync(dataDir, path.join(opts.world, 'data'), { recursive: true });
      writeFileSync(path.join(opts.world, 'world.json'), JSON.stringify({ ...world, requested: n }));
    }
    const rowsPerSecond = jobSeconds ? job.rows.done / jobSeconds : null;
    return {
      rows: n,
      file_mb: mb(fileBytes),
      accounts_seeded: accounts,
      upload_seconds: round(uploadSeconds, 1),
      job_seconds: jobSeconds && round(jobSeconds, 1),
      upload_to_done_seconds: round(totalSeconds, 1),
      rows_per_second: rowsPerSecond && Math.round(rowsPerSecond),
      rows_per_second_upload_to_done: Math.round(n / totalSeconds),
      counts: job.rows,
      server_peak_rss_mb: peak === null ? null : mb(peak),
      server_rss_mb_samples_every_10s: rss.filter((_, i) => i % 10 === 0).map(mb),
      database_growth_bytes_per_contact: round((diskAfter - diskBefore) / n, 1),
      baseline,
      ratio_to_baseline: rowsPerSecond && round(rowsPerSecond / baseline.rows_per_second, 3),
    };
  } finally {
    await server.stop();
  }
}

/** Bytes of the database files (and WAL) under a data directory. */
function dirBytes(dataDir: string): number {
  let total = 0;
  for (const f of ['mmd.sqlite', 'mmd.sqlite-wal']) {
    try {
      total += statSync(path.join(dataDir, f)).size;
    } catch {
      // absent
    }
  }
  return total;
}

/** The imported contacts the campaign goes to: this run's import, or one made now when the import part did not run. */
async function ensureWorld(scratch: string): Promise<World> {
  if (!world && opts.world && existsSync(path.join(opts.world, 'world.json'))) {
    const kept = JSON.parse(readFileSync(path.join(opts.world, 'world.json'), 'utf8')) as World & { requested: number };
    if (kept.requested === opts.contacts) {
      const dataDir = mkdtempSync(path.join(scratch, 'server-'));
      log(`campaign: starting from the world kept in ${opts.world}`);
      cpSync(path.join(opts.world, 'data'), dataDir, { recursive: true });
      const server = await startServer(dataDir);
      try {
        const r = await fetch(`${server.base}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: 'benchshop', password: PASSWORD }) });
        if (!r.ok) throw new Error(`business sign-in: ${r.status} ${await r.text()}`);
        world = { ...kept, dataDir, businessToken: ((await r.json()) as { token: string }).token };
      } finally {
        await server.stop();
      }
    }
  }
  if (!world) {
    log('campaign: importing the contacts first (the import part did not run)');
    const imported = await benchImport(scratch);
    if ('not_run' in imported) throw new Error(String(imported.not_run));
  }
  return world!;
}

/** The database file's size after a checkpoint folds the WAL into it (the server stopped). */
function checkpointedBytes(dataDir: string): number {
  const db = new BetterSqlite3(path.join(dataDir, 'mmd.sqlite'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(path.join(dataDir, 'mmd.sqlite')).size;
}

interface CampaignDetail {
  id: string;
  status: string;
  funnel: { planned: number; sent: number; failed: number; skipped: number };
  runs: { id: number; status: string; scheduled_at: number; planned: number; finished_at: number | null }[];
}

/**
 * One campaign to every imported contact: a personalised text template (first name from the
 * contact's attribute, the external id in the offer code), the audience a segment rule over a tag
 * every contact has, sent now at `--throttle` messages per second. Measured from the API (the
 * campaign's funnel and run, polled every second) and, once the server has stopped, from the
 * database: each recipient's message created_at against its slot in the paced schedule
 * (scheduled_at + k / throttle for the k-th message).
 */
async function runCampaign(server: Server, w: World, name: string) {
  const token = w.businessToken;
  const template = await api<{ id: string }>(server, token, 'POST', '/v1/business/templates', {
    name: `${name} template`,
    purpose: 'marketing',
    default_locale: 'en',
    variants: { en: { text: 'Hi {{first_name|there}}, our spring sale starts today: 20 % off everything with your code SPRING-{{external_id}}.' } },
  });
  const approved = await api<{ approved_version: { id: string } | null }>(server, token, 'POST', `/v1/business/templates/${template.id}/approve`, {});
  if (!approved.approved_version) throw new Error('the template was not approved');
  const created = await api<CampaignDetail>(server, token, 'POST', '/v1/business/campaigns', {
    name,
    audience: { rule: { tag: 'customers' } },
    variants: [{ template_version_id: approved.approved_version.id }],
    schedule: { kind: 'now' },
    throttle_per_second: opts.throttle,
  });
  const samples: { t: number; planned: number; done: number }[] = [];
  // How long GET /v1/business/campaigns/{id} took while the campaign ran: the API's responsiveness.
  const pollMs: number[] = [];
  const t0 = Date.now();
  let detail = await api<CampaignDetail>(server, token, 'POST', `/v1/business/campaigns/${created.id}/start`, {});
  let plannedAt: number | null = null;
  let lastLog = 0;
  for (;;) {
    const run = detail.runs[0];
    const done = detail.funnel.sent + detail.funnel.failed + detail.funnel.skipped;
    samples.push({ t: Date.now(), planned: run?.planned ?? 0, done });
    if (plannedAt === null && run && run.status !== 'waiting' && run.status !== 'planning') plannedAt = Date.now();
    if (run?.status === 'done' || detail.status === 'completed' || detail.status === 'cancelled') break;
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(`${name}: run ${run?.status ?? 'none'}, planned ${run?.planned ?? 0}, sent ${detail.funnel.sent}, skipped ${detail.funnel.skipped}, failed ${detail.funnel.failed}, server RSS ${mb(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024)} MB`);
    }
    await sleep(1000);
    const asked = performance.now();
    detail = await api<CampaignDetail>(server, token, 'GET', `/v1/business/campaigns/${created.id}`);
    pollMs.push(performance.now() - asked);
  }
  const finished = Date.now();
  const run = detail.runs[0]!;
  const sorted = [...pollMs].sort((x, y) => x - y);
  const apiLatency = { polls: sorted.length, p50_ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0), max_ms: Math.round(sorted.at(-1) ?? 0) };
  return { campaignId: created.id, runId: run.id, scheduledAt: Number(run.scheduled_at), t0, plannedAt, finished, detail, apiLatency };
}

/** Delays behind the paced schedule, from the database (server stopped): the k-th message is due at scheduled_at + k / throttle. */
function scheduleDelays(dataDir: string, runId: number, scheduledAt: number) {
  const db = new BetterSqlite3(path.join(dataDir, 'mmd.sqlite'), { readonly: true });
  const times = (db.prepare('select m.created_at as t from campaign_recipients r join messages m on m.id = r.message_id where r.run_id = ? order by m.created_at').all(runId) as { t: number }[]).map((r) => Number(r.t));
  db.close();
  const delays = times.map((t, k) => t - (scheduledAt + (k * 1000) / opts.throttle));
  const sorted = [...delays].sort((x, y) => x - y);
  const q = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!) : null);
  // Sustained: the messages between the 10th and the 90th percentile of their send times.
  const t10 = times[Math.floor(times.length * 0.1)];
  const t90 = times[Math.floor(times.length * 0.9)];
  const sustained = t10 !== undefined && t90 !== undefined && t90 > t10 ? (times.length * 0.8) / ((t90 - t10) / 1000) : null;
  return {
    sustained,
    figures: { messages: times.length, first_ms_after_schedule: times.length ? times[0]! - scheduledAt : null, last_ms_after_schedule: times.length ? times.at(-1)! - scheduledAt : null, delay_behind_paced_schedule_ms: { p50: q(0.5), p99: q(0.99), max: q(1) } },
  };
}

async function benchCampaign(scratch: string) {
  const why = notOnMain(['apps/server/src/campaigns/index.ts'], 'the campaigns engine');
  if (why) return { not_run: why };
  const w = await ensureWorld(scratch);
  const before = checkpointedBytes(w.dataDir);
  const server = await startServer(w.dataDir);
  let outcome: Awaited<ReturnType<typeof runCampaign>>;
  let peak: number | null;
  try {
    log(`campaign: to ${w.contacts} contacts at ${opts.throttle}/s`);
    try {
      outcome = await runCampaign(server, w, 'bench campaign');
    } catch (err) {
      // The server says why it cannot (e.g. campaigns' ports to contacts and templates not wired yet).
      const message = (err as Error).message;
      if (/: 503 /.test(message)) return { not_run: `not run: the server refused the campaign: ${message}` };
      throw err;
    }
    peak = server.peakRss();
  } finally {
    await server.stop();
  }
  const after = checkpointedBytes(w.dataDir);
  const o = outcome;
  const f = o.detail.funnel;
  const recipients = o.detail.runs[0]!.planned;
  const delays = scheduleDelays(w.dataDir, o.runId, o.scheduledAt);
  const sustained = delays.sustained ?? 0;
  const baseline = await baselineInsert(scratch, 'campaign_recipients', recipients, opts.batch);
  const wall = (o.finished - o.t0) / 1000;
  return {
    recipients,
    throttle_per_second: opts.throttle,
    funnel: f,
    plan_seconds: o.plannedAt === null ? null : round((o.plannedAt - o.t0) / 1000, 1),
    plan_seconds_note: 'from POST …/start until the run left planning (the sender starts with the first page, so planning and sending overlap)',
    start_to_done_seconds: round(wall, 1),
    sustained_messages_per_second: Math.round(sustained),
    sustained_note: "messages between the 10th and 90th percentile of the run's send times (messages.created_at)",
    ...delays.figures,
    api_get_campaign_while_sending: o.apiLatency,
    server_peak_rss_mb: peak === null ? null : mb(peak),
    disk_bytes_per_recipient: recipients ? round((after - before) / recipients, 1) : null,
    baseline,
    ratio_to_baseline: round(sustained / baseline.rows_per_second, 3),
    targets: {
      messages_per_second_at_least_5000: sustained >= 5000,
      plan_1m_in_60_s: o.plannedAt === null ? null : ((o.plannedAt - o.t0) / 1000) * (1_000_000 / Math.max(1, recipients)) <= 60,
      peak_rss_at_most_400_mb: peak === null ? null : peak <= 400 * 1024 * 1024,
      note: recipients < 1_000_000 ? `measured at ${recipients} recipients; the 1,000,000 planning verdict is a linear extrapolation` : 'measured at 1,000,000',
    },
  };
}

async function benchSockets(scratch: string) {
  const why = notOnMain(['apps/server/src/campaigns/index.ts'], 'the campaigns engine');
  if (why) return { not_run: why };
  const w = await ensureWorld(scratch);
  const n = Math.min(opts.sockets, w.contacts);
  const server = await startServer(w.dataDir);
  let clients: ChildProcess | null = null;
  try {
    log(`sockets: signing in ${n} people`);
    const tokens: string[] = [];
    await pool(
      Array.from({ length: n }, (_, i) => i),
      16,
      async (i) => {
        const r = await fetch(`${server.base}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handle: handleOf(i), password: PASSWORD }) });
        if (!r.ok) throw new Error(`sign-in ${handleOf(i)}: ${r.status} ${await r.text()}`);
        tokens.push(((await r.json()) as { token: string }).token);
      },
    );
    const tokensFile = path.join(scratch, 'tokens.txt');
    writeFileSync(tokensFile, tokens.join('\n'));
    log(`sockets: connecting ${n} WebSockets from a child process`);
    const child = track(spawn(process.execPath, ['--import', 'tsx', path.join(here, 'campaigns-clients.ts'), server.base.replace('http', 'ws'), tokensFile, w.businessId], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }));
    clients = child;
    const lines: string[] = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let i = buffered.indexOf('\n');
      while (i >= 0) {
        lines.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
        i = buffered.indexOf('\n');
      }
    });
    while (!lines.some((l) => l.includes('"ready"'))) {
      if (child.exitCode !== null) throw new Error(`the clients' process exited (code ${child.exitCode})`);
      await sleep(500);
    }
    const ready = JSON.parse(lines.find((l) => l.includes('"ready"'))!) as { ready: number; refused: number };
    log(`sockets: ${ready.ready} connected (${ready.refused} refused); the campaign again`);
    let outcome: Awaited<ReturnType<typeof runCampaign>>;
    try {
      outcome = await runCampaign(server, w, 'bench campaign with sockets');
    } catch (err) {
      const message = (err as Error).message;
      if (/: 503 /.test(message)) return { not_run: `not run: the server refused the campaign: ${message}` };
      throw err;
    }
    const peak = server.peakRss();
    child.kill('SIGTERM');
    const deadline = Date.now() + 30_000;
    while (!lines.some((l) => l.includes('"sockets"')) && Date.now() < deadline) await sleep(200);
    const summaryLine = lines.find((l) => l.includes('"sockets"'));
    const summary = summaryLine ? JSON.parse(summaryLine) : null;
    await server.stop();
    const delays = scheduleDelays(w.dataDir, outcome.runId, outcome.scheduledAt);
    return {
      connected: ready.ready,
      refused: ready.refused,
      recipients: outcome.detail.runs[0]!.planned,
      funnel: outcome.detail.funnel,
      start_to_done_seconds: round((outcome.finished - outcome.t0) / 1000, 1),
      sustained_messages_per_second: delays.sustained === null ? null : Math.round(delays.sustained),
      ...delays.figures,
      api_get_campaign_while_sending: outcome.apiLatency,
      server_peak_rss_mb: peak === null ? null : mb(peak),
      connected_clients_saw_it: summary,
      note: 'delay_ms: from the message created_at (server clock) to its message.created frame on the client, same machine',
    };
  } finally {
    if (clients && clients.exitCode === null) clients.kill('SIGKILL');
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-campaigns-'));
const result: Record<string, unknown> = {
  bench: 'campaigns',
  date: new Date().toISOString(),
  commit: gitCommit(),
  command: `npm run bench:campaigns${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    load_average_at_start: os.loadavg().map((x) => round(x, 2)),
    note: 'a shared machine: other engineers run tests on the same cores, so the load average is part of every figure',
  },
  options: opts,
  database: 'embedded SQLite (better-sqlite3), WAL, synchronous=FULL (the default durability)',
};
const sampler = rssSampler();
try {
  for (const part of PARTS) {
    if (!opts.only.includes(part)) continue;
    const t = performance.now();
    log(`${part}: start (load average ${os.loadavg()[0]!.toFixed(2)})`);
    // A part that fails is reported as failed with its reason; the other parts' figures still print.
    try {
      if (part === 'render') result.render = await benchRender(scratch);
      else if (part === 'import') result.import = await benchImport(scratch);
      else if (part === 'campaign') result.campaign = await benchCampaign(scratch);
      else result.sockets = await benchSockets(scratch);
    } catch (err) {
      log(`${part}: failed: ${(err as Error).stack ?? err}`);
      result[part] = { failed: (err as Error).message };
    }
    log(`${part}: done in ${round((performance.now() - t) / 1000)} s`);
  }
  result.bench_process_peak_rss_mb = mb(Math.max(sampler.stop(), vmHwm('self') ?? 0));
  result.load_average_at_end = os.loadavg().map((x) => round(x, 2));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
