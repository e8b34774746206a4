/**
 * The consent ledger: append-only events per (business, account, purpose), and the current state
 * derived from them. The only writer of consent_events and consent_state.
 *
 * The state of a purpose is derived by replaying its events in the order they happened (`at`,
 * ties by recording order `seq`), with one rule above time: **a business's word never outranks
 * the person's own**. An opt-out the person made themselves (STOP, the one-tap link, withdrawing
 * in their settings, erasure on request) can be undone only by the person (START, YES to a
 * double opt-in, the subscribe page); an opt-in the business asserts (API, import) after it is
 * kept in the ledger as evidence but changes nothing. So an agent's self-written "proof" cannot
 * re-subscribe someone who said STOP, and an import recorded today that proves consent given last
 * year cannot undo a STOP sent last month either. Every append rebuilds the purpose's state row in
 * the same transaction, so the state never disagrees with the ledger.
 */
import { randomBytes } from 'node:crypto';
import type { ConsentEvent, ConsentSource, ConsentState } from '@mmd/contracts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { ConsentEventsTable } from './schema.ts';

type Reader = Database['db'] | Tx;

export interface ConsentEventInput {
  businessId: string;
  accountId: string;
  purpose: string;
  action: 'opt_in' | 'opt_out';
  source: ConsentSource;
  at: number;
  recordedAt: number;
  wording?: string | null;
  evidence?: string | null;
  collectedVia?: string | null;
  actorId?: string | null;
  page?: string | null;
  importer?: string | null;
}

/** Sources where the person acted themselves; the others ('api', 'import') are the business's word. */
const PERSON_SOURCES: ReadonlySet<string> = new Set<ConsentSource>(['chat', 'subscribe_page', 'keyword', 'unsubscribe_link', 'double_opt_in', 'self_service', 'erasure']);

/** Whether an event is the person's own act rather than something the business asserted. */
export function isPersonsOwn(source: string): boolean {
  return PERSON_SOURCES.has(source);
}

interface LedgerEntry {
  id: string;
  action: string;
  at: number;
  seq: number;
  source: string;
}

/**
 * The current state of one purpose from its events (any order): replayed by `at` then `seq`; the
 * event that set it (for `since` and `source`); and `personOptedOut` while the person's own
 * opt-out holds (then only the person can opt back in).
 */
export function deriveState(events: readonly LedgerEntry[]): { state: 'opted_in' | 'opted_out'; by: LedgerEntry; personOptedOut: boolean } | null {
  const ordered = [...events].sort((a, b) => a.at - b.at || a.seq - b.seq);
  let state: 'opted_in' | 'opted_out' | null = null;
  let by: LedgerEntry | null = null;
  let locked = false;
  for (const e of ordered) {
    const persons = isPersonsOwn(e.source);
    if (e.action === 'opt_out') {
      state = 'opted_out';
      by = e;
      locked = locked || persons;
    } else if (persons || !locked) {
      state = 'opted_in';
      by = e;
      locked = false;
    }
    // else: the business's opt-in after the person's own opt-out — kept as evidence, changes nothing.
  }
  return state !== null && by !== null ? { state, by, personOptedOut: locked } : null;
}

async function ledgerOf(tx: Reader, key: { businessId: string; accountId: string; purpose: string }): Promise<LedgerEntry[]> {
  const rows = await tx
    .selectFrom('consent_events')
    .select(['id', 'action', 'at', 'seq', 'source'])
    .where('business_id', '=', key.businessId)
    .where('account_id', '=', key.accountId)
    .where('purpose', '=', key.purpose)
    .orderBy('at')
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ id: r.id, action: r.action, at: Number(r.at), seq: Number(r.seq), source: r.source }));
}

/**
 * Whether the person's own opt-out of this purpose holds now. A person's STOP, unsubscribe or
 * withdrawal is recorded unless this is already so (an opt-out the business recorded does not
 * count: the person's own must be in the ledger to protect them from a later business opt-in).
 */
