/**
 * Federation: hash signals shared between platforms. Each instance has an Ed25519 signing identity
 * (published at /.well-known/mmd-federation); operators connect peers with a trust level and a
 * per-category policy; messages travel as signed HTTP requests (RFC 9421) pushed to a peer's inbox
 * or pulled by it. Never media, never who shared it: hashes, a category, a confidence and an
 * opaque case reference. docs/federation.md is the protocol's specification.
 */
import { type Static, Type } from 'typebox';
import { BankCategory, SignalType } from './safety.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

/** The protocol's name and version, in the well-known document. */
export const FEDERATION_PROTOCOL = 'mmd-federation/1';

export const FederationIdentity = Type.Object({
  protocol: Type.Literal(FEDERATION_PROTOCOL),
  key_id: Type.String({ description: "the key's RFC 7638 JWK thumbprint (base64url): the keyid of every signature this instance makes" }),
  alg: Type.Literal('ed25519'),
  public_key: Type.String({ description: 'the raw 32-byte Ed25519 public key, base64url (the JWK "x")' }),
  inbox: Type.String({ description: 'path of the inbox (POST, signed)' }),
  messages: Type.String({ description: 'path of the pull endpoint (GET, signed request and response)' }),
  previous_keys: Type.Optional(
    Type.Array(
      Type.Object({
        key_id: Type.String(),
        public_key: Type.String(),
        expires_at: Millis,
        next_key_id: Type.String({ description: 'the key that replaced it' }),
        endorsement: Type.String({ description: 'Ed25519 signature by this key over "mmd-federation/1 rotate <key_id> <next_key_id>", base64url' }),
      }),
      { description: 'keys rotated out and still accepted until expires_at (the grace period), newest first' },
    ),
  ),
});
export type FederationIdentity = Static<typeof FederationIdentity>;

/**
 * What a signal from a peer does here: block (uploads refused, stored copies removed — only for
 * categories the peer is trusted for, otherwise hold), hold (uploads held for review, stored
 * copies queued for review), review (a moderator decides first), ignore.
 */
export const PEER_ACTIONS = ['block', 'hold', 'review', 'ignore'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];
export const PeerAction = Type.Enum([...PEER_ACTIONS]);

const Categories = Type.Array(BankCategory, { maxItems: 16, uniqueItems: true });
const Policy = Type.Record(Type.String({ pattern: '^[a-z_]{1,32}$' }), PeerAction, { description: 'category → action; categories not named take default_action' });
const BaseUrl = Type.String({ minLength: 8, maxLength: 300, pattern: '^https?://[^\\s?#]+$', description: "the peer's base URL (http allowed only with MMD_OUTBOUND_ALLOW_PRIVATE, for a private network)" });
const PublicKey = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'raw Ed25519 public key, base64url' });

export const CreatePeerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    base_url: BaseUrl,
    public_key: Type.Optional(PublicKey),
    trusted_categories: Type.Optional(Categories),
    policy: Type.Optional(Policy),
    default_action: Type.Optional(PeerAction),
    share_categories: Type.Optional(Categories),
  },
  { additionalProperties: false, description: 'Without public_key, the key is fetched once from the peer\'s well-known document.' },
);
export type CreatePeerBody = Static<typeof CreatePeerBody>;

export const UpdatePeerBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    base_url: Type.Optional(BaseUrl),
    trusted_categories: Type.Optional(Categories),
    policy: Type.Optional(Policy),
    default_action: Type.Optional(PeerAction),
    share_categories: Type.Optional(Categories),
    status: Type.Optional(Type.Enum(['active', 'disabled'])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePeerBody = Static<typeof UpdatePeerBody>;

export const Peer = Type.Object({
  id: Type.String(),
  name: Type.String(),
  base_url: Type.String(),
  key_id: Type.String(),
  public_key: Type.String(),
  trusted_categories: Type.Array(Type.String()),
  policy: Type.Record(Type.String(), PeerAction),
  default_action: PeerAction,
  share_categories: Type.Array(Type.String()),
  status: Type.Enum(['active', 'disabled']),
  pull_cursor: Type.Integer({ description: 'the last of its messages this instance has read' }),
  outbox_pending: Type.Integer({ description: 'messages for it not delivered yet' }),
  last_delivery_error: Type.Union([Type.String(), Type.Null()]),
  last_push_at: Type.Union([Millis, Type.Null()], { description: 'when a message was last delivered to it' }),
  last_pull_at: Type.Union([Millis, Type.Null()], { description: 'when this instance last pulled from it successfully' }),
  last_pull_error: Type.Union([Type.String(), Type.Null()]),
  previous_key_id: Type.Union([Type.String(), Type.Null()], { description: 'its key before it rotated, accepted until previous_key_expires_at' }),
  previous_key_expires_at: Type.Union([Millis, Type.Null()]),
  created_at: Millis,
});
export type Peer = Static<typeof Peer>;
export const PeerList = Type.Object({ peers: Type.Array(Peer) });
export type PeerList = Static<typeof PeerList>;

/** A signal on the wire: a normalised value and, for pdq and vpdq, MMD's robust set. */
export const WireSignal = Type.Object(
  {
    type: SignalType,
    value: Type.String({ minLength: 1, maxLength: 2_000_000 }),
    quality: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()])),
    robust: Type.Optional(Type.Union([Type.String({ maxLength: 2_000_000 }), Type.Null()], { description: 'pdq: MMD robust reference set (JSON); vpdq: MMD video signature (base64)' })),
  },
  { additionalProperties: false },
);

