/**
 * Trust and safety: hash banks and their signals, upload screening, reports and the review queue,
 * takedowns, hash-only protection (the StopNCII model) and the audit log. Every endpoint except
 * reports and protection is for moderators (account role `moderator` or `admin`).
 */
import { type Static, Type } from 'typebox';
import { MediaProvenance } from './provenance.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

/** What a bank is about; reports use the same words where they overlap. */
export const BANK_CATEGORIES = ['ncii', 'ai_ncii', 'child_safety', 'deepfake', 'terrorism', 'spam', 'other'] as const;
export type BankCategory = (typeof BANK_CATEGORIES)[number];
export const BankCategory = Type.Enum([...BANK_CATEGORIES], {
  description: 'ncii: intimate imagery shared without consent; ai_ncii: AI-generated intimate imagery; child_safety; deepfake; terrorism; spam; other',
});

/** What happens to an upload that matches: refused, held for review, or delivered behind a warning. */
export const BANK_ACTIONS = ['block', 'hold', 'blur'] as const;
export type BankAction = (typeof BANK_ACTIONS)[number];
export const BankAction = Type.Enum([...BANK_ACTIONS]);

/** Kinds of hash a bank holds. pdq and vpdq are perceptual; sha256 and md5 match exact files. */
export const SIGNAL_TYPES = ['pdq', 'vpdq', 'sha256', 'md5'] as const;
export type SignalType = (typeof SIGNAL_TYPES)[number];
export const SignalType = Type.Enum([...SIGNAL_TYPES]);

/** The largest PDQ distance a bank may use; the near-duplicate index answers up to it exactly. */
export const MAX_PDQ_THRESHOLD = 31;

export const Bank = Type.Object({
  id: Id('bank id'),
  name: Type.String(),
  category: BankCategory,
  source: Type.Union([Type.String(), Type.Null()], { description: 'where the hashes come from (a partner, an exchange, MMD moderators)' }),
  action: BankAction,
  pdq_threshold: Type.Integer({
    minimum: 0,
    maximum: MAX_PDQ_THRESHOLD,
    description: 'largest PDQ distance that counts as a match',
  }),
  system: Type.Union([Type.Enum(['protect', 'takedown']), Type.Null()], {
    description: 'banks MMD keeps itself: hash-only protection and takedowns',
  }),
  trusted: Type.Boolean({
    description:
      'a source the operator vouches for (e.g. a partner’s verified list); with MMD_PROTECT_TRUSTED_AUTO_ACTION, an item matching both a protection case and a trusted bank is acted on without waiting for a moderator',
  }),
  signal_count: Type.Integer({ minimum: 0 }),
  match_count: Type.Integer({ minimum: 0, description: 'distinct uploads that matched this bank: at screening, in a sweep, or taken down with it' }),
  last_match_at: Type.Union([Millis, Type.Null()], { description: 'when the latest of those matched' }),
  created_at: Millis,
});
export type Bank = Static<typeof Bank>;

export const CreateBankBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    category: BankCategory,
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    action: BankAction,
    pdq_threshold: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_PDQ_THRESHOLD, default: MAX_PDQ_THRESHOLD }),
    ),
    trusted: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
export type CreateBankBody = Static<typeof CreateBankBody>;
/** Changes a bank's settings (moderators; audited). */
export const UpdateBankBody = Type.Object(
  { trusted: Type.Boolean({ description: 'mark the bank as a trusted source, or stop trusting it' }) },
  { additionalProperties: false },
);
export type UpdateBankBody = Static<typeof UpdateBankBody>;
export const BankList = Type.Object({ banks: Type.Array(Bank) });
export type BankList = Static<typeof BankList>;

export const Signal = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  bank_id: Type.String(),
  type: SignalType,
  value: Type.String({ description: 'hex for pdq/sha256/md5; HMA compact JSON (["hex,quality,seconds",…]) for vpdq' }),
  label: Type.Union([Type.String(), Type.Null()]),
  crop_resistant: Type.Boolean({ description: 'true when the signal came with MMD’s crop-resistant hash set (hashed from a file or a browser)' }),
  created_at: Millis,
});
export type Signal = Static<typeof Signal>;