export async function personOptedOut(tx: Reader, key: { businessId: string; accountId: string; purpose: string }): Promise<boolean> {
  return deriveState(await ledgerOf(tx, key))?.personOptedOut ?? false;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** The ledger row for an event, numbered `seq` in its account's ledger with the business. */
function eventRow(e: ConsentEventInput, seq: number): ConsentEventsTable {
  return {
    id: newId('ce'),
    business_id: e.businessId,
    account_id: e.accountId,
    seq,
    purpose: e.purpose,
    action: e.action,
    source: e.source,
    at: e.at,
    recorded_at: e.recordedAt,
    wording: e.wording ?? null,
    evidence: e.evidence ?? null,
    collected_via: e.collectedVia ?? null,
    actor_id: e.actorId ?? null,
    page: e.page ?? null,
    importer: e.importer ?? null,
  };
}

/** Appends one event and rebuilds its purpose's state; returns the new state of that purpose. */
export async function appendConsent(tx: Tx, e: ConsentEventInput): Promise<{ event: ConsentEventsTable; state: 'opted_in' | 'opted_out' }> {
  const last = await tx
    .selectFrom('consent_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('business_id', '=', e.businessId)
    .where('account_id', '=', e.accountId)
    .executeTakeFirst();
  const row = eventRow(e, Number(last?.seq ?? 0) + 1);
  await tx.insertInto('consent_events').values(row).execute();
  const state = await rebuildState(tx, { businessId: e.businessId, accountId: e.accountId, purpose: e.purpose });
  return { event: row, state: state ?? (e.action === 'opt_in' ? 'opted_in' : 'opted_out') };
}

/**
 * appendConsent for many events of one business at once (an import's batch): the same rows, the
 * same per-account seq order (input order), and the same derived states — the latest `at`, ties by
 * seq — in a handful of statements instead of three per event. Opt-ins and opt-outs alike.
 */
export async function appendConsentBatch(tx: Tx, events: readonly ConsentEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const businessId = events[0]!.businessId;
  if (events.some((e) => e.businessId !== businessId)) throw new Error('appendConsentBatch: one business per call');
  const accountIds = [...new Set(events.map((e) => e.accountId))];
  const seqs = new Map<string, number>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await tx
      .selectFrom('consent_events')
      .select((eb) => ['account_id', eb.fn.max('seq').as('seq')])
      .where('business_id', '=', businessId)
      .where('account_id', 'in', accountIds.slice(i, i + 500))
      .groupBy('account_id')
      .execute();
    for (const r of rows) seqs.set(r.account_id, Number(r.seq ?? 0));
  }
  const rows: ConsentEventsTable[] = events.map((e) => {
    const seq = (seqs.get(e.accountId) ?? 0) + 1;
    seqs.set(e.accountId, seq);
    return eventRow(e, seq);
  });
  for (let i = 0; i < rows.length; i += 1000) await tx.insertInto('consent_events').values(rows.slice(i, i + 1000)).execute();
  // Rebuild the touched purposes' states from the whole ledger of those accounts.
  const purposes = [...new Set(events.map((e) => e.purpose))];
  const touched = new Set(events.map((e) => `${e.accountId}\u0000${e.purpose}`));
  const ledgers = new Map<string, { account_id: string; purpose: string; entries: LedgerEntry[] }>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const ledger = await tx
      .selectFrom('consent_events')
      .select(['id', 'account_id', 'purpose', 'action', 'at', 'seq', 'source'])
      .where('business_id', '=', businessId)
      .where('account_id', 'in', accountIds.slice(i, i + 500))
      .where('purpose', 'in', purposes)
      .execute();
    for (const r of ledger) {
      const key = `${r.account_id}\u0000${r.purpose}`;
      if (!touched.has(key)) continue;
      const entry = ledgers.get(key) ?? { account_id: r.account_id, purpose: r.purpose, entries: [] };
      entry.entries.push({ id: r.id, action: r.action, at: Number(r.at), seq: Number(r.seq), source: r.source });
      ledgers.set(key, entry);
    }
  }
  const states = [...ledgers.values()].flatMap((l) => {
    const derived = deriveState(l.entries);
    return derived ? [{ business_id: businessId, account_id: l.account_id, purpose: l.purpose, state: derived.state, since: derived.by.at, source: derived.by.source, event_id: derived.by.id }] : [];
  });
  for (let i = 0; i < states.length; i += 1000) {
    await tx
      .insertInto('consent_state')
      .values(states.slice(i, i + 1000))
      .onConflict((oc) =>
        oc.columns(['business_id', 'account_id', 'purpose']).doUpdateSet((eb) => ({ state: eb.ref('excluded.state'), since: eb.ref('excluded.since'), source: eb.ref('excluded.source'), event_id: eb.ref('excluded.event_id') })),
      )
      .execute();
  }
}