const CaseRef = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description: 'opaque case reference, chosen by the instance that opened the case' });
const KeyId = Type.String({ minLength: 1, maxLength: 128 });

export const SignalsBody = Type.Object(
  {
    case_ref: CaseRef,
    category: BankCategory,
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    signals: Type.Array(WireSignal, { minItems: 1, maxItems: 64 }),
  },
  { additionalProperties: false },
);
export const ConfirmationBody = Type.Object(
  {
    case_ref: CaseRef,
    /** The instance that opened the case (its key id) and its reference there. */
    origin: KeyId,
    category: BankCategory,
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    signals: Type.Array(WireSignal, { minItems: 1, maxItems: 64 }),
  },
  { additionalProperties: false },
);
export const RetractionBody = Type.Object({ case_ref: CaseRef }, { additionalProperties: false });

export const ACK_OUTCOMES = ['received', 'under_review', 'removed', 'blocked', 'dismissed'] as const;
export type AckOutcome = (typeof ACK_OUTCOMES)[number];
export const AckBody = Type.Object(
  {
    case_ref: CaseRef,
    outcome: Type.Enum([...ACK_OUTCOMES]),
    copies: Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'copies held (under_review), removed (removed, blocked); 0 otherwise' }),
  },
  { additionalProperties: false },
);

const envelope = <T extends string, B extends ReturnType<typeof Type.Object>>(type: T, body: B) =>
  Type.Object(
    {
      id: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'unique per sender' }),
      type: Type.Literal(type),
      from: KeyId,
      to: KeyId,
      created_at: Millis,
      body,
    },
    { additionalProperties: false },
  );

export const FederationMessage = Type.Union([
  envelope('signals', SignalsBody),
  envelope('confirmation', ConfirmationBody),
  envelope('retraction', RetractionBody),
  envelope('ack', AckBody),
]);
export type FederationMessage = Static<typeof FederationMessage>;
export type FederationMessageType = FederationMessage['type'];

export const InboxReply = Type.Object({ accepted: Type.String({ description: 'the message id' }) });
export const MessagesQuery = Type.Object(
  { after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) },
  { additionalProperties: false },
);
export const PulledMessage = Type.Object({ cursor: Type.Integer(), message: Type.Unknown() });
export const MessagesReply = Type.Object({ messages: Type.Array(PulledMessage), next_cursor: Type.Integer(), has_more: Type.Boolean() });
export type MessagesReply = Static<typeof MessagesReply>;

