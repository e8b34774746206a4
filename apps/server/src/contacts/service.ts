/**
 * Contacts for a business team: the customer list (search, cursor pages), tags, typed attributes,
 * consent purposes and the ledger as the team sees it, the suppression list, and GDPR export and
 * erasure. Every method takes the resolved BusinessActor (routes.ts asks business.actor for the
 * permission first) and reads only that business's rows: another business's contact id is 404.
 *
 * The rule the whole capability keeps: a team may record an opt-out at any time, but an opt-in
 * only with proof (the words agreed to, when, an evidence reference); without it the answer is
 * 400 `consent_proof_required`. People opt themselves in on the subscribe page or with START.
 */
import {
  type AttributeDefinition,
  BUILT_IN_PURPOSES,
  type ConsentPurpose,
  type ConsentProof,
  type Contact,
  type ContactExport,
  type CreateContactBody,
  type ErasureReply,
  MAX_ATTRIBUTE_DEFINITIONS,
  MAX_CONSENT_PURPOSES,
  type RecordConsentBody,
  type Suppression,
  type UpdateContactBody,
} from '@mmd/contracts';
import { accountBasics, accountByHandle, accountsByIds } from '../accounts/index.ts';
import { AppError, notFound } from '../errors.ts';
import { sql } from 'kysely';
import { type Database, type Tx, isUniqueViolation } from '../platform/db/index.ts';
import type { BusinessActor } from './business-port.ts';
import { contactIdFor } from '../lib/ids.ts';
import { appendConsent, eventsOf, statesOf } from './consent.ts';
import type { ContactsTable } from './schema.ts';
import { type AttributeTypeName, canonicalLocale, checkTimeZone, proofTime, readAttribute, storeAttribute } from './validate.ts';

type Reader = Database['db'] | Tx;

/** The wording of the built-in purposes until a business writes its own. */
export const DEFAULT_WORDING: Record<(typeof BUILT_IN_PURPOSES)[number], string> = {
  marketing: 'Send me offers, news and promotions in my chat with {business}. I can reply STOP at any time.',
  transactional: 'Send me messages about my orders, bookings and account with {business}.',
  surveys: 'Ask me for feedback and send me surveys from {business}. I can reply STOP at any time.',
  support: 'Answer my questions and requests in my chat with {business}.',
};

const SUBSCRIBABLE_BY_DEFAULT = new Set(['marketing', 'surveys']);

export function isBuiltIn(key: string): key is (typeof BUILT_IN_PURPOSES)[number] {
  return (BUILT_IN_PURPOSES as readonly string[]).includes(key);
}

function proofRequired(purpose: string): AppError {
  return new AppError('consent_proof_required', `recording an opt-in to ${purpose} for someone else needs proof: the wording they agreed to, when, and an evidence reference`, {
    errors: [{ path: '/proof', message: 'required for opt_in: { wording, at, evidence }' }],
  });
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^ct_[A-Za-z0-9_-]{1,40}$/.test(id)) throw new AppError('validation_failed', 'this cursor is not one this API gave', { errors: [{ path: '/after', message: 'unknown cursor' }] });
  return id;
}

export interface ContactsCoreDeps {
  db: Database;
  clock: () => number;
  /**
   * What other capabilities erase about a person in the same transaction as contacts' erase
   * (app.ts passes the inbox's eraseNotesAbout). Each returns what it removed, for the reply.
   */
  eraseElsewhere?: ReadonlyArray<(tx: Tx, key: { businessId: string; accountId: string }) => Promise<string>>;
}

/** Purposes of one business: built-ins with its own or the default wording, then its own. */
export async function purposesOf(db: Reader, business: { id: string; handle: string }): Promise<ConsentPurpose[]> {
  const rows = await db.selectFrom('consent_purposes').selectAll().where('business_id', '=', business.id).orderBy('key').execute();
  const own = new Map(rows.map((r) => [r.key, r]));
  const out: ConsentPurpose[] = BUILT_IN_PURPOSES.map((key) => {
    const row = own.get(key);
    return {
      key,
      wording: row?.wording ?? DEFAULT_WORDING[key].replaceAll('{business}', `@${business.handle}`),
      built_in: true,
      subscribable: row ? Number(row.subscribable) === 1 : SUBSCRIBABLE_BY_DEFAULT.has(key),
    };
  });
  for (const r of rows) if (!isBuiltIn(r.key)) out.push({ key: r.key, wording: r.wording, built_in: false, subscribable: Number(r.subscribable) === 1 });
  return out;
}

