/**
 * Contacts and consent for business accounts: a business's customers on this instance, their
 * tags and typed attributes, the append-only consent ledger per purpose (with the proof of each
 * opt-in and opt-out), the suppression list, the subscribe page (`/c/<business>`), one-tap
 * unsubscribe, a person's own view of their consents, and GDPR export and erasure.
 */
import { type Static, type TSchema, Type } from 'typebox';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
// Null first: Fastify's Ajv coerces types, and with the string branch first a JSON null became "".
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

/** Purposes every business has; a business may define more (`PUT /v1/business/consent-purposes/{key}`). */
export const BUILT_IN_PURPOSES = ['marketing', 'transactional', 'surveys', 'support'] as const;
/** Most purposes (built-in and own) one business may keep. */
export const MAX_CONSENT_PURPOSES = 20;
/** Most attribute keys one business may define. */
export const MAX_ATTRIBUTE_DEFINITIONS = 100;
/** Most tags on one contact. */
export const MAX_CONTACT_TAGS = 50;

export const PurposeKey = Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: 'marketing, transactional, surveys, support, or a purpose the business defined' });
export const AttributeKey = Type.String({ pattern: '^[a-z][a-z0-9_]{0,47}$', description: 'lower-case letters, digits and _' });
export const Tag = Type.String({ minLength: 1, maxLength: 48, pattern: '^[^\\s,]+$', description: 'no spaces or commas' });

/** How a consent event reached the ledger. */
export const CONSENT_SOURCES = ['chat', 'subscribe_page', 'import', 'keyword', 'unsubscribe_link', 'api', 'double_opt_in', 'self_service', 'erasure'] as const;
export const ConsentSource = Type.Enum([...CONSENT_SOURCES]);
export type ConsentSource = Static<typeof ConsentSource>;

export const ATTRIBUTE_TYPES = ['text', 'number', 'date', 'boolean', 'phone'] as const;
export const AttributeType = Type.Enum([...ATTRIBUTE_TYPES], { description: 'date: YYYY-MM-DD; phone: normalised to E.164' });
export type AttributeType = Static<typeof AttributeType>;

export const AttributeDefinition = Type.Object({ key: AttributeKey, type: AttributeType, created_at: Millis });
export type AttributeDefinition = Static<typeof AttributeDefinition>;
export const DefineAttributeBody = Type.Object({ key: AttributeKey, type: AttributeType }, { additionalProperties: false });
export type DefineAttributeBody = Static<typeof DefineAttributeBody>;

const AttributeValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);
/** Attribute values by key; `null` removes one (PATCH). */
export const AttributeValues = Type.Record(Type.String(), Type.Union([Type.Null(), Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]), { description: 'key → value (text/date/phone: string, number: number, boolean: boolean); null removes' });

