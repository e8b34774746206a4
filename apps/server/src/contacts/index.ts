/**
 * Contacts' public surface: what app.ts wires and what other capabilities (campaigns, import,
 * segments, inbox) use. Never query contacts' tables from elsewhere, except segments, which
 * compiles rules to SQL over the table shape documented in schema.ts (read-only).
 *
 * For campaigns and notifications (`services.contacts`):
 *   gate.check({ businessId, contactId | accountId, purpose, at, settings? })
 *     → { ok: true } | { ok: false, reason: 'not_a_contact' | 'erased' | 'suppressed' |
 *       'no_consent' | 'quiet_hours' | 'frequency_cap', retryAt?, detail }
 *     Call before every message. quiet_hours and frequency_cap carry `retryAt` (Unix ms): the
 *     message waits until then, it is not dropped. Transactional skips consent, suppression,
 *     quiet hours and caps, but never reaches an erased contact.
 *   gate.checkMany({ businessId, ids, by?: 'contact' | 'account', purpose, at, settings? })
 *     → Map id → verdict: the same answers for a batch in five queries (a sender's page).
 *   gate.record({ businessId, contactId | accountId, purpose, at, key })
 *     After a message actually went out; idempotent per `key` (use the campaign × contact key).
 *   people.unsubscribeUrl({ businessId, accountId, purpose }) → https://…/u/<token> (the web
 *     app's one-tap page) for a URL button, or null when MMD_PUBLIC_URL is not set (offer the
 *     STOP quick reply then). people.unsubscribeToken(…) is the bare token (POST /v1/unsubscribe).
 *   core.view(businessId, contactId) → the Contact (locale, time_zone, attributes for templates).
 *   core.contactsByIds({ businessId, ids }) → [{ id, account_id, time_zone, locale }] (erased and
 *     unknown left out); core.contactIdsByExternalIds({ businessId, externalIds }) → Map.
 *   core.templateContact(businessId, contactId) → what templates fill variables from.
 *
 * For import (write side, same rules as the API):
 *   canonicalLocale, checkTimeZone, normalisePhone, storeAttribute (validate.ts),
 *   attributeDefs(db, businessId), prepareAttributes(defs, values), writeAttributes(tx, …),
 *   addTags(tx, …), appendConsent(tx, { …, source: 'import', importer: jobId }) — an import
 *   row's opt-in must carry proof (wording, at, evidence) or be refused `consent_proof_required`.
 */
import type { Database } from '../platform/db/index.ts';
import type { BusinessPort } from './business-port.ts';
import { type ChatDeps, createContactsChat } from './chat.ts';
import { createPeople, type PeopleDeps } from './people.ts';
import { createSendGate } from './send-gate.ts';
import { type ContactsCoreDeps, createContactsCore } from './service.ts';

export interface ContactsDeps {
  db: Database;
  clock: () => number;
  business: BusinessPort;
  /** Signs one-tap unsubscribe tokens (a server secret). */
  secret: Buffer;
  publicUrl: string;
  openChat: PeopleDeps['openChat'];
  send: PeopleDeps['send'];
  enqueueReply: ChatDeps['enqueueReply'];
  log: ChatDeps['log'];
  /** Other capabilities' erasure of the person, run in contacts' erase transaction (ContactsCoreDeps). */
  eraseElsewhere?: ContactsCoreDeps['eraseElsewhere'];
}

export function createContacts(deps: ContactsDeps) {
  const core = createContactsCore({ db: deps.db, clock: deps.clock, eraseElsewhere: deps.eraseElsewhere });
  const people = createPeople(deps);
  const gate = createSendGate({ db: deps.db, business: deps.business });
  const chat = createContactsChat(deps);
  return { core, people, gate, chat, business: deps.business };
}

export type Contacts = ReturnType<typeof createContacts>;

export { contactsRoutes } from './routes.ts';
export type { ContactsTables } from './schema.ts';
export type { ContactsReplyPayload } from './chat.ts';
export type { BusinessActor, BusinessPort, BusinessPermission, BusinessSettingsView } from './business-port.ts';
export type { GateVerdict, GateReason } from './gate.ts';
export { decide as decideGate, quietHoursEnd } from './gate.ts';
export { canonicalLocale, checkTimeZone, normalisePhone, storeAttribute, type AttributeTypeName } from './validate.ts';
export { attributeDefs, prepareAttributes, writeAttributes, addTags, ensureContact, purposesOf } from './service.ts';
export { appendConsent, stateOf, statesOf, type ConsentEventInput } from './consent.ts';
export { matchKeyword } from './keywords.ts';
// Batch reads and writes (import, export) and activity for segments (campaigns record reads and clicks).
export { recordActivity } from './batch.ts';