export const PastedHash = Type.Object(
  {
    type: SignalType,
    value: Type.String({ minLength: 1, maxLength: 2_000_000 }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const AddSignalsBody = Type.Object(
  { hashes: Type.Array(PastedHash, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false },
);
export type AddSignalsBody = Static<typeof AddSignalsBody>;
export const AddSignalsReply = Type.Object({
  added: Type.Integer({ minimum: 0 }),
  duplicates: Type.Integer({ minimum: 0, description: 'already in the bank; left as they were' }),
  signals: Type.Array(Signal, { description: 'the signals added (at most the first 100)' }),
  sweep_job_id: Type.Union([Type.String(), Type.Null()], { description: 'the retroactive sweep looking for existing copies' }),
});
export type AddSignalsReply = Static<typeof AddSignalsReply>;

/** hma: HMA/python-threatexchange signal file (`pdq <hex>` lines); te: ThreatExchange threat_updates JSON; json: MMD's own. */
export const BANK_FORMATS = ['hma', 'te', 'json'] as const;
export type BankFormat = (typeof BANK_FORMATS)[number];
export const FormatQuery = Type.Object({ format: Type.Enum([...BANK_FORMATS], { default: 'json' }) }, { additionalProperties: false });
export const ImportReply = Type.Object({
  added: Type.Integer({ minimum: 0 }),
  duplicates: Type.Integer({ minimum: 0 }),
  skipped: Type.Integer({ minimum: 0, description: 'entries of a kind MMD does not match (text, URLs, TMK…) or marked deleted' }),
  sweep_job_id: Type.Union([Type.String(), Type.Null()]),
});
export type ImportReply = Static<typeof ImportReply>;

export const MATCH_RULES = ['sha256', 'md5', 'pdq', 'pdq_plain', 'pdq_centre', 'pdq_crop', 'vpdq', 'video', 'video_crop'] as const;
export type MatchRule = (typeof MATCH_RULES)[number];
export const BankMatch = Type.Object({
  bank_id: Type.String(),
  signal_id: Type.Integer(),
  label: Type.Union([Type.String(), Type.Null()]),
  action: BankAction,
  category: BankCategory,
  rule: Type.Enum([...MATCH_RULES], {
    description: 'sha256/md5: same file; pdq: whole picture (any rotation or mirror); pdq_plain: whole picture through the plain PDQ hash alone, the contrast-evened hashes disagreeing (a dark picture under an overlay another shares); pdq_centre: its middle (captions, borders, tilts); pdq_crop: agreeing regions (crops); vpdq: video frames (plain vPDQ); video: MMD\'s robust video signature (crops, bars, mirrors, speed changes, trims); video_crop: the same through anchored regions only',
  }),
  distance: Type.Optional(Type.Integer({ minimum: 0, description: 'PDQ distance, for pdq, pdq_plain and pdq_centre' })),
});
export type BankMatch = Static<typeof BankMatch>;
export const MatchReply = Type.Object({
  kind: Type.Enum(['image', 'video', 'audio', 'document']),
  hashes: Type.Object({
    sha256: Type.String(),
    md5: Type.String(),
    pdq: Type.Optional(Type.String()),
    quality: Type.Optional(Type.Integer()),
    vpdq_frames: Type.Optional(Type.Integer()),
  }),
  matches: Type.Array(BankMatch),
});
export type MatchReply = Static<typeof MatchReply>;

/** Why a member reports a message. */
export const REPORT_REASONS = ['ncii', 'child_safety', 'deepfake', 'harassment', 'spam', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
export const ReportReason = Type.Enum([...REPORT_REASONS]);
export const CreateReportBody = Type.Object(
  {
    message_id: Id('the message reported; you must be able to read it'),
    reason: ReportReason,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type CreateReportBody = Static<typeof CreateReportBody>;

/** Reporting an account reports its newest messages in the chat it is reported from (at most this many). */
export const REPORT_ACCOUNT_MESSAGES = 5;
export const ReportAccountBody = Type.Object(
  {
    handle: Type.String({ minLength: 1, maxLength: 64, description: 'the account reported' }),
    conversation_id: Id('the chat you report it from; you must be a member'),
    reason: ReportReason,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ReportAccountBody = Static<typeof ReportAccountBody>;

export const Report = Type.Object({
  id: Type.String(),
  message_id: Type.String(),
  reason: ReportReason,
  status: Type.Enum(['open', 'resolved']),
  outcome: Type.Union([Type.Enum(['removed', 'no_action']), Type.Null()]),
  created_at: Millis,
  resolved_at: Type.Union([Millis, Type.Null()], { description: 'when a moderator decided (or the content was removed by another route)' }),
});
export type Report = Static<typeof Report>;
/** The reports made by reporting an account: one per message of theirs reported. */
export const ReportAccountReply = Type.Object({ reports: Type.Array(Report) });
export type ReportAccountReply = Static<typeof ReportAccountReply>;

export const MyReportsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    before: Type.Optional(Millis),
  },
  { additionalProperties: false },
);
export type MyReportsQuery = Static<typeof MyReportsQuery>;
export const ReportList = Type.Object(
  { reports: Type.Array(Report), next_before: Type.Union([Millis, Type.Null()]) },
  { description: 'your own reports, newest first, with their outcomes (a reporter who was offline learns them here)' },
);
export type ReportList = Static<typeof ReportList>;

export const ReviewMedia = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  preview: Type.Union([Type.String(), Type.Null()], { description: 'path of a strongly blurred preview; the real one only through /reveal (audited)' }),
  provenance: Type.Optional(MediaProvenance),
});
export const Review = Type.Object({
  id: Type.String(),
  kind: Type.Enum(['report', 'hold'], { description: 'report: members reported a message; hold: an upload matched a hold bank' }),
  status: Type.Enum(['open', 'escalated', 'closed']),
  outcome: Type.Union([Type.Enum(['takedown', 'dismiss']), Type.Null()]),
  reason: Type.String({ description: 'the report reason, or the matching bank category' }),
  report_count: Type.Integer({ minimum: 0 }),
  reasons: Type.Array(Type.Object({ reason: ReportReason, count: Type.Integer({ minimum: 1 }) }), {
    description: 'every reason reporters gave and how many gave it, most given first (empty for holds)',
  }),
  notes: Type.Array(Type.String(), { description: 'reporters’ notes' }),
  message: Type.Union([
    Type.Object({
      id: Type.String(),
      conversation_id: Type.String(),
      conversation_kind: Type.String(),
      sender_id: Type.String(),
      sender_handle: Type.String(),
      text: Type.Union([Type.String(), Type.Null()]),
      deleted: Type.Boolean(),
      created_at: Millis,
    }),
    Type.Null(),
  ]),
  media: Type.Array(ReviewMedia),
  bank: Type.Union([Type.Object({ id: Type.String(), name: Type.String(), category: BankCategory }), Type.Null()]),
  created_at: Millis,
  decided_at: Type.Union([Millis, Type.Null()]),
  decided_by: Type.Union([Type.String(), Type.Null()]),
});
export type Review = Static<typeof Review>;
export const ReviewsQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(['open', 'escalated', 'closed'], { default: 'open' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    before: Type.Optional(Millis),
  },
  { additionalProperties: false },
);
export const ReviewList = Type.Object({ reviews: Type.Array(Review), next_before: Type.Union([Millis, Type.Null()]) });
export type ReviewList = Static<typeof ReviewList>;

export const DecisionBody = Type.Object(
  {
    action: Type.Enum(['takedown', 'dismiss', 'escalate']),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    bank_id: Type.Optional(Id('takedown: the bank the hashes join (default: the matching bank, else MMD’s takedown bank)')),
  },
  { additionalProperties: false },
);
export type DecisionBody = Static<typeof DecisionBody>;

export const Takedown = Type.Object({
  id: Type.String(),
  bank_id: Type.String({ description: 'where the hashes went, so the content cannot come back' }),
  signals_added: Type.Integer({ minimum: 0 }),
  media_removed: Type.Integer({ minimum: 0, description: 'the item, its exact copies and near-duplicates' }),
  messages_removed: Type.Integer({ minimum: 0 }),
  conversations: Type.Integer({ minimum: 0, description: 'distinct conversations that lost a message' }),
  copies: Type.Array(Type.Object({ media_id: Type.String(), rule: Type.String() })),
  queued_for_review: Type.Integer({ minimum: 0, description: 'copies found only through weaker evidence (rule pdq_crop, pdq_plain or video_crop): queued for a moderator, not removed' }),
  duration_ms: Type.Number({ description: 'from the decision to the last copy gone (rows, events, files)' }),
});
export type Takedown = Static<typeof Takedown>;
export const DecisionReply = Type.Object({ review: Review, takedown: Type.Union([Takedown, Type.Null()]) });
export type DecisionReply = Static<typeof DecisionReply>;

/** Where a running takedown is: hashes into the bank, searching for copies, removing them, closing reviews. */
export const TAKEDOWN_STAGES = ['banking', 'finding', 'removing', 'closing', 'finished'] as const;
export type TakedownStage = (typeof TAKEDOWN_STAGES)[number];
export const TAKEDOWN_STATUSES = ['running', 'done', 'failed'] as const;
export type TakedownStatus = (typeof TAKEDOWN_STATUSES)[number];
/** A takedown as it runs and after: written at every step, so a console can show live progress. */
export const TakedownRecord = Type.Object({
  id: Type.String({ description: 'the id the takedown reply and the audit log carry' }),
  status: Type.Enum([...TAKEDOWN_STATUSES], { description: 'failed: stopped by an error or by the server stopping; what was removed stays removed' }),
  stage: Type.Enum([...TAKEDOWN_STAGES]),
  reason: Type.String(),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  actor_handle: Type.Union([Type.String(), Type.Null()]),
  review_id: Type.Union([Type.String(), Type.Null()], { description: 'the review it decided, if any' }),
  bank_id: Type.String(),
  bank_name: Type.Union([Type.String(), Type.Null()]),
  signals_added: Type.Integer({ minimum: 0 }),
  copies_found: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'null until the search has finished' }),
  media_removed: Type.Integer({ minimum: 0 }),
  messages_removed: Type.Integer({ minimum: 0 }),
  conversations: Type.Integer({ minimum: 0 }),
  error: Type.Union([Type.String(), Type.Null()]),
  started_at: Millis,
  updated_at: Millis,
  finished_at: Type.Union([Millis, Type.Null()]),
  duration_ms: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'as in the takedown reply, once done' }),
});
export type TakedownRecord = Static<typeof TakedownRecord>;
export const TakedownsQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum([...TAKEDOWN_STATUSES])),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'next_before of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
export type TakedownsQuery = Static<typeof TakedownsQuery>;
export const TakedownList = Type.Object({
  takedowns: Type.Array(TakedownRecord, { description: 'newest first' }),
  next_before: Type.Union([Type.Integer(), Type.Null()]),
});
export type TakedownList = Static<typeof TakedownList>;