/** Recomputes one purpose's state row from the ledger (none left: the row goes). */
export async function rebuildState(tx: Tx, key: { businessId: string; accountId: string; purpose: string }): Promise<'opted_in' | 'opted_out' | null> {
  const derived = deriveState(await ledgerOf(tx, key));
  if (!derived) {
    await tx.deleteFrom('consent_state').where('business_id', '=', key.businessId).where('account_id', '=', key.accountId).where('purpose', '=', key.purpose).execute();
    return null;
  }
  const { state, by } = derived;
  await tx
    .insertInto('consent_state')
    .values({ business_id: key.businessId, account_id: key.accountId, purpose: key.purpose, state, since: by.at, source: by.source, event_id: by.id })
    .onConflict((oc) => oc.columns(['business_id', 'account_id', 'purpose']).doUpdateSet({ state, since: by.at, source: by.source, event_id: by.id }))
    .execute();
  return state;
}

/**
 * The states of these accounts, through the primary key. Unordered: an ORDER BY purpose led
 * SQLite (which has no statistics) to walk the business's whole purpose index instead, 13 ms a
 * call at 100,000 contacts, and a campaign calls it for every batch. Exported for the plan's test.
 */
export function statesQuery(db: Reader, businessId: string, accountIds: readonly string[]) {
  return db.selectFrom('consent_state').select(['account_id', 'purpose', 'state', 'since', 'source']).where('business_id', '=', businessId).where('account_id', 'in', accountIds);
}

/** Current state of every purpose for these accounts with one business (purposes in order). */
export async function statesOf(db: Reader, businessId: string, accountIds: readonly string[]): Promise<Map<string, ConsentState>> {
  const out = new Map<string, ConsentState>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await statesQuery(db, businessId, accountIds.slice(i, i + 500)).execute();
    rows.sort((a, b) => (a.purpose < b.purpose ? -1 : a.purpose > b.purpose ? 1 : 0));
    for (const r of rows) {
      const state = out.get(r.account_id) ?? {};
      state[r.purpose] = { state: r.state as 'opted_in' | 'opted_out', since: Number(r.since), source: r.source as ConsentSource };
      out.set(r.account_id, state);
    }
  }
  return out;
}

/** One purpose's current state. */
export async function stateOf(db: Reader, key: { businessId: string; accountId: string; purpose: string }): Promise<'opted_in' | 'opted_out' | null> {
  const row = await db
    .selectFrom('consent_state')
    .select('state')
    .where('business_id', '=', key.businessId)
    .where('account_id', '=', key.accountId)
    .where('purpose', '=', key.purpose)
    .executeTakeFirst();
  return (row?.state as 'opted_in' | 'opted_out' | undefined) ?? null;
}

/** The ledger of one account with one business, in recording order. */
export async function eventsOf(db: Reader, businessId: string, accountId: string): Promise<ConsentEvent[]> {
  const rows = await db.selectFrom('consent_events').selectAll().where('business_id', '=', businessId).where('account_id', '=', accountId).orderBy('seq').execute();
  return rows.map(eventView);
}

export function eventView(r: ConsentEventsTable): ConsentEvent {
  return {
    id: r.id,
    purpose: r.purpose,
    action: r.action as 'opt_in' | 'opt_out',
    source: r.source as ConsentSource,
    at: Number(r.at),
    recorded_at: Number(r.recorded_at),
    wording: r.wording,
    evidence: r.evidence,
    collected_via: r.collected_via,
    actor_id: r.actor_id,
    page: r.page,
    importer: r.importer,
  };
}