export const ConsentPurpose = Type.Object({
  key: PurposeKey,
  /** The exact sentence a person agrees to. */
  wording: Type.String(),
  built_in: Type.Boolean(),
  /** Offered on the subscribe page. */
  subscribable: Type.Boolean(),
});
export type ConsentPurpose = Static<typeof ConsentPurpose>;
export const PutPurposeBody = Type.Object(
  { wording: Type.String({ minLength: 10, maxLength: 1000 }), subscribable: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type PutPurposeBody = Static<typeof PutPurposeBody>;

/**
 * What a business must show before recording an opt-in for someone else: the words the person
 * agreed to, when, and a reference to the evidence it keeps (a signed form, a web log entry).
 */
export const ConsentProof = Type.Object(
  {
    wording: Type.String({ minLength: 10, maxLength: 1000, description: 'the exact words the person agreed to' }),
    at: Type.String({ minLength: 10, maxLength: 40, description: 'when the person agreed (ISO 8601 date-time), not in the future' }),
    evidence: Type.String({ minLength: 3, maxLength: 500, description: 'a reference to the kept evidence (form id, log entry, URL)' }),
    collected_via: Type.Optional(Type.String({ maxLength: 200, description: 'where it was collected, e.g. "checkout page"' })),
  },
  { additionalProperties: false },
);
export type ConsentProof = Static<typeof ConsentProof>;

export const ConsentEvent = Type.Object({
  id: Type.String(),
  purpose: Type.String(),
  action: Type.Enum(['opt_in', 'opt_out']),
  source: ConsentSource,
  /** When the person agreed or withdrew (an import's proof may say earlier than `recorded_at`). */
  at: Millis,
  recorded_at: Millis,
  wording: Nullable(Type.String()),
  evidence: Nullable(Type.String()),
  collected_via: Nullable(Type.String()),
  /** Who recorded it: the person themselves, a team member, or the business's key. */
  actor_id: Nullable(Type.String()),
  /** The subscribe page (`/c/<handle>`) or the import job it came from. */
  page: Nullable(Type.String()),
  importer: Nullable(Type.String()),
});
export type ConsentEvent = Static<typeof ConsentEvent>;

export const ConsentStateEntry = Type.Object({ state: Type.Enum(['opted_in', 'opted_out']), since: Millis, source: ConsentSource });
export type ConsentStateEntry = Static<typeof ConsentStateEntry>;
export const ConsentState = Type.Record(Type.String(), ConsentStateEntry, { description: 'purpose → current state (derived from the ledger); a purpose absent has no event' });
export type ConsentState = Static<typeof ConsentState>;

export const Contact = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  handle: Nullable(Type.String()),
  external_id: Nullable(Type.String()),
  name: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  time_zone: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  attributes: Type.Record(Type.String(), AttributeValue),
  source: Type.String({ description: 'how the contact came: chat, subscribe_page, api, import' }),
  consent: ConsentState,
  suppressed: Type.Boolean(),
  created_at: Millis,
  updated_at: Millis,
  /** Set once erased (GDPR Art. 17): everything but the minimal consent proof is gone. */
  erased_at: Nullable(Millis),
  last_inbound_at: Nullable(Millis),
  /** When the person last read a message from the business, and last tapped one of its tracked links. */
  last_read_at: Nullable(Millis),
  last_clicked_at: Nullable(Millis),
});
export type Contact = Static<typeof Contact>;

export const ContactList = Type.Object({ contacts: Type.Array(Contact), next: Nullable(Type.String()) });
export type ContactList = Static<typeof ContactList>;

/** An opt-in the person gave elsewhere; `proof` is required (its absence is answered `consent_proof_required`). */
export const ContactConsentInput = Type.Object({ purpose: PurposeKey, proof: Type.Optional(ConsentProof) }, { additionalProperties: false });

export const CreateContactBody = Type.Object(
  {
    handle: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    account_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47, e.g. fr-CA' })),
    time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA, e.g. Europe/Paris' })),
    tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_CONTACT_TAGS })),
    attributes: Type.Optional(AttributeValues),
    /** Opt-ins the person gave elsewhere: each needs its proof. */
    consent: Type.Optional(Type.Array(ContactConsentInput, { maxItems: MAX_CONSENT_PURPOSES })),
  },
  { additionalProperties: false },
);
export type CreateContactBody = Static<typeof CreateContactBody>;

export const UpdateContactBody = Type.Object(
  {
    external_id: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
    name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    locale: Type.Optional(Nullable(Type.String({ minLength: 2, maxLength: 35 }))),
    time_zone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
    /** Replaces the tags. */
    tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_CONTACT_TAGS })),
    add_tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_CONTACT_TAGS })),
    remove_tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_CONTACT_TAGS })),
    /** Merged into the stored attributes; null removes a key. */
    attributes: Type.Optional(AttributeValues),
  },
  { additionalProperties: false },
);
export type UpdateContactBody = Static<typeof UpdateContactBody>;

