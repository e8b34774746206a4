/**
 * The tables the contacts capability owns (Kysely types). Times are Unix milliseconds.
 *
 * Shape, for segments (the import helper compiles rules to SQL over these; both dialects):
 *
 *   contacts            one row per (business_id, account_id); `id` is the contact id.
 *                       Filter a business's audience with `business_id = ? and erased_at is null`.
 *                       locale / time_zone / external_id / last_inbound_at are plain columns.
 *   contact_tags        (business_id, contact_id, tag), primary key (contact_id, tag), index
 *                       (business_id, tag): `exists (select 1 from contact_tags t where
 *                       t.contact_id = contacts.id and t.tag = ?)`.
 *   contact_attributes  EAV, one row per (contact_id, key), typed by contact_attribute_defs:
 *                         text, phone (E.164) → text_value
 *                         number             → num_value
 *                         boolean            → num_value 0 / 1
 *                         date (YYYY-MM-DD)  → text_value 'YYYY-MM-DD' AND num_value = Unix ms
 *                                              of that day's 00:00 UTC (compare either)
 *                       The other column is null. Indexes (business_id, key, num_value) and
 *                       (business_id, key, text_value) serve range and equality filters.
 *   consent_state       the current state per (business_id, account_id, purpose), derived from
 *                       consent_events in the same transaction as each append; join on
 *                       `consent_state.business_id = contacts.business_id and
 *                       consent_state.account_id = contacts.account_id and purpose = 'marketing'
 *                       and state = 'opted_in'`. Never write it anywhere but consent.ts.
 *   suppressions        (business_id, account_id): never marketing, whatever the consent says.
 *
 * Consent is keyed by (business_id, account_id), not by contact id: deleting a contact or
 * erasing it keeps the person's opt-outs, so re-adding them cannot forget a STOP.
 */

export interface ContactsTable {
  id: string;
  business_id: string;
  account_id: string;
  /** The business's own id for the customer (unique per business; null when none). */
  external_id: string | null;
  name: string | null;
  /** BCP 47, canonical form (Intl.getCanonicalLocales). */
  locale: string | null;
  /** IANA time zone (luxon IANAZone.isValidZone). */
  time_zone: string | null;
  /** chat | subscribe_page | api | import */
  source: string;
  created_at: number;
  updated_at: number;
  /** Set by erasure (GDPR Art. 17): personal data gone, the row stays as the link to the opt-outs. */
  erased_at: number | null;
  /** The person's latest message in their direct chat with the business. */
  last_inbound_at: number | null;
  /** When they last read a message from the business, and last tapped one of its tracked links (segments' activity; batch.ts recordActivity). */
  last_read_at?: number | null;
  last_clicked_at?: number | null;
}

export interface ContactTagsTable {
  business_id: string;
  contact_id: string;
  tag: string;
  created_at: number;
}

export interface ContactAttributeDefsTable {
  business_id: string;
  key: string;
  /** text | number | date | boolean | phone */
  type: string;
  created_at: number;
}

export interface ContactAttributesTable {
  business_id: string;
  contact_id: string;
  key: string;
  text_value: string | null;
  num_value: number | null;
}

/** A business's own purposes, and its wording for the built-in ones (no row: the default wording). */
export interface ConsentPurposesTable {
  business_id: string;
  key: string;
  wording: string;
  /** 1: offered on the subscribe page. */
  subscribable: number;
  created_at: number;
  updated_at: number;
}

/** Append-only: rows are never updated, only redacted by erasure (see service.ts erase). */
export interface ConsentEventsTable {
  id: string;
  business_id: string;
  account_id: string;
  /** Increases per (business_id, account_id): the recording order, for ties on `at`. */
  seq: number;
  purpose: string;
  /** opt_in | opt_out */
  action: string;
  /** chat | subscribe_page | import | keyword | unsubscribe_link | api | double_opt_in | self_service | erasure */
  source: string;
  /** When the person agreed or withdrew. */
  at: number;
  recorded_at: number;
  wording: string | null;
  evidence: string | null;
  collected_via: string | null;
  actor_id: string | null;
  page: string | null;
  importer: string | null;
}

/** Derived from consent_events (consent.ts rebuilds a row in the same transaction as each append). */
export interface ConsentStateTable {
  business_id: string;
  account_id: string;
  purpose: string;
  /** opted_in | opted_out */
  state: string;
  since: number;
  source: string;
  event_id: string;
}

export interface SuppressionsTable {
  business_id: string;
  account_id: string;
  /** manual | erased | a reason the team gave */
  reason: string;
  actor_id: string | null;
  created_at: number;
}

/** Double opt-in requests waiting for the person's "YES" (or the link's token). */
export interface ConsentConfirmationsTable {
  /** An unguessable token (also the id). */
  token: string;
  business_id: string;
  account_id: string;
  purpose: string;
  wording: string;
  page: string;
  conversation_id: string;
  requested_at: number;
  expires_at: number;
  /** Set once confirmed (or superseded): a token works once. */
  done_at: number | null;
}

/** Messages actually sent per contact and purpose (frequency caps count these). */
export interface ContactSendsTable {
  business_id: string;
  account_id: string;
  purpose: string;
  /** The sender's idempotency key: recording the same send twice counts once. */
  send_key: string;
  at: number;
}

export interface ContactsTables {
  contacts: ContactsTable;
  contact_tags: ContactTagsTable;
  contact_attribute_defs: ContactAttributeDefsTable;
  contact_attributes: ContactAttributesTable;
  consent_purposes: ConsentPurposesTable;
  consent_events: ConsentEventsTable;
  consent_state: ConsentStateTable;
  suppressions: SuppressionsTable;
  consent_confirmations: ConsentConfirmationsTable;
  contact_sends: ContactSendsTable;
}