export const PeerOutcome = Type.Object({
  peer_id: Type.String(),
  peer_name: Type.String(),
  outcome: Type.Union([Type.Enum([...ACK_OUTCOMES, 'sent', 'pending']), Type.Null()], { description: 'pending: not delivered yet; sent: delivered, no answer yet' }),
  copies: Type.Integer(),
  updated_at: Millis,
});
export const SharedCase = Type.Object({
  id: Type.String({ description: 'the case reference peers see' }),
  takedown_id: Type.Union([Type.String(), Type.Null()]),
  category: Type.String(),
  signals: Type.Integer(),
  status: Type.Enum(['shared', 'retracted']),
  created_at: Millis,
  retracted_at: Type.Union([Millis, Type.Null()]),
  peers: Type.Array(PeerOutcome),
});
export type SharedCase = Static<typeof SharedCase>;
export const SharedList = Type.Object({ cases: Type.Array(SharedCase), next_before: Type.Union([Type.Integer(), Type.Null()]) });
export type SharedList = Static<typeof SharedList>;
export const SharedQuery = Type.Object(
  {
    takedown_id: Type.Optional(Id('only the case of this takedown')),
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

export const ReceivedCase = Type.Object({
  id: Type.String(),
  peer_id: Type.String(),
  peer_name: Type.String(),
  type: Type.Enum(['signals', 'confirmation']),
  case_ref: Type.String(),
  origin: Type.String(),
  category: Type.String(),
  confidence: Type.Number(),
  action: PeerAction,
  status: Type.Enum(['pending', 'active', 'ignored', 'retracted', 'dismissed', 'confirmed']),
  bank_id: Type.Union([Type.String(), Type.Null()]),
  signals: Type.Integer(),
  holds: Type.Integer({ description: 'stored copies its signals held for review here (the last under_review answer)' }),
  sent_outcome: Type.Union([Type.Object({ outcome: Type.Enum([...ACK_OUTCOMES]), copies: Type.Integer(), at: Millis }), Type.Null()], { description: 'the latest answer sent back to the peer' }),
  created_at: Millis,
});
export type ReceivedCase = Static<typeof ReceivedCase>;
export const ReceivedList = Type.Object({ cases: Type.Array(ReceivedCase) });
export type ReceivedList = Static<typeof ReceivedList>;
export const ReceivedQuery = Type.Object(
  { status: Type.Optional(Type.Enum(['pending', 'active', 'ignored', 'retracted', 'dismissed', 'confirmed'])), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) },
  { additionalProperties: false },
);
export const ReceivedDecisionBody = Type.Object({ action: Type.Enum(['hold', 'dismiss']) }, { additionalProperties: false });

/** Rotating this instance's signing key: the old one stays valid for peers for the grace period. */
export const RotateIdentityBody = Type.Object(
  { grace_seconds: Type.Optional(Type.Integer({ minimum: 600, maximum: 30 * 86_400, default: 7 * 86_400, description: 'how long peers still accept the old key' })) },
  { additionalProperties: false },
);
export type RotateIdentityBody = Static<typeof RotateIdentityBody>;

/**
 * HMA-compatible exchange (docs/federation.md §7): a Hasher-Matcher-Actioner deployment fetches
 * the banks an operator offers it through python-threatexchange's StopNCII exchange client,
 * pointed at this instance with `base_url_override`. Each consumer has its own token.
 */
export const HmaConsumer = Type.Object({
  id: Type.String({ description: 'sent by the consumer as Ocp-Apim-Subscription-Key' }),
  name: Type.String(),
  bank_ids: Type.Array(Type.String(), { description: 'the banks it may fetch (the banks shared with it)' }),
  status: Type.Enum(['active', 'disabled']),
  last_fetch_at: Type.Union([Millis, Type.Null()]),
  created_at: Millis,
});
export type HmaConsumer = Static<typeof HmaConsumer>;
export const HmaConsumerList = Type.Object({ consumers: Type.Array(HmaConsumer), fetch_path: Type.String({ description: 'the base_url_override to give HMA is this instance\'s URL + this path' }) });
export type HmaConsumerList = Static<typeof HmaConsumerList>;
const BankIds = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 50, uniqueItems: true });
export const CreateHmaConsumerBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 80 }), bank_ids: BankIds }, { additionalProperties: false });
export type CreateHmaConsumerBody = Static<typeof CreateHmaConsumerBody>;
export const UpdateHmaConsumerBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })), bank_ids: Type.Optional(BankIds), status: Type.Optional(Type.Enum(['active', 'disabled'])) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateHmaConsumerBody = Static<typeof UpdateHmaConsumerBody>;
export const HmaConsumerCreated = Type.Object({
  consumer: HmaConsumer,
  token: Type.String({ description: 'shown once: HMA sends it as x-functions-key (its StopNCII "fetch_function_key")' }),
});
export type HmaConsumerCreated = Static<typeof HmaConsumerCreated>;

/** StopNCII FetchHashes, as python-threatexchange's client asks it. */
export const FetchHashesQuery = Type.Object(
  {
    startTimestamp: Type.Optional(Type.Integer({ minimum: 0, maximum: 253_402_300_799, default: 0, description: 'the checkpoint (Unix seconds): changes at or after it' })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 800 })),
    nextPageToken: Type.Optional(Type.String({ maxLength: 40, pattern: '^[0-9]+$' })),
  },
  { additionalProperties: false },
);
export const HASH_STATUSES = ['Active', 'Deleted'] as const;
export const HashRecord = Type.Object({
  lastModtimestamp: Type.Integer({ description: 'Unix seconds of the change' }),
  signalType: Type.Enum(['ImagePDQ', 'VideoMD5']),
  hashValue: Type.String(),
  hashStatus: Type.Enum([...HASH_STATUSES], { description: 'Deleted: no shared bank holds it any more (a retraction)' }),
  caseNumbers: Type.Record(Type.String(), Type.Enum([...HASH_STATUSES]), { description: 'signal id → status' }),
  CSPFeedbacks: Type.Array(Type.Object({ source: Type.String(), feedbackValue: Type.Enum(['Blocked', 'Deleted']), tags: Type.Array(Type.String()) })),
});
export type HashRecord = Static<typeof HashRecord>;
export const FetchHashesReply = Type.Object({
  count: Type.Integer(),
  nextPageToken: Type.Union([Type.String(), Type.Null()]),
  nextSetTimestamp: Type.Integer({ description: 'the checkpoint to resume from (inclusive)' }),
  hasMoreRecords: Type.Boolean(),
  hashRecords: Type.Array(HashRecord),
});
export type FetchHashesReply = Static<typeof FetchHashesReply>;