export async function attributeDefs(db: Reader, businessId: string): Promise<Map<string, AttributeTypeName>> {
  const rows = await db.selectFrom('contact_attribute_defs').select(['key', 'type']).where('business_id', '=', businessId).orderBy('key').execute();
  return new Map(rows.map((r) => [r.key, r.type as AttributeTypeName]));
}

/** Contact rows as the API shows them (tags, attributes, consent, suppression, handle), in the given order. */
export async function contactViews(db: Reader, businessId: string, rows: readonly ContactsTable[]): Promise<Contact[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const accountIds = rows.map((r) => r.account_id);
  const [tags, attrs, defs, states, suppressed, accounts] = await Promise.all([
    db.selectFrom('contact_tags').select(['contact_id', 'tag']).where('contact_id', 'in', ids).orderBy('contact_id').orderBy('tag').execute(),
    db.selectFrom('contact_attributes').select(['contact_id', 'key', 'text_value', 'num_value']).where('contact_id', 'in', ids).orderBy('contact_id').orderBy('key').execute(),
    attributeDefs(db, businessId),
    statesOf(db, businessId, accountIds),
    db.selectFrom('suppressions').select('account_id').where('business_id', '=', businessId).where('account_id', 'in', accountIds).execute(),
    accountsByIds(db, accountIds),
  ]);
  const suppressedSet = new Set(suppressed.map((s) => s.account_id));
  const group = <T extends { contact_id: string }>(list: T[]) => {
    const by = new Map<string, T[]>();
    for (const x of list) {
      const mine = by.get(x.contact_id);
      if (mine) mine.push(x);
      else by.set(x.contact_id, [x]);
    }
    return by;
  };
  const attrsOf = group(attrs);
  const tagsOf = group(tags);
  return rows.map((r) => {
    const attributes: Record<string, string | number | boolean> = {};
    for (const a of attrsOf.get(r.id) ?? []) {
      const value = readAttribute(defs.get(a.key) ?? 'text', a);
      if (value !== null) attributes[a.key] = value;
    }
    return {
      id: r.id,
      account_id: r.account_id,
      handle: accounts.get(r.account_id)?.handle ?? null,
      external_id: r.external_id,
      name: r.name,
      locale: r.locale,
      time_zone: r.time_zone,
      tags: (tagsOf.get(r.id) ?? []).map((t) => t.tag),
      attributes,
      source: r.source,
      consent: states.get(r.account_id) ?? {},
      suppressed: suppressedSet.has(r.account_id),
      created_at: Number(r.created_at),
      updated_at: Number(r.updated_at),
      erased_at: r.erased_at === null ? null : Number(r.erased_at),
      last_inbound_at: r.last_inbound_at === null ? null : Number(r.last_inbound_at),
      last_read_at: r.last_read_at == null ? null : Number(r.last_read_at),
      last_clicked_at: r.last_clicked_at == null ? null : Number(r.last_clicked_at),
    };
  });
}

/** The contact of one account with one business, made if missing (chat, subscribe page). */
export async function ensureContact(tx: Tx, options: { businessId: string; accountId: string; source: string; at: number }): Promise<{ contact: ContactsTable; created: boolean }> {
  const existing = await tx.selectFrom('contacts').selectAll().where('business_id', '=', options.businessId).where('account_id', '=', options.accountId).executeTakeFirst();
  if (existing) return { contact: existing, created: false };
  const row: ContactsTable = {
    id: contactIdFor(options.accountId),
    business_id: options.businessId,
    account_id: options.accountId,
    external_id: null,
    name: null,
    locale: null,
    time_zone: null,
    source: options.source,
    created_at: options.at,
    updated_at: options.at,
    erased_at: null,
    last_inbound_at: null,
    last_read_at: null,
    last_clicked_at: null,
  };
  await tx.insertInto('contacts').values(row).execute();
  return { contact: row, created: true };
}

