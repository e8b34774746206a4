/**
 * Capability boundaries, checked from the source text: a capability folder (accounts,
 * conversations, messaging, media, safety, sync, interactive, templates, contacts, inbox, profiles) imports another only through that one's
 * `index.ts`, and runs SQL only on the tables its own `schema.ts` declares. What still crosses a
 * boundary is listed below; an entry that is no longer needed fails the test too, so the lists
 * only shrink.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../src');
const CAPABILITIES = ['accounts', 'conversations', 'messaging', 'media', 'safety', 'sync', 'telegram', 'interactive', 'templates', 'contacts', 'inbox', 'profiles', 'federation', 'push'] as const;
type Capability = (typeof CAPABILITIES)[number];

/**
 * Reads of another capability's tables still made directly, as `file → tables`. Writes have no
 * allow-list: a capability changes another's rows only by calling it.
 */
const ALLOWED_READS: Record<string, string[]> = {
  // Member lists show handles beside ids (joins on accounts); the chat list shows each newest message.
  'conversations/service.ts': ['accounts', 'messages'],
  // Receipts: delivered/read marks are columns of conversations' members rows, shown with handles.
  'messaging/service.ts': ['accounts', 'conversations', 'events', 'members'],
  // Who may see a media item: members of a conversation where a delivered message carries it.
  'media/store.ts': ['members', 'messages'],
  // Fan-out on read: events are visible through membership windows (one join, by design).
  'sync/event-log.ts': ['members'],
};

/** Imports of another capability's files other than its index.ts, as `file → imported files`. */
const ALLOWED_IMPORTS: Record<string, string[]> = {};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return filesUnder(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

const rel = (file: string) => path.relative(SRC, file).split(path.sep).join('/');

/** Table → owner, from each capability's schema.ts (the `…Tables` interface) and the platform's. */
function tableOwners(): Map<string, string> {
  const owners = new Map<string, string>();
  const read = (file: string, owner: string) => {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    for (const block of text.matchAll(/export interface \w+Tables \{([^}]*)\}/g)) {
      for (const key of block[1]!.matchAll(/^\s*(\w+)\s*:/gm)) owners.set(key[1]!, owner);
    }
  };
  for (const c of CAPABILITIES) read(`${c}/schema.ts`, c);
  read('platform/queue/schema.ts', 'platform');
  read('platform/secrets-migrations.ts', 'platform');
  return owners;
}

const WRITE_CALLS = new Set(['insertInto', 'updateTable', 'deleteFrom', 'replaceInto', 'mergeInto']);

/** Every table a file's queries name, through Kysely's builders or raw `sql` templates. */
function tablesUsed(text: string): { table: string; write: boolean }[] {
  const found: { table: string; write: boolean }[] = [];
  const builder =
    /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|innerJoin|leftJoin|rightJoin|fullJoin|crossJoin|with)\(\s*'(\w+)(?:\s+as\s+\w+)?'/g;
  for (const m of text.matchAll(builder)) found.push({ table: m[2]!, write: WRITE_CALLS.has(m[1]!) });
  for (const t of text.matchAll(/\bsql(?:<[^>`]*>)?`([^`]*)`/g)) {
    for (const m of t[1]!.matchAll(/\b(from|join|update|into)\s+(\w+)/gi)) {
      const verb = m[1]!.toLowerCase();
      found.push({
        table: m[2]!,
        write: verb === 'update' || verb === 'into' || /delete\s+$/i.test(t[1]!.slice(0, m.index)),
      });
    }
  }
  return found;
}

function capabilityOf(file: string): Capability | null {
  const first = rel(file).split('/')[0]!;
  return (CAPABILITIES as readonly string[]).includes(first) ? (first as Capability) : null;
}

function scan() {
  const owners = tableOwners();
  const reads: Record<string, Set<string>> = {};
  const writes: string[] = [];
  const imports: Record<string, Set<string>> = {};
  for (const capability of CAPABILITIES) {
    for (const file of filesUnder(path.join(SRC, capability))) {
      const name = rel(file);
      const text = readFileSync(file, 'utf8');
      // A migration reshapes data as it stood at its point in the schema's history; it may read any table.
      const migration = /(^|\/)migrations(\.ts|\/)/.test(name);
      for (const { table, write } of migration ? [] : tablesUsed(text)) {
        const owner = owners.get(table);
        if (owner === undefined || owner === capability) continue;
        if (write) writes.push(`${name} writes ${table} (owned by ${owner})`);
        else {
          reads[name] ??= new Set();
          reads[name].add(table);
        }
      }
      for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]!);
        const other = capabilityOf(target);
        if (other === null || other === capability) continue;
        if (rel(target) === `${other}/index.ts`) continue;
        imports[name] ??= new Set();
        imports[name].add(rel(target));
      }
    }
  }
  const sorted = (r: Record<string, Set<string>>): Record<string, string[]> =>
    Object.fromEntries(
      Object.keys(r)
        .sort()
        .map((k) => [k, [...r[k]!].sort()]),
    );
  return { reads: sorted(reads), writes, imports: sorted(imports) };
}

/** Differences between what the scan found and what the list allows, both ways. */
function compare(found: Record<string, string[]>, allowed: Record<string, string[]>, what: string): string[] {
  const problems: string[] = [];
  for (const [file, items] of Object.entries(found)) {
    for (const item of items)
      if (!allowed[file]?.includes(item))
        problems.push(`${file} ${what} ${item}: go through the owning capability's index.ts`);
  }
  for (const [file, items] of Object.entries(allowed)) {
    for (const item of items)
      if (!found[file]?.includes(item))
        problems.push(`${file} no longer ${what} ${item}: remove it from the allow-list`);
  }
  return problems;
}

test('the scanner sees the queries and imports it is meant to police', () => {
  const used = tablesUsed(
    `db.selectFrom('messages').innerJoin(\n'members as m', 'x').execute(); tx.updateTable('media'); sql\`select * from members m join events e on true\``,
  );
  assert.deepEqual(used, [
    { table: 'messages', write: false },
    { table: 'members', write: false },
    { table: 'media', write: true },
    { table: 'members', write: false },
    { table: 'events', write: false },
  ]);
  const owners = tableOwners();
  assert.equal(owners.get('messages'), 'messaging');
  assert.equal(owners.get('message_media'), 'media');
  assert.equal(owners.get('members'), 'conversations');
  assert.equal(owners.get('events'), 'sync');
  assert.equal(owners.get('safety_reviews'), 'safety');
});

test("no capability writes another capability's tables", () => {
  assert.deepEqual(scan().writes, []);
});

test("a capability reads another's tables only where the allow-list still says so", () => {
  assert.deepEqual(compare(scan().reads, ALLOWED_READS, 'reads'), []);
});

test("a capability imports another only through that capability's index.ts", () => {
  assert.deepEqual(compare(scan().imports, ALLOWED_IMPORTS, 'imports'), []);
});
