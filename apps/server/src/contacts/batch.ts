/**
 * Contacts read and written a batch at a time, for the import job and the export: one query per
 * table per batch (chunked to stay within both databases' bound-parameter limits), never one per
 * contact. Same tables and stored forms as service.ts (schema.ts documents them).
 */
import type { Database, Tx } from '../platform/db/index.ts';
import type { ContactsTable } from './schema.ts';

type Reader = Database['db'] | Tx;
type Stored = { text_value: string | null; num_value: number | null };

/** SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535: stay well within. */
function chunks<T>(list: readonly T[], paramsPerItem: number): T[][] {
  const size = Math.max(1, Math.floor(20_000 / paramsPerItem));
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** The business's contacts of these accounts or with these external ids (erased ones included). */
export async function contactsOfAccountsOrExternalIds(db: Reader, businessId: string, accountIds: readonly string[], externalIds: readonly string[]): Promise<ContactsTable[]> {
  const out: ContactsTable[] = [];
  for (const part of chunks(accountIds, 1)) {
    if (part.length > 0) out.push(...(await db.selectFrom('contacts').selectAll().where('business_id', '=', businessId).where('account_id', 'in', part).execute()));
  }
  for (const part of chunks(externalIds, 1)) {
    if (part.length > 0) out.push(...(await db.selectFrom('contacts').selectAll().where('business_id', '=', businessId).where('external_id', 'in', part).execute()));
  }
  return out;
}

export async function insertContactRows(tx: Tx, rows: readonly ContactsTable[]): Promise<void> {
  for (const part of chunks(rows, 14)) if (part.length > 0) await tx.insertInto('contacts').values(part).execute();
}

export async function updateContactFields(tx: Tx, contactId: string, fields: Partial<Pick<ContactsTable, 'external_id' | 'name' | 'locale' | 'time_zone' | 'updated_at'>>): Promise<void> {
  await tx.updateTable('contacts').set(fields).where('id', '=', contactId).execute();
}

/** Each contact's tags. */
export async function tagsOfContacts(db: Reader, contactIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const part of chunks(contactIds, 1)) {
    if (part.length === 0) continue;
    const rows = await db.selectFrom('contact_tags').select(['contact_id', 'tag']).where('contact_id', 'in', part).orderBy('contact_id').orderBy('tag').execute();
    for (const r of rows) {
      const set = out.get(r.contact_id) ?? new Set<string>();
      set.add(r.tag);
      out.set(r.contact_id, set);
    }
  }
  return out;
}

export async function insertTagRows(tx: Tx, rows: readonly { business_id: string; contact_id: string; tag: string; created_at: number }[]): Promise<void> {
  for (const part of chunks(rows, 4)) {
    if (part.length > 0) await tx.insertInto('contact_tags').values(part).onConflict((oc) => oc.columns(['contact_id', 'tag']).doNothing()).execute();
  }
}

/** Each contact's attributes as stored. */
export async function attributesOfContacts(db: Reader, contactIds: readonly string[]): Promise<Map<string, Map<string, Stored>>> {
  const out = new Map<string, Map<string, Stored>>();
  for (const part of chunks(contactIds, 1)) {
    if (part.length === 0) continue;
    const rows = await db.selectFrom('contact_attributes').select(['contact_id', 'key', 'text_value', 'num_value']).where('contact_id', 'in', part).orderBy('contact_id').orderBy('key').execute();
    for (const r of rows) {
      const map = out.get(r.contact_id) ?? new Map<string, Stored>();
      map.set(r.key, { text_value: r.text_value, num_value: r.num_value === null ? null : Number(r.num_value) });
      out.set(r.contact_id, map);
    }
  }
  return out;
}

export async function upsertAttributeRows(tx: Tx, rows: readonly ({ business_id: string; contact_id: string; key: string } & Stored)[]): Promise<void> {
  for (const part of chunks(rows, 5)) {
    if (part.length === 0) continue;
    await tx
      .insertInto('contact_attributes')
      .values(part)
      .onConflict((oc) => oc.columns(['contact_id', 'key']).doUpdateSet((eb) => ({ text_value: eb.ref('excluded.text_value'), num_value: eb.ref('excluded.num_value') })))
      .execute();
  }
}

/** Defines attribute keys the business does not have yet; returns how many it has now. */
export async function defineMissingAttributes(tx: Tx, businessId: string, defs: ReadonlyMap<string, string>, at: number): Promise<number> {
  const rows = [...defs].map(([key, type]) => ({ business_id: businessId, key, type, created_at: at }));
  for (const part of chunks(rows, 4)) {
    if (part.length > 0) await tx.insertInto('contact_attribute_defs').values(part).onConflict((oc) => oc.columns(['business_id', 'key']).doNothing()).execute();
  }
  const { n } = await tx.selectFrom('contact_attribute_defs').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', businessId).executeTakeFirstOrThrow();
  return Number(n);
}

/** A key naming one opt-in an import recorded: re-importing the same proof records nothing new. */
export function optInKey(e: { accountId: string; purpose: string; at: number; evidence: string | null }): string {
  return `${e.accountId}\u0000${e.purpose}\u0000${e.at}\u0000${e.evidence ?? ''}`;
}

/** The opt-ins imports already recorded for these accounts (see optInKey). */
export async function importedOptIns(db: Reader, businessId: string, accountIds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const part of chunks(accountIds, 1)) {
    if (part.length === 0) continue;
    const rows = await db
      .selectFrom('consent_events')
      .select(['account_id', 'purpose', 'at', 'evidence'])
      .where('business_id', '=', businessId)
      .where('account_id', 'in', part)
      .where('source', '=', 'import')
      .where('action', '=', 'opt_in')
      .execute();
    for (const r of rows) out.add(optInKey({ accountId: r.account_id, purpose: r.purpose, at: Number(r.at), evidence: r.evidence }));
  }
  return out;
}

/** A page of the business's live (not erased) contacts in id order, for the export. */
export async function contactsPage(db: Reader, businessId: string, afterId: string | null, limit: number): Promise<ContactsTable[]> {
  let query = db.selectFrom('contacts').selectAll().where('business_id', '=', businessId).where('erased_at', 'is', null).orderBy('id').limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.execute();
}

/**
 * Records that a contact read a message from the business or tapped one of its tracked links
 * (campaigns call this), for segments' activity rules. Only ever moves the time forward.
 */
export async function recordActivity(db: Reader, options: { businessId: string; kind: 'read' | 'click'; at: number } & ({ accountId: string } | { contactId: string })): Promise<void> {
  const column = options.kind === 'read' ? 'last_read_at' : 'last_clicked_at';
  await db
    .updateTable('contacts')
    .set({ [column]: options.at })
    .where('business_id', '=', options.businessId)
    .where((eb) => ('accountId' in options ? eb('account_id', '=', options.accountId) : eb('id', '=', options.contactId)))
    .where('erased_at', 'is', null)
    .where((eb) => eb.or([eb(column, 'is', null), eb(column, '<', options.at)]))
    .execute();
}