/** Validates attribute values against the business's definitions; returns rows to write (null value: delete). */
export function prepareAttributes(defs: Map<string, AttributeTypeName>, values: Record<string, unknown>): { key: string; stored: { text_value: string | null; num_value: number | null } | null }[] {
  const out: { key: string; stored: { text_value: string | null; num_value: number | null } | null }[] = [];
  const errors: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(values)) {
    const type = defs.get(key);
    const path = `/attributes/${key}`;
    if (!type) {
      errors.push({ path, message: `unknown attribute "${key}": define it first (POST /v1/business/contact-attributes)` });
      continue;
    }
    if (value === null) {
      out.push({ key, stored: null });
      continue;
    }
    try {
      out.push({ key, stored: storeAttribute(type, value, path) });
    } catch (err) {
      if (err instanceof AppError && err.extra.errors) errors.push(...err.extra.errors);
      else throw err;
    }
  }
  if (errors.length) throw new AppError(errors.some((e) => e.message.includes('phone number')) && errors.length === 1 ? 'invalid_phone' : 'validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
  return out;
}

export async function writeAttributes(tx: Tx, businessId: string, contactId: string, rows: ReturnType<typeof prepareAttributes>) {
  for (const { key, stored } of rows) {
    if (stored === null) {
      await tx.deleteFrom('contact_attributes').where('contact_id', '=', contactId).where('key', '=', key).execute();
      continue;
    }
    await tx
      .insertInto('contact_attributes')
      .values({ business_id: businessId, contact_id: contactId, key, ...stored })
      .onConflict((oc) => oc.columns(['contact_id', 'key']).doUpdateSet(stored))
      .execute();
  }
}

export async function addTags(tx: Tx, businessId: string, contactId: string, tags: readonly string[], at: number) {
  for (const tag of new Set(tags)) {
    await tx.insertInto('contact_tags').values({ business_id: businessId, contact_id: contactId, tag, created_at: at }).onConflict((oc) => oc.columns(['contact_id', 'tag']).doNothing()).execute();
  }
}