export const TakedownBody = Type.Object(
  {
    media_id: Type.Optional(Id('a media item')),
    message_id: Type.Optional(Id('a message: its media and the message itself')),
    hashes: Type.Optional(Type.Array(PastedHash, { minItems: 1, maxItems: 100 })),
    bank_id: Type.Optional(Id('the bank the hashes join (default: MMD’s takedown bank)')),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type TakedownBody = Static<typeof TakedownBody>;

const Hex64 = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });
/**
 * MMD's crop-resistant hash set of one image, as @mmd/phash's robustReferenceHashes computes it.
 * `v: 2` marks anchors on the size-normalised plane (with `scale` per anchor); sets without it
 * are from before, and their anchors (on a fixed 1/4-scale plane) are ignored when matching.
 * `v: 3` is the same shape with up to 96 anchors (three reference scales), `v: 4` with up to 192
 * (more anchors per scale); a set is written with the oldest version it fits in, which instances
 * that predate the newer ones accept. `scheme` says how its
 * windows and regions were hashed (scheme 2: evened out locally first).
 */
export const RobustHashSet = Type.Object(
  {
    v: Type.Optional(Type.Union([Type.Literal(2), Type.Literal(3), Type.Literal(4)])),
    /**
     * The robust scheme the set was made with (@mmd/phash RobustScheme); absent means 1. Sets of
     * different schemes are compared through their whole-picture hashes only, and such a match
     * counts as plain-hash evidence (rule pdq_plain). Instances that predate schemes refuse a set
     * that names one at /v1/safety/protect, but their bank-file and peer imports keep it and read
     * it as scheme 1 (its centre and anchored hashes then match nothing; the plain hash still does).
     */
    scheme: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
    global: Type.Array(Hex64, { maxItems: 8 }),
    centre: Type.Array(Hex64, { maxItems: 8 }),
    anchors: Type.Array(
      Type.Object(
        {
          hash: Hex64,
          x: Type.Number({ minimum: 0, maximum: 1e6 }),
          y: Type.Number({ minimum: 0, maximum: 1e6 }),
          scale: Type.Optional(Type.Number({ minimum: 0.25, maximum: 4 })),
          /**
           * Only in the query sets a server keeps for its uploads (never in a reference set, so
           * never on the wire to an older instance): the dihedral turn the anchor was given.
           */
          turn: Type.Optional(
            Type.Union([
              Type.Literal('rotate90'),
              Type.Literal('rotate180'),
              Type.Literal('rotate270'),
              Type.Literal('flipX'),
              Type.Literal('flipY'),
              Type.Literal('flipPlus1'),
              Type.Literal('flipMinus1'),
            ]),
          ),
          /**
           * Only in query sets, like `turn`: the strip of an uncropped upload the anchor was
           * chosen in again (away from a sticker over the rest); absent: the whole picture.
           */
          part: Type.Optional(
            Type.Union([Type.Literal('left'), Type.Literal('right'), Type.Literal('top'), Type.Literal('bottom')]),
          ),
        },
        { additionalProperties: false },
      ),
      { maxItems: 192 },
    ),
  },
  { additionalProperties: false },
);
export type RobustHashSet = Static<typeof RobustHashSet>;
/** Signals one protection request may carry (images + videos); the operator's cap may be lower. */
export const MAX_PROTECT_IMAGES = 20;
export const MAX_PROTECT_VIDEOS = 5;
export const ProtectBody = Type.Object(
  {
    images: Type.Optional(
      Type.Array(
        Type.Object(
          {
            pdq: Hex64,
            quality: Type.Integer({
              minimum: 0,
              maximum: 100,
              description:
                'PDQ quality as the browser computed it; the server does not trust it (it checks the hash itself)',
            }),
            robust: Type.Optional(RobustHashSet),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: MAX_PROTECT_IMAGES },
      ),
    ),
    videos: Type.Optional(
      Type.Array(
        Type.Object(
          {
            vpdq: Type.String({
              minLength: 1,
              maxLength: 1_000_000,
              description: 'HMA compact JSON or the reference tool’s frame,quality,hex,seconds lines',
            }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: MAX_PROTECT_VIDEOS },
      ),
    ),
    share: Type.Optional(
      Type.Boolean({
        description:
          'also send the hashes (category ncii, under an opaque case id, never who you are) to the platforms this server is connected to; can be chosen later from the case page, and withdrawn',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ProtectBody = Static<typeof ProtectBody>;

/**
 * Where a protection case is, as its submitter sees it. received: hashes stored, the first search
 * for copies not yet done; under_review: matches (now or later) are held for a moderator, nothing
 * is removed; action_taken: a moderator confirmed the case, copies were taken down and the hashes
 * now block; closed: a moderator reviewed it and no action was taken; withdrawn: its submitter
 * withdrew it (its hashes retired, what it held released, here and on every platform it was shared with).
 */
export const CASE_STATUSES = ['received', 'under_review', 'action_taken', 'closed', 'withdrawn'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
/** What the submitter sees: the same shape for every case, whatever the hashes matched. */
export const ProtectCase = Type.Object({
  reference: Type.String({ description: 'keep it: the only way to follow the case' }),
  status: Type.Enum([...CASE_STATUSES], {
    description:
      'received: stored, not yet checked; under_review: matches go to a moderator, nothing is removed before they decide; action_taken: a moderator confirmed it, copies were removed and new ones are blocked; closed: reviewed, no action; withdrawn: its submitter withdrew it',
  }),
  submitted_at: Millis,
  updated_at: Millis,
});
export type ProtectCase = Static<typeof ProtectCase>;

/** The answer to a new protection request: the case, and the key that opens its page (shown once). */
export const ProtectReceipt = Type.Object({
  reference: Type.String({ description: 'keep it: the only way to follow the case' }),
  secret: Type.String({
    description:
      'the case key: with the reference, it opens the case page (platforms, sharing, withdrawal, removal requests). Shown once; the server keeps only its hash',
  }),
  status: Type.Enum([...CASE_STATUSES]),
  submitted_at: Millis,
  updated_at: Millis,
  shared: Type.Boolean(),
});
export type ProtectReceipt = Static<typeof ProtectReceipt>;

const CaseSecret = Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' });
/** What proves the caller holds a case: its key, in the body (never in a URL, which servers log). */
export const CaseKeyBody = Type.Object({ secret: CaseSecret }, { additionalProperties: false });
export type CaseKeyBody = Static<typeof CaseKeyBody>;

/**
 * One connected platform's answer about a shared case, as its submitter sees it. pending: not
 * delivered yet; sent: delivered, no answer yet; received: accepted; under_review: copies there are
 * held for its moderators; removed: its moderators removed `copies` copies; blocked: its policy
 * removed `copies` copies and blocks new ones; dismissed: its moderators took no action;
 * withdrawn: the case was withdrawn and the platform told to release what it held.
 */
export const PLATFORM_STATUSES = ['pending', 'sent', 'received', 'under_review', 'removed', 'blocked', 'dismissed', 'withdrawn'] as const;
export const PlatformStatus = Type.Object({
  platform: Type.String({ description: "the platform's name, as this server's operator connected it" }),
  status: Type.Enum([...PLATFORM_STATUSES]),
  copies: Type.Integer({ minimum: 0 }),
  updated_at: Millis,
});
export type PlatformStatus = Static<typeof PlatformStatus>;

/** Where a request to remove every copy of media you appear in is (what its requester sees). */
export const ERASURE_STATUSES = ['pending', 'removed', 'declined'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];
export const ErasureRequest = Type.Object({
  id: Type.String(),
  status: Type.Enum([...ERASURE_STATUSES], {
    description: 'pending: waiting for a moderator; removed: a moderator removed every matching copy; declined: a moderator declined, with reasons',
  }),
  images: Type.Integer({ minimum: 0 }),
  videos: Type.Integer({ minimum: 0 }),
  submitted_at: Millis,
  decided_at: Type.Union([Millis, Type.Null()]),
  reasons: Type.Union([Type.String(), Type.Null()], { description: "the moderator's reasons for the decision" }),
  copies_removed: Type.Integer({ minimum: 0 }),
});
export type ErasureRequest = Static<typeof ErasureRequest>;

/** The case page: the case, its sharing with other platforms, and its removal requests here. */
export const CaseView = Type.Object({
  case: ProtectCase,
  shared: Type.Boolean({ description: 'its hashes were sent to connected platforms' }),
  shared_at: Type.Union([Millis, Type.Null()]),
  platforms: Type.Array(PlatformStatus, { description: 'each platform it was shared with' }),
  erasure_requests: Type.Array(ErasureRequest, { description: 'requests to remove every copy here, newest first' }),
});
export type CaseView = Static<typeof CaseView>;

export const ErasureBody = Type.Object(
  {
    images: ProtectBody.properties.images,
    videos: ProtectBody.properties.videos,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'anything the moderators should know' })),
    case: Type.Optional(
      Type.Object(
        { reference: Type.String({ minLength: 1, maxLength: 32 }), secret: CaseSecret },
        { additionalProperties: false, description: 'file it under this protection case (for people without an account)' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ErasureBody = Static<typeof ErasureBody>;
export const ErasureList = Type.Object({ requests: Type.Array(ErasureRequest) });
export type ErasureList = Static<typeof ErasureList>;

/** A removal request as moderators see it. */
export const ErasureDetail = Type.Object({
  id: Type.String(),
  status: Type.Enum([...ERASURE_STATUSES]),
  requester: Type.Enum(['account', 'case'], { description: 'account: a signed-in person; case: someone holding a protection case and its key' }),
  account_id: Type.Union([Type.String(), Type.Null()]),
  case_reference: Type.Union([Type.String(), Type.Null()]),
  images: Type.Integer({ minimum: 0 }),
  videos: Type.Integer({ minimum: 0 }),
  note: Type.Union([Type.String(), Type.Null()]),
  matching: Type.Array(Type.String(), { description: 'media here its hashes match now (at most 200), not yet removed' }),
  submitted_at: Millis,
  decided_at: Type.Union([Millis, Type.Null()]),
  decided_by: Type.Union([Type.String(), Type.Null()]),
  reasons: Type.Union([Type.String(), Type.Null()]),
  takedown_id: Type.Union([Type.String(), Type.Null()]),
  copies_removed: Type.Integer({ minimum: 0 }),
});
export type ErasureDetail = Static<typeof ErasureDetail>;
export const ErasureQueue = Type.Object({ requests: Type.Array(ErasureDetail) });
export type ErasureQueue = Static<typeof ErasureQueue>;
export const ErasureQuery = Type.Object(
  { status: Type.Optional(Type.Enum([...ERASURE_STATUSES], { description: 'default pending' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) },
  { additionalProperties: false },
);
export type ErasureQuery = Static<typeof ErasureQuery>;
export const ErasureDecisionBody = Type.Object(
  {
    action: Type.Enum(['remove', 'decline'], { description: 'remove: take down every copy its hashes match (and block them from now on); decline: nothing is removed' }),
    reasons: Type.String({ minLength: 1, maxLength: 2000, description: 'shown to the requester and kept in the audit log' }),
  },
  { additionalProperties: false },
);
export type ErasureDecisionBody = Static<typeof ErasureDecisionBody>;

/** An item a protection case matched: a new upload held at screening, or a copy already shared. */
export const CaseItem = Type.Object({
  media_id: Type.String(),
  kind: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({
    description:
      'held: waiting for this decision, never delivered; ready: already shared, still visible; removed/failed: gone',
  }),
  source: Type.Enum(['screening', 'sweep'], {
    description: 'screening: a new upload, held; sweep: a copy that was already shared',
  }),
  review_id: Type.Union([Type.String(), Type.Null()], {
    description:
      'the review of this item; its blurred preview is under /v1/safety/reviews/{id}/media/{media_id}/preview',
  }),
  preview: Type.Union([Type.String(), Type.Null()], { description: 'path of the strongly blurred preview' }),
  auto_action: Type.Boolean({
    description: 'acted on without a moderator, because a trusted bank matched it too',
  }),
  matched_at: Millis,
});
export type CaseItem = Static<typeof CaseItem>;
/** A protection case as moderators see it. */
export const CaseDetail = Type.Object({
  reference: Type.String(),
  status: Type.Enum([...CASE_STATUSES]),
  submitted_at: Millis,
  updated_at: Millis,
  images: Type.Integer({ minimum: 0 }),
  videos: Type.Integer({ minimum: 0 }),
  items: Type.Array(CaseItem, { description: 'what its hashes matched, newest first (at most 200)' }),
  item_count: Type.Integer({ minimum: 0 }),
  decided_at: Type.Union([Millis, Type.Null()]),
  decided_by: Type.Union([Type.String(), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
});
export type CaseDetail = Static<typeof CaseDetail>;
export const CasesQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Enum([...CASE_STATUSES], {
        description: 'default: cases waiting for a decision that matched something',
      }),
    ),
    matched: Type.Optional(
      Type.Boolean({
        description: 'only cases whose hashes matched at least one item (default true for open cases)',
      }),
    ),
    before: Type.Optional(Millis),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type CasesQuery = Static<typeof CasesQuery>;
export const CaseList = Type.Object({
  cases: Type.Array(CaseDetail),
  next_before: Type.Union([Millis, Type.Null()]),
});
export type CaseList = Static<typeof CaseList>;
export const CaseDecisionBody = Type.Object(
  {
    action: Type.Enum(['confirm', 'reject'], {
      description:
        'confirm: take down every item it matched and add its hashes to the takedown (block) bank; reject: retire its hashes and release what it held',
    }),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type CaseDecisionBody = Static<typeof CaseDecisionBody>;
export const CaseDecisionReply = Type.Object({
  case: CaseDetail,
  takedown: Type.Union([Takedown, Type.Null()]),
  released: Type.Integer({ minimum: 0, description: 'held items released (reject)' }),
});
export type CaseDecisionReply = Static<typeof CaseDecisionReply>;

/** Everything the audit log records. */
export const AUDIT_ACTIONS = [
  'bank.created',
  'bank.updated',
  'signals.added',
  /** A moderator took a signal out of a bank. */
  'signals.removed',
  'bank.imported',
  'bank.exported',
  'upload.blocked',
  'upload.held',
  'upload.blurred',
  'match.checked',
  'report.created',
  'review.decided',
  'hold.released',
  'media.revealed',
  'takedown',
  'takedown.failed',
  'sweep.completed',
  'protect.submitted',
  'case.confirmed',
  'case.rejected',
  /** A protection case's submitter shared it with connected platforms, or withdrew it (here and there). */
  'protect.shared',
  'protect.withdrawn',
  /** The right to be forgotten: a request to remove every copy, and a moderator's decision on it. */
  'erasure.requested',
  'erasure.removed',
  'erasure.declined',
  /** A near-duplicate cluster reached the hold tier: new shares wait for a moderator. */
  'spread.alert',
  /** A moderator held, cleared or took down a spreading cluster. */
  'spread.decided',
  /** A moderator restricted (or lifted a restriction on) an account's shares: suspected coordinated amplification. */
  'spread.restricted',
  /** Federation: an operator connected, changed or disconnected a peer. */
  'federation.peer',
  /** Federation: a takedown's signals were shared with peers (or a case was retracted). */
  'federation.shared',
  'federation.retracted',
  /** Federation: a peer's message was accepted, or refused (forged, replayed, altered, expired). */
  'federation.received',
  'federation.refused',
  /** Federation: an operator rotated this instance's signing key. */
  'federation.identity',
  /** Federation: an operator issued, changed or disabled an HMA consumer's access to shared banks. */
  'federation.hma_consumer',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Millis,
  actor_id: Type.Union([Type.String(), Type.Null()], { description: 'null for MMD itself (screening, sweeps) and anonymous protection' }),
  actor_handle: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  subject_type: Type.Union([Type.String(), Type.Null()]),
  subject_id: Type.Union([Type.String(), Type.Null()]),
  bank_id: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditEntry = Static<typeof AuditEntry>;
export const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'an account id, or @handle' })),
    since: Type.Optional(Millis),
    until: Type.Optional(Millis),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'entries with a smaller id (paging)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
export const AuditList = Type.Object({ entries: Type.Array(AuditEntry), next_before: Type.Union([Type.Integer(), Type.Null()]) });
export type AuditList = Static<typeof AuditList>;