export const RecordConsentBody = Type.Object(
  {
    purpose: PurposeKey,
    action: Type.Enum(['opt_in', 'opt_out']),
    /** Required for opt_in: a business never opts someone in without proof. */
    proof: Type.Optional(ConsentProof),
  },
  { additionalProperties: false },
);
export type RecordConsentBody = Static<typeof RecordConsentBody>;

export const ConsentLedger = Type.Object({ contact_id: Type.String(), state: ConsentState, events: Type.Array(ConsentEvent), suppressed: Type.Boolean() });
export type ConsentLedger = Static<typeof ConsentLedger>;

export const Suppression = Type.Object({ account_id: Type.String(), handle: Nullable(Type.String()), reason: Type.String(), created_at: Millis });
export type Suppression = Static<typeof Suppression>;
export const SuppressionList = Type.Object({ suppressions: Type.Array(Suppression), next: Nullable(Type.String()) });
export const SuppressBody = Type.Object(
  {
    handle: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    account_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type SuppressBody = Static<typeof SuppressBody>;

export const ErasureReply = Type.Object({
  contact_id: Type.String(),
  erased_at: Millis,
  /** What was removed and what is kept, and why. */
  removed: Type.Array(Type.String()),
  kept: Type.Array(Type.String()),
  notice: Type.String(),
});
export type ErasureReply = Static<typeof ErasureReply>;

export const ContactExport = Type.Object({
  exported_at: Millis,
  business: Type.Object({ id: Type.String(), handle: Type.String() }),
  contact: Contact,
  consent_events: Type.Array(ConsentEvent),
  sends: Type.Array(Type.Object({ purpose: Type.String(), at: Millis })),
  suppression: Nullable(Suppression),
  pending_confirmations: Type.Array(Type.Object({ purpose: Type.String(), requested_at: Millis })),
});
export type ContactExport = Static<typeof ContactExport>;

/** What a person sees on `/c/<handle>` before agreeing to anything. */
export const SubscribePage = Type.Object({
  business: Type.Object({ id: Type.String(), handle: Type.String(), display_name: Type.String(), verified: Type.Boolean() }),
  purposes: Type.Array(Type.Object({ key: Type.String(), wording: Type.String() })),
  /** What happens next, in plain words (double opt-in, how to stop). */
  notice: Type.String(),
});
export type SubscribePage = Static<typeof SubscribePage>;
export const SubscribeBody = Type.Object({ purposes: Type.Array(PurposeKey, { minItems: 1, maxItems: MAX_CONSENT_PURPOSES }) }, { additionalProperties: false });
export type SubscribeBody = Static<typeof SubscribeBody>;
export const SubscribeReply = Type.Object({
  /** Purposes waiting for the person's confirmation in their chat with the business. */
  pending: Type.Array(Type.String()),
  /** Purposes already consented (nothing to confirm). */
  already: Type.Array(Type.String()),
  conversation_id: Type.String(),
});
export type SubscribeReply = Static<typeof SubscribeReply>;

/** A person's own consents with one business ("why am I getting this"). */
export const MyConsent = Type.Object({
  business: Type.Object({ id: Type.String(), handle: Nullable(Type.String()) }),
  state: ConsentState,
  events: Type.Array(ConsentEvent),
});
export type MyConsent = Static<typeof MyConsent>;
export const MyConsentList = Type.Object({ consents: Type.Array(MyConsent) });
export const WithdrawBody = Type.Object({ business_id: Type.String({ minLength: 1, maxLength: 64 }), purpose: PurposeKey }, { additionalProperties: false });
export type WithdrawBody = Static<typeof WithdrawBody>;

export const UnsubscribeInfo = Type.Object({ business: Type.Object({ handle: Type.String(), display_name: Type.String() }), purpose: Type.String(), state: Nullable(Type.Enum(['opted_in', 'opted_out'])) });
export type UnsubscribeInfo = Static<typeof UnsubscribeInfo>;
export const UnsubscribeBody = Type.Object({ token: Type.String({ minLength: 10, maxLength: 300 }) }, { additionalProperties: false });