export function createContactsCore(deps: ContactsCoreDeps) {
  const { db, clock } = deps;

  async function load(reader: Reader, businessId: string, contactId: string): Promise<ContactsTable> {
    const row = await reader.selectFrom('contacts').selectAll().where('id', '=', contactId).where('business_id', '=', businessId).executeTakeFirst();
    if (!row) throw notFound('contact');
    return row;
  }
  async function view(reader: Reader, businessId: string, contactId: string): Promise<Contact> {
    const [contact] = await contactViews(reader, businessId, [await load(reader, businessId, contactId)]);
    return contact!;
  }
  function notErased(row: ContactsTable) {
    if (row.erased_at !== null) throw new AppError('contact_erased', 'this contact was erased on request; it can no longer be changed');
  }

  async function checkPurpose(reader: Reader, businessId: string, purpose: string, path: string) {
    if (isBuiltIn(purpose)) return;
    const row = await reader.selectFrom('consent_purposes').select('key').where('business_id', '=', businessId).where('key', '=', purpose).executeTakeFirst();
    if (!row) throw new AppError('validation_failed', `unknown purpose "${purpose}": define it first (PUT /v1/business/consent-purposes/${purpose})`, { errors: [{ path, message: 'unknown purpose' }] });
  }

  function proofEvent(actor: BusinessActor, purpose: string, proof: ConsentProof, now: number, path: string) {
    return {
      businessId: actor.businessId,
      purpose,
      action: 'opt_in' as const,
      source: 'api' as const,
      at: proofTime(proof.at, now, `${path}/at`),
      recordedAt: now,
      wording: proof.wording,
      evidence: proof.evidence,
      collectedVia: proof.collected_via ?? null,
      actorId: actor.accountId,
    };
  }

  async function resolvePerson(input: { handle?: string; account_id?: string }) {
    if ((input.handle === undefined) === (input.account_id === undefined)) {
      throw new AppError('validation_failed', 'give the person as handle or account_id (one of them)', { errors: [{ path: '/handle', message: 'handle or account_id' }] });
    }
    const account = input.handle !== undefined ? await accountByHandle(db.db, input.handle.replace(/^@/, '')) : await accountBasics(db.db, input.account_id!);
    if (!account) throw notFound('account');
    if (account.kind !== 'person') throw new AppError('validation_failed', 'contacts are people: bots and businesses cannot be contacts', { errors: [{ path: input.handle !== undefined ? '/handle' : '/account_id', message: `a ${account.kind} account` }] });
    return account;
  }

  /** `templateContact` for many contacts at once (a sender's batch): a few queries, not a few per contact. Erased and unknown ones are left out. */
  async function templateContacts(businessId: string, contactIds: readonly string[]) {
    const out = new Map<string, { id: string; first_name: string | null; last_name: string | null; display_name: string | null; handle: string | null; locale: string | null; time_zone: string | null; external_id: string | null; attributes: Contact['attributes'] }>();
    for (let i = 0; i < contactIds.length; i += 500) {
      const rows = await db.db.selectFrom('contacts').selectAll().where('business_id', '=', businessId).where('id', 'in', contactIds.slice(i, i + 500)).where('erased_at', 'is', null).execute();
      for (const c of await contactViews(db.db, businessId, rows)) {
        const text = (key: string) => (typeof c.attributes[key] === 'string' ? (c.attributes[key] as string) : null);
        out.set(c.id, {
          id: c.id,
          first_name: text('first_name'),
          last_name: text('last_name'),
          display_name: c.name,
          handle: c.handle,
          locale: c.locale,
          time_zone: c.time_zone,
          external_id: c.external_id,
          attributes: c.attributes,
        });
      }
    }
    return out;
  }

  return {
    load,
    view: (businessId: string, contactId: string) => view(db.db, businessId, contactId),

    /** These contacts of the business as senders need them (unknown and erased ones left out), by id. */
    async contactsByIds(options: { businessId: string; ids: readonly string[] }): Promise<{ id: string; account_id: string; time_zone: string | null; locale: string | null }[]> {
      const out: { id: string; account_id: string; time_zone: string | null; locale: string | null }[] = [];
      const ids = [...new Set(options.ids)];
      // Chunks keep each IN list within both databases' parameter limits.
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await db.db
          .selectFrom('contacts')
          .select(['id', 'account_id', 'time_zone', 'locale'])
          .where('business_id', '=', options.businessId)
          .where('id', 'in', ids.slice(i, i + 500))
          .where('erased_at', 'is', null)
          .orderBy('id')
          .execute();
        out.push(...rows);
      }
      return out;
    },

    /** Contact ids for these external ids of the business (unknown and erased ones left out). */
    async contactIdsByExternalIds(options: { businessId: string; externalIds: readonly string[] }): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      const ids = [...new Set(options.externalIds)];
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await db.db
          .selectFrom('contacts')
          .select(['id', 'external_id'])
          .where('business_id', '=', options.businessId)
          .where('external_id', 'in', ids.slice(i, i + 500))
          .where('erased_at', 'is', null)
          .execute();
        for (const r of rows) if (r.external_id !== null) out.set(r.external_id, r.id);
      }
      return out;
    },

    /**
     * A contact as templates fill variables in: `first_name` / `last_name` are the attributes of
     * those keys when the business defined them (imports map name columns to attributes), and
     * `display_name` the contact's name. null for an unknown (or other business's) contact.
     */
    async templateContact(businessId: string, contactId: string) {
      return (await templateContacts(businessId, [contactId])).get(contactId) ?? null;
    },

    templateContacts,

    async list(businessId: string, options: { q?: string; tag?: string; after?: string; limit?: number }): Promise<{ contacts: Contact[]; next: string | null }> {
      const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
      let query = db.db.selectFrom('contacts').selectAll().where('business_id', '=', businessId);
      if (options.after) query = query.where('id', '>', decodeCursor(options.after));
      if (options.tag) {
        const tag = options.tag;
        query = query.where((eb) => eb.exists(eb.selectFrom('contact_tags').select('contact_tags.tag').whereRef('contact_tags.contact_id', '=', 'contacts.id').where('contact_tags.tag', '=', tag)));
      }
      if (options.q) {
        const q = options.q.trim();
        const byHandle = await accountByHandle(db.db, q.replace(/^@/, ''));
        const pattern = `%${q.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
        query = query.where((eb) =>
          eb.or([
            // An explicit ESCAPE character: SQLite's LIKE has none otherwise (PostgreSQL's is a backslash).
            sql<boolean>`lower(${eb.ref('name')}) like ${pattern} escape '!'`,
            eb('external_id', '=', q),
            ...(byHandle ? [eb('account_id', '=', byHandle.id)] : []),
          ]),
        );
      }
      const rows = await query.orderBy('id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      return { contacts: await contactViews(db.db, businessId, page), next: rows.length > limit ? encodeCursor(page.at(-1)!.id) : null };
    },

    async create(actor: BusinessActor, body: CreateContactBody): Promise<Contact> {
      const person = await resolvePerson(body);
      const now = clock();
      const locale = body.locale !== undefined ? canonicalLocale(body.locale) : null;
      const timeZone = body.time_zone !== undefined ? checkTimeZone(body.time_zone) : null;
      // Consent first: no proof, nothing is written.
      for (const c of body.consent ?? []) if (!c.proof) throw proofRequired(c.purpose);
      const defs = await attributeDefs(db.db, actor.businessId);
      const attributes = prepareAttributes(defs, body.attributes ?? {});
      for (const [i, c] of (body.consent ?? []).entries()) await checkPurpose(db.db, actor.businessId, c.purpose, `/consent/${i}/purpose`);
      const consent = (body.consent ?? []).map((c, i) => proofEvent(actor, c.purpose, c.proof as ConsentProof, now, `/consent/${i}/proof`));
      try {
        const id = await db.writeTransaction(async (tx) => {
          const existing = await tx.selectFrom('contacts').select('id').where('business_id', '=', actor.businessId).where('account_id', '=', person.id).executeTakeFirst();
          if (existing) throw new AppError('conflict', `@${person.handle} is already a contact (${existing.id})`);
          const row: ContactsTable = {
            id: contactIdFor(person.id),
            business_id: actor.businessId,
            account_id: person.id,
            external_id: body.external_id ?? null,
            name: body.name ?? null,
            locale,
            time_zone: timeZone,
            source: 'api',
            created_at: now,
            updated_at: now,
            erased_at: null,
            last_inbound_at: null,
          };
          await tx.insertInto('contacts').values(row).execute();
          await addTags(tx, actor.businessId, row.id, body.tags ?? [], now);
          await writeAttributes(tx, actor.businessId, row.id, attributes);
          for (const e of consent) await appendConsent(tx, { ...e, accountId: person.id });
          return row.id;
        });
        return await view(db.db, actor.businessId, id);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', 'another contact of this business has this external_id (or this person is already a contact)');
        throw err;
      }
    },

    async update(actor: BusinessActor, contactId: string, body: UpdateContactBody): Promise<Contact> {
      const now = clock();
      const locale = body.locale ? canonicalLocale(body.locale) : body.locale;
      const timeZone = body.time_zone ? checkTimeZone(body.time_zone) : body.time_zone;
      const attributes = body.attributes ? prepareAttributes(await attributeDefs(db.db, actor.businessId), body.attributes) : [];
      try {
        await db.writeTransaction(async (tx) => {
          const row = await load(tx, actor.businessId, contactId);
          notErased(row);
          const set: Partial<ContactsTable> = { updated_at: now };
          if (body.external_id !== undefined) set.external_id = body.external_id;
          if (body.name !== undefined) set.name = body.name;
          if (locale !== undefined) set.locale = locale;
          if (timeZone !== undefined) set.time_zone = timeZone;
          await tx.updateTable('contacts').set(set).where('id', '=', row.id).execute();
          if (body.tags) {
            await tx.deleteFrom('contact_tags').where('contact_id', '=', row.id).execute();
            await addTags(tx, actor.businessId, row.id, body.tags, now);
          }
          if (body.add_tags) await addTags(tx, actor.businessId, row.id, body.add_tags, now);
          if (body.remove_tags?.length) await tx.deleteFrom('contact_tags').where('contact_id', '=', row.id).where('tag', 'in', body.remove_tags).execute();
          await writeAttributes(tx, actor.businessId, row.id, attributes);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', 'another contact of this business has this external_id');
        throw err;
      }
      return view(db.db, actor.businessId, contactId);
    },

    /**
     * Removes the contact, its tags and attributes. Its consent ledger and any suppression stay (a
     * STOP is never forgotten). An erased contact's row stays too: it is what keeps the person
     * erased (an import or a create refuses them), so deleting it would bring them back.
     */
    async remove(actor: BusinessActor, contactId: string): Promise<void> {
      await db.writeTransaction(async (tx) => {
        const row = await load(tx, actor.businessId, contactId);
        notErased(row);
        await tx.deleteFrom('contact_tags').where('contact_id', '=', row.id).execute();
        await tx.deleteFrom('contact_attributes').where('contact_id', '=', row.id).execute();
        await tx.deleteFrom('contacts').where('id', '=', row.id).execute();
      });
    },

    async ledger(businessId: string, contactId: string) {
      const row = await load(db.db, businessId, contactId);
      const [states, events, suppressed] = await Promise.all([
        statesOf(db.db, businessId, [row.account_id]),
        eventsOf(db.db, businessId, row.account_id),
        db.db.selectFrom('suppressions').select('account_id').where('business_id', '=', businessId).where('account_id', '=', row.account_id).executeTakeFirst(),
      ]);
      return { contact_id: row.id, state: states.get(row.account_id) ?? {}, events, suppressed: suppressed !== undefined };
    },

    async recordConsent(actor: BusinessActor, contactId: string, body: RecordConsentBody) {
      const now = clock();
      if (body.action === 'opt_in' && !body.proof) throw proofRequired(body.purpose);
      await checkPurpose(db.db, actor.businessId, body.purpose, '/purpose');
      await db.writeTransaction(async (tx) => {
        const row = await load(tx, actor.businessId, contactId);
        if (body.action === 'opt_in') {
          notErased(row);
          await appendConsent(tx, { ...proofEvent(actor, body.purpose, body.proof as ConsentProof, now, '/proof'), accountId: row.account_id });
        } else {
          await appendConsent(tx, {
            businessId: actor.businessId,
            accountId: row.account_id,
            purpose: body.purpose,
            action: 'opt_out',
            source: 'api',
            at: body.proof ? proofTime(body.proof.at, now) : now,
            recordedAt: now,
            wording: body.proof?.wording ?? null,
            evidence: body.proof?.evidence ?? null,
            collectedVia: body.proof?.collected_via ?? null,
            actorId: actor.accountId,
          });
        }
      });
      return this.ledger(actor.businessId, contactId);
    },

    async exportContact(actor: BusinessActor, contactId: string): Promise<ContactExport> {
      return db.readTransaction(async (tx) => {
        const row = await load(tx, actor.businessId, contactId);
        const [contact] = await contactViews(tx, actor.businessId, [row]);
        const [events, sends, suppression, pending] = await Promise.all([
          eventsOf(tx, actor.businessId, row.account_id),
          tx.selectFrom('contact_sends').select(['purpose', 'at']).where('business_id', '=', actor.businessId).where('account_id', '=', row.account_id).orderBy('at').orderBy('send_key').execute(),
          tx.selectFrom('suppressions').selectAll().where('business_id', '=', actor.businessId).where('account_id', '=', row.account_id).executeTakeFirst(),
          tx
            .selectFrom('consent_confirmations')
            .select(['purpose', 'requested_at'])
            .where('business_id', '=', actor.businessId)
            .where('account_id', '=', row.account_id)
            .where('done_at', 'is', null)
            .orderBy('requested_at')
            .execute(),
        ]);
        return {
          exported_at: clock(),
          business: { id: actor.businessId, handle: actor.businessHandle },
          contact: contact!,
          consent_events: events,
          sends: sends.map((s) => ({ purpose: s.purpose, at: Number(s.at) })),
          suppression: suppression ? { account_id: suppression.account_id, handle: contact!.handle, reason: suppression.reason, created_at: Number(suppression.created_at) } : null,
          pending_confirmations: pending.map((p) => ({ purpose: p.purpose, requested_at: Number(p.requested_at) })),
        };
      });
    },

    /**
     * GDPR Art. 17: removes everything personal and keeps the minimal proof the business needs
     * to never message the person again (Art. 17(3)(b) and (e): a legal obligation, and the
     * defence of legal claims): the account id, an opt-out per purpose with its time, and a
     * suppression entry. Opt-in records and their evidence are deleted; earlier opt-outs keep
     * only purpose, source and time. This is the one place the ledger is rewritten, because the law
     * asks for it.
     */
    async erase(actor: BusinessActor, contactId: string): Promise<ErasureReply> {
      if (actor.role !== 'owner' && actor.role !== 'admin') throw new AppError('forbidden', 'erasing a contact is for the business owner and admins');
      const now = clock();
      const removedElsewhere: string[] = [];
      await db.writeTransaction(async (tx) => {
        removedElsewhere.length = 0;
        const row = await load(tx, actor.businessId, contactId);
        const key = { businessId: actor.businessId, accountId: row.account_id };
        await tx.deleteFrom('contact_tags').where('contact_id', '=', row.id).execute();
        await tx.deleteFrom('contact_attributes').where('contact_id', '=', row.id).execute();
        await tx
          .updateTable('contacts')
          .set({ external_id: null, name: null, locale: null, time_zone: null, last_inbound_at: null, last_read_at: null, last_clicked_at: null, erased_at: now, updated_at: now })
          .where('id', '=', row.id)
          .execute();
        const purposes = new Set<string>(['marketing', ...BUILT_IN_PURPOSES.filter((p) => p !== 'transactional')]);
        const before = await tx.selectFrom('consent_events').select('purpose').where('business_id', '=', key.businessId).where('account_id', '=', key.accountId).execute();
        for (const e of before) purposes.add(e.purpose);
        await tx.deleteFrom('consent_events').where('business_id', '=', key.businessId).where('account_id', '=', key.accountId).where('action', '=', 'opt_in').execute();
        await tx
          .updateTable('consent_events')
          .set({ wording: null, evidence: null, collected_via: null, actor_id: null, page: null, importer: null })
          .where('business_id', '=', key.businessId)
          .where('account_id', '=', key.accountId)
          .execute();
        for (const purpose of [...purposes].sort()) {
          await appendConsent(tx, { ...key, purpose, action: 'opt_out', source: 'erasure', at: now, recordedAt: now });
        }
        await tx.deleteFrom('contact_sends').where('business_id', '=', key.businessId).where('account_id', '=', key.accountId).execute();
        await tx.deleteFrom('consent_confirmations').where('business_id', '=', key.businessId).where('account_id', '=', key.accountId).execute();
        await tx
          .insertInto('suppressions')
          .values({ business_id: key.businessId, account_id: key.accountId, reason: 'erased', actor_id: null, created_at: now })
          .onConflict((oc) => oc.columns(['business_id', 'account_id']).doUpdateSet({ reason: 'erased', actor_id: null }))
          .execute();        for (const eraseOther of deps.eraseElsewhere ?? []) removedElsewhere.push(await eraseOther(tx, key));
      });
      return {
        contact_id: contactId,
        erased_at: now,
        removed: ['name', 'external_id', 'locale', 'time_zone', 'tags', 'attributes (phone numbers included)', 'opt-in records and their evidence', 'wording, evidence and actor of opt-out records', 'send history', 'pending confirmations', ...removedElsewhere],
        kept: [
          'the account id, to recognise the person and never message them again',
          'one opt-out per purpose with its time (source: erasure), and earlier opt-outs reduced to purpose, source and time',
          'a suppression entry (reason: erased)',
          'personalised images and clips already rendered for a template (cached by the render spec, not by contact: a render that drew the name in stays until the template media is replaced or the media is deleted)',
        ],
        notice:
          'Erased under GDPR Art. 17. Kept only the minimal proof that the person opted out and when (Art. 17(3)(b), (e)), so that no marketing reaches them again. Messages in the chat itself belong to the conversation and are not changed; the person may delete their own.',
      };
    },

    // Attribute definitions
    async attributeDefinitions(businessId: string): Promise<AttributeDefinition[]> {
      const rows = await db.db.selectFrom('contact_attribute_defs').selectAll().where('business_id', '=', businessId).orderBy('key').execute();
      return rows.map((r) => ({ key: r.key, type: r.type as AttributeTypeName, created_at: Number(r.created_at) }));
    },
    async defineAttribute(actor: BusinessActor, input: { key: string; type: AttributeTypeName }): Promise<AttributeDefinition> {
      const now = clock();
      return db.writeTransaction(async (tx) => {
        const existing = await tx.selectFrom('contact_attribute_defs').selectAll().where('business_id', '=', actor.businessId).where('key', '=', input.key).executeTakeFirst();
        if (existing) {
          if (existing.type !== input.type) throw new AppError('conflict', `attribute "${input.key}" is already defined as ${existing.type}`);
          return { key: existing.key, type: existing.type as AttributeTypeName, created_at: Number(existing.created_at) };
        }
        const count = await tx.selectFrom('contact_attribute_defs').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', actor.businessId).executeTakeFirstOrThrow();
        if (Number(count.n) >= MAX_ATTRIBUTE_DEFINITIONS) throw new AppError('limit_reached', `at most ${MAX_ATTRIBUTE_DEFINITIONS} attributes per business`);
        await tx.insertInto('contact_attribute_defs').values({ business_id: actor.businessId, key: input.key, type: input.type, created_at: now }).execute();
        return { key: input.key, type: input.type, created_at: now };
      });
    },

    // Purposes
    purposes: (business: { id: string; handle: string }) => purposesOf(db.db, business),
    async putPurpose(actor: BusinessActor, key: string, input: { wording: string; subscribable?: boolean }): Promise<ConsentPurpose[]> {
      if (key === 'transactional' && input.subscribable) throw new AppError('validation_failed', 'transactional messages need no subscription', { errors: [{ path: '/subscribable', message: 'not for transactional' }] });
      const now = clock();
      await db.writeTransaction(async (tx) => {
        const existing = await tx.selectFrom('consent_purposes').select('subscribable').where('business_id', '=', actor.businessId).where('key', '=', key).executeTakeFirst();
        if (!existing && !isBuiltIn(key)) {
          const count = await tx.selectFrom('consent_purposes').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', actor.businessId).executeTakeFirstOrThrow();
          if (Number(count.n) + BUILT_IN_PURPOSES.length >= MAX_CONSENT_PURPOSES) throw new AppError('limit_reached', `at most ${MAX_CONSENT_PURPOSES} purposes per business`);
        }
        const subscribable = input.subscribable ?? (existing ? Number(existing.subscribable) === 1 : isBuiltIn(key) ? SUBSCRIBABLE_BY_DEFAULT.has(key) : true) ? 1 : 0;
        await tx
          .insertInto('consent_purposes')
          .values({ business_id: actor.businessId, key, wording: input.wording, subscribable, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['business_id', 'key']).doUpdateSet({ wording: input.wording, subscribable, updated_at: now }))
          .execute();
      });
      return purposesOf(db.db, { id: actor.businessId, handle: actor.businessHandle });
    },

    // Suppression list
    async suppressions(businessId: string, options: { after?: string; limit?: number }): Promise<{ suppressions: Suppression[]; next: string | null }> {
      const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
      let query = db.db.selectFrom('suppressions').selectAll().where('business_id', '=', businessId);
      if (options.after) query = query.where('account_id', '>', Buffer.from(options.after, 'base64url').toString('utf8'));
      const rows = await query.orderBy('account_id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const handles = await accountsByIds(db.db, page.map((r) => r.account_id));
      return {
        suppressions: page.map((r) => ({ account_id: r.account_id, handle: handles.get(r.account_id)?.handle ?? null, reason: r.reason, created_at: Number(r.created_at) })),
        next: rows.length > limit ? Buffer.from(page.at(-1)!.account_id, 'utf8').toString('base64url') : null,
      };
    },
    async suppress(actor: BusinessActor, input: { handle?: string; account_id?: string; reason?: string }): Promise<Suppression> {
      if ((input.handle === undefined) === (input.account_id === undefined)) throw new AppError('validation_failed', 'give handle or account_id (one of them)', { errors: [{ path: '/handle', message: 'handle or account_id' }] });
      const account = input.handle !== undefined ? await accountByHandle(db.db, input.handle.replace(/^@/, '')) : await accountBasics(db.db, input.account_id!);
      if (!account) throw notFound('account');
      const now = clock();
      const reason = input.reason ?? 'manual';
      await db.db
        .insertInto('suppressions')
        .values({ business_id: actor.businessId, account_id: account.id, reason, actor_id: actor.accountId, created_at: now })
        .onConflict((oc) => oc.columns(['business_id', 'account_id']).doNothing())
        .execute();
      const row = await db.db.selectFrom('suppressions').selectAll().where('business_id', '=', actor.businessId).where('account_id', '=', account.id).executeTakeFirstOrThrow();
      return { account_id: row.account_id, handle: account.handle, reason: row.reason, created_at: Number(row.created_at) };
    },
    /** An erasure's suppression stays: lifting it would let marketing reach someone who asked to be forgotten. */
    async unsuppress(actor: BusinessActor, accountId: string): Promise<void> {
      const row = await db.db.selectFrom('suppressions').select('reason').where('business_id', '=', actor.businessId).where('account_id', '=', accountId).executeTakeFirst();
      if (!row) throw notFound('suppression');
      if (row.reason === 'erased') throw new AppError('forbidden', 'this person was erased on request; only they can subscribe again (on the subscribe page)');
      await db.db.deleteFrom('suppressions').where('business_id', '=', actor.businessId).where('account_id', '=', accountId).execute();
    },
  };
}

export type ContactsCore = ReturnType<typeof createContactsCore>;
