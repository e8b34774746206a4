/**
 * bench:search — message search latency over a million messages, on this machine, in one run.
 *
 *   node --import tsx bench/search.ts [--messages=1000000] [--runs=200] [--postgres=postgres://…]
 *     (default: embedded SQLite in a temp dir; MMD_TEST_POSTGRES_URL is used when --postgres is
 *     given without a value)
 *
 * The database is made by the real migrations, then seeded with bulk inserts straight into the
 * tables (going through the API would take an hour): 2,000 people; 40,000 direct chats and 1,000
 * groups of 30 (a fifth hiding their history from newcomers, whose stays start later); messages
 * of 1–16 words drawn from a 20,000-word vocabulary by Zipf's law (s = 1), half of them in groups;
 * a few per hundred carry a link or a photo, video, voice note or document (kinds only). Each
 * person is in ~40 direct chats and ~15 groups: ~1 % of the messages are theirs to find.
 *
 * Each query kind runs `runs` times, each time for another person and word, through the real
 * search function (`createMessageSearch(...).search`, membership windows, views and highlights
 * included); the baseline in the same run is a plain indexed lookup: the newest 20 messages of one
 * of that person's chats by `(conversation_id, seq)`, as history reads them, without views, and
 * the same with views (what a search costs beyond finding its messages).
 * Prints one JSON object on stdout (progress on stderr): p50, p99 and max wall-clock per kind, in
 * ms, and p50/p99 of this process's CPU time per search (on SQLite the query runs on this thread,
 * so CPU time is what the event loop pays, and it is steadier than wall-clock on a busy machine;
 * on PostgreSQL most of the work is the server's and only wall-clock counts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execSync } from 'node:child_process';
import { sql } from 'kysely';
import type { Principal } from '../apps/server/src/accounts/index.ts';
import { createMessageSearch, type SearchInput } from '../apps/server/src/messaging/search.ts';
import { loadMessageViews } from '../apps/server/src/messaging/views.ts';
import { indexTerms } from '../apps/server/src/messaging/search-text.ts';
import { type Database, openDatabase } from '../apps/server/src/platform/db/index.ts';
import { rng } from './amplification-sim.ts'; // mulberry32: every run seeds the same data

const argv = process.argv.slice(2);
function arg(name: string): string | undefined {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!hit) return undefined;
  return hit.includes('=') ? hit.slice(name.length + 3) : '';
}
const MESSAGES = Number(arg('messages') ?? 1_000_000);
const RUNS = Number(arg('runs') ?? 200);
const pgArg = arg('postgres');
const postgresUrl = pgArg === undefined ? undefined : pgArg || process.env.MMD_TEST_POSTGRES_URL;
if (pgArg !== undefined && !postgresUrl) throw new Error('--postgres needs a URL or MMD_TEST_POSTGRES_URL');

const ACCOUNTS = 2_000;
const DIRECTS = 40_000;
const GROUPS = 1_000;
const GROUP_SIZE = 30;
const VOCABULARY = 20_000;

const log = (...a: unknown[]) => console.error(new Date().toISOString().slice(11, 19), ...a);

const rand = rng(42);
const pick = (n: number) => Math.floor(rand() * n);

// Pronounceable, distinct words; some with accents, so folding is part of the work.
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'da', 'fe', 'gi', 'ho', 'ju', 'pe', 'qua', 'ré', 'sé', 'tö', 'zu'];
const words: string[] = [];
for (let i = 0; words.length < VOCABULARY; i++) {
  let n = i;
  let w = '';
  do {
    w += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  if (w.length >= 4) words.push(w);
}
// Zipf (s = 1) over ranks: cumulative weights for sampling by binary search.
const cdf: number[] = [];
{
  let total = 0;
  for (let r = 1; r <= VOCABULARY; r++) {
    total += 1 / r;
    cdf.push(total);
  }
  for (let i = 0; i < cdf.length; i++) cdf[i]! /= total;
}
function zipfWord(): string {
  const x = rand();
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return words[lo]!;
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const round = (x: number) => Math.round(x * 100) / 100;

async function seed(db: Database) {
  const now = Date.now() - MESSAGES * 1000;
  const accountIds = Array.from({ length: ACCOUNTS }, (_, i) => `acc_${String(i).padStart(6, '0')}`);
  await db.db.transaction().execute(async (tx) => {
    for (let i = 0; i < ACCOUNTS; i += 500) {
      await tx
        .insertInto('accounts')
        .values(accountIds.slice(i, i + 500).map((id, j) => ({ id, handle: `person${i + j}`, handle_key: `person${i + j}`, password_hash: 'x', kind: 'person' as const, role: 'user' as const, created_at: now })))
        .execute();
    }
  });
  // Conversations and members: directs between random pairs, groups of GROUP_SIZE.
  type Conv = { id: string; kind: 'direct' | 'group'; members: string[]; hidden: boolean; lastSeq: number; joinSeq: Map<string, number> };
  const convs: Conv[] = [];
  const pairs = new Set<string>();
  while (convs.length < DIRECTS) {
    const a = pick(ACCOUNTS);
    const b = pick(ACCOUNTS);
    const key = a < b ? `${a}:${b}` : `${b}:${a}`;
    if (a === b || pairs.has(key)) continue;
    pairs.add(key);
    convs.push({ id: `cnv_d${convs.length}`, kind: 'direct', members: [accountIds[a]!, accountIds[b]!], hidden: false, lastSeq: 0, joinSeq: new Map() });
  }
  for (let g = 0; g < GROUPS; g++) {
    const members = new Set<string>();
    while (members.size < GROUP_SIZE) members.add(accountIds[pick(ACCOUNTS)]!);
    const hidden = g % 5 === 0;
    const c: Conv = { id: `cnv_g${g}`, kind: 'group', members: [...members], hidden, lastSeq: 0, joinSeq: new Map() };
    // In groups hiding history, a third of the members joined later: their stay starts at a seq.
    if (hidden) for (const m of c.members.slice(0, GROUP_SIZE / 3)) c.joinSeq.set(m, 100 + pick(300));
    convs.push(c);
  }
  log('seeding', convs.length, 'conversations');
  // Messages first (seqs decide the stays), conversations after with their last_seq.
  const groupsFrom = DIRECTS;
  let inserted = 0;
  const BATCH = 20_000;
  const CHUNK = 400;
  for (let start = 0; start < MESSAGES; start += BATCH) {
    const messages: Record<string, unknown>[] = [];
    const search: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(MESSAGES, start + BATCH); i++) {
      // Half in groups, half in direct chats (a skew: low-numbered chats are busier).
      const c = rand() < 0.5 ? convs[groupsFrom + Math.floor(GROUPS * rand() * rand())]! : convs[Math.floor(DIRECTS * rand() * rand())]!;
      c.lastSeq += 1;
      const n = 1 + pick(16);
      const parts: string[] = [];
      for (let k = 0; k < n; k++) parts.push(zipfWord());
      const roll = rand();
      let kinds = 0;
      if (roll < 0.03) parts.push(`https://example.com/${zipfWord()}`);
      else if (roll < 0.08) kinds = 1;
      else if (roll < 0.09) kinds = 2;
      else if (roll < 0.1) kinds = 4;
      else if (roll < 0.11) kinds = 8;
      const text = parts.join(' ');
      if (roll < 0.03) kinds |= 16;
      const id = `msg_${String(i).padStart(8, '0')}`;
      const sender = c.members[pick(c.members.length)]!;
      messages.push({ id, conversation_id: c.id, seq: c.lastSeq, sender_id: sender, text, reply_to: null, forward_origin_id: null, forward_origin_conversation_id: null, forward_origin_sender_id: null, forward_hops: 0, idempotency_key: null, created_at: now + i * 1000, edited_at: null, deleted_at: null, status: 'sent', automated: 0 });
      search.push({ message_id: id, conversation_id: c.id, terms: indexTerms({ text, conversationId: c.id, kinds }), kinds });
    }
    if (start === 0) {
      // Conversations must exist before their messages (foreign key): written once, last_seq fixed below.
      await db.db.transaction().execute(async (tx) => {
        for (let i = 0; i < convs.length; i += CHUNK) {
          await tx
            .insertInto('conversations')
            .values(convs.slice(i, i + CHUNK).map((c) => ({ id: c.id, kind: c.kind, title: c.kind === 'group' ? c.id : null, handle: null, handle_key: null, direct_key: c.kind === 'direct' ? [...c.members].sort().join(':') : null, created_by: c.members[0]!, created_at: now, last_seq: 0, member_count: c.members.length, history_visible: c.kind === 'group' ? (c.hidden ? 0 : 1) : null })))
            .execute();
        }
      });
    }
    await db.db.transaction().execute(async (tx) => {
      for (let i = 0; i < messages.length; i += CHUNK) await tx.insertInto('messages').values(messages.slice(i, i + CHUNK) as never).execute();
      for (let i = 0; i < search.length; i += CHUNK) await tx.insertInto('message_search').values(search.slice(i, i + CHUNK) as never).execute();
    });
    inserted += messages.length;
    if (inserted % 100_000 === 0) log('messages', inserted);
  }
  await db.db.transaction().execute(async (tx) => {
    const members: Record<string, unknown>[] = [];
    const windows: Record<string, unknown>[] = [];
    for (const c of convs) {
      for (const m of c.members) {
        members.push({ conversation_id: c.id, account_id: m, role: m === c.members[0] ? 'owner' : 'member', joined_at: now, joined_cursor: 0, left_cursor: null, delivered_seq: c.lastSeq, read_seq: c.lastSeq });
        if (c.kind === 'group') windows.push({ conversation_id: c.id, account_id: m, from_seq: c.joinSeq.get(m) ?? 1, to_seq: null });
      }
    }
    for (let i = 0; i < members.length; i += CHUNK) await tx.insertInto('members').values(members.slice(i, i + CHUNK) as never).execute();
    for (let i = 0; i < windows.length; i += CHUNK) await tx.insertInto('member_windows').values(windows.slice(i, i + CHUNK) as never).execute();
    for (const c of convs) if (c.lastSeq > 0) await tx.updateTable('conversations').set({ last_seq: c.lastSeq }).where('id', '=', c.id).execute();
  });
  return { accountIds, convs };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-search-'));
  const pgSchema = postgresUrl ? `bench_search_${Date.now().toString(36)}` : undefined;
  const db = openDatabase(postgresUrl ? { databaseUrl: postgresUrl, pgSchema } : { sqlitePath: path.join(dir, 'mmd.sqlite'), sqliteSynchronous: 'normal' });
  const started = performance.now();
  const loadAtStart = os.loadavg().map(round);
  try {
    await db.migrate();
    if (db.dialect === 'postgres') await sql`drop index message_search_terms`.execute(db.db); // built once after the bulk load
    const { accountIds, convs } = await seed(db);
    if (db.dialect === 'postgres') {
      log('building the GIN index');
      await sql`create index message_search_terms on message_search using gin (array_to_tsvector(string_to_array(terms, ' ')))`.execute(db.db);
      await sql`analyze`.execute(db.db);
    } else {
      await sql`analyze`.execute(db.db);
    }
    const seedSeconds = Math.round((performance.now() - started) / 1000);
    log('seeded in', seedSeconds, 's');

    const search = createMessageSearch({ db, clock: Date.now, rateLimit: { max: 1e9, windowMs: 60_000 } });
    const principal = (i: number): Principal => ({ accountId: accountIds[i]!, handle: `person${i}`, kind: 'person', role: 'user', deviceId: 'dev', apiKeyId: null, scopes: new Set() });
    const chatsOf = new Map<string, string[]>();
    for (const c of convs) if (c.lastSeq > 0) for (const m of c.members) chatsOf.set(m, [...(chatsOf.get(m) ?? []), c.id]);
    const busiestChatOf = (i: number) => {
      const chats = chatsOf.get(accountIds[i]!) ?? [];
      return chats.reduce((best, id) => ((convs.find((c) => c.id === id)?.lastSeq ?? 0) > (convs.find((c) => c.id === best)?.lastSeq ?? 0) ? id : best), chats[0]!);
    };
    const rank = (lo: number, hi: number) => words[lo + pick(hi - lo)]!;
    const kinds: Record<string, (i: number) => SearchInput> = {
      'common word, all chats': () => ({ q: rank(0, 20) }),
      'mid word, all chats': () => ({ q: rank(200, 2000) }),
      'rare word, all chats': () => ({ q: rank(5000, 20000) }),
      'two words, all chats': () => ({ q: `${rank(0, 200)} ${rank(0, 2000)}` }),
      'prefix (3 letters), all chats': () => ({ q: rank(0, 2000).slice(0, 3) }),
      'mid word, one busy chat': (i) => ({ q: rank(200, 2000), conversationId: busiestChatOf(i) }),
      'photos, all chats (no words)': () => ({ type: 'photo' }),
      'link + word, all chats': () => ({ q: rank(0, 200), type: 'link' }),
    };
    const results: Record<string, { p50_ms: number; p99_ms: number; max_ms: number; cpu_p50_ms: number; cpu_p99_ms: number; mean_results: number }> = {};
    for (const [name, make] of Object.entries(kinds)) {
      const times: number[] = [];
      const cpu: number[] = [];
      let found = 0;
      await search.search(principal(0), make(0)); // warm-up
      for (let r = 0; r < RUNS; r++) {
        const i = pick(ACCOUNTS);
        const input = make(i);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const reply = await search.search(principal(i), input);
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
        found += reply.results.length;
      }
      results[name] = {
        p50_ms: round(percentile(times, 50)),
        p99_ms: round(percentile(times, 99)),
        max_ms: round(Math.max(...times)),
        cpu_p50_ms: round(percentile(cpu, 50)),
        cpu_p99_ms: round(percentile(cpu, 99)),
        mean_results: round(found / RUNS),
      };
      log(name, results[name]);
    }
    // Baselines: the newest 20 messages of one of the person's chats, by index (history's page
    // query), alone and with their views built as search builds its results' (loadMessageViews):
    // the second is what a search costs beyond finding its messages.
    const base: number[] = [];
    const baseViews: number[] = [];
    for (let r = 0; r < RUNS + 1; r++) {
      const i = pick(ACCOUNTS);
      const chat = busiestChatOf(i);
      const t0 = performance.now();
      const rows = await db.db.selectFrom('messages').selectAll().where('conversation_id', '=', chat).where('status', '=', 'sent').orderBy('seq', 'desc').limit(20).execute();
      const t1 = performance.now();
      await loadMessageViews(db.db, rows, { viewerId: accountIds[i]!, now: Date.now() });
      if (r > 0) {
        base.push(t1 - t0);
        baseViews.push(performance.now() - t0);
      }
    }
    const all = Object.values(results);
    const counts = await db.db.selectFrom('message_search').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    let commit = 'unknown';
    try {
      commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {}
    console.log(
      JSON.stringify(
        {
          bench: 'search',
          database: db.dialect,
          commit,
          machine: { cpus: os.cpus().length, load_at_end: os.loadavg().map(round) },
          messages: MESSAGES,
          indexed_rows: Number(counts.n),
          accounts: ACCOUNTS,
          conversations: convs.length,
          runs_per_kind: RUNS,
          seed_seconds: seedSeconds,
          search: results,
          worst_p99_ms: Math.max(...all.map((x) => x.p99_ms)),
          load_at_start: loadAtStart,
          baseline_history_page: { p50_ms: round(percentile(base, 50)), p99_ms: round(percentile(base, 99)), max_ms: round(Math.max(...base)) },
          baseline_history_page_with_views: { p50_ms: round(percentile(baseViews, 50)), p99_ms: round(percentile(baseViews, 99)), max_ms: round(Math.max(...baseViews)) },
        },
        null,
        2,
      ),
    );
  } finally {
    if (pgSchema) await sql`drop schema if exists ${sql.id(pgSchema)} cascade`.execute(db.db).catch(() => {});
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
