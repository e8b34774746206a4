/**
 * The safety console's view of spread (issue 12): near-duplicate clusters with their velocity,
 * the friction they are under, the chats and people involved, and suspected coordinated
 * amplification networks with their evidence.
 */
import { type Static, Type } from 'typebox';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

export const SpreadVelocity = Type.Object({
  chats_per_minute: Type.Number({ description: 'new chats reached in the last 60 s (sliding estimate)' }),
  chats_per_hour: Type.Integer({ description: 'new chats reached in the last hour' }),
  sharers_per_minute: Type.Number({ description: 'people sharing it for the first time in the last 60 s' }),
  sharers_per_hour: Type.Integer(),
  shares_per_hour: Type.Integer(),
});
export type SpreadVelocity = Static<typeof SpreadVelocity>;

export const SpreadClusterState = Type.Union([Type.Literal('open'), Type.Literal('hold'), Type.Literal('cleared'), Type.Literal('removed')], {
  description: 'open: friction follows velocity; hold: new shares wait for a moderator; cleared: reviewed, the label only; removed: taken down',
});

export const SpreadClusterSummary = Type.Object({
  id: Type.String({ description: 'public cluster id (spc_…), as on messages' }),
  state: SpreadClusterState,
  tier: Type.Integer({ minimum: 0, maximum: 4, description: 'friction now: 0 none, 1 labelled spreading fast, 2 confirm, 3 cooldown, 4 hold' }),
  peak_tier: Type.Integer({ minimum: 0, maximum: 4 }),
  velocity: SpreadVelocity,
  shares: Type.Integer(),
  reach: Type.Integer({ description: 'distinct chats reached' }),
  sharers: Type.Integer({ description: 'distinct people who shared it' }),
  max_hops: Type.Integer(),
  held: Type.Integer({ description: 'messages waiting for review' }),
  first_at: Millis,
  last_at: Millis,
  alerted_at: Type.Union([Millis, Type.Null()]),
  reviewed_by: Type.Union([Type.String(), Type.Null()]),
  reviewed_at: Type.Union([Millis, Type.Null()]),
});
export type SpreadClusterSummary = Static<typeof SpreadClusterSummary>;

export const SpreadClusterList = Type.Object({ clusters: Type.Array(SpreadClusterSummary), alerts: Type.Integer({ description: 'clusters held and waiting for a decision' }) });
export type SpreadClusterList = Static<typeof SpreadClusterList>;

export const SpreadClustersQuery = Type.Object({
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 30, description: 'clusters shared within this many hours (default 24)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
});

export const SpreadClusterDetail = Type.Object({
  cluster: SpreadClusterSummary,
  timeline: Type.Array(Type.Object({ minute: Millis, shares: Type.Integer(), chats: Type.Integer(), sharers: Type.Integer(), max_hops: Type.Integer() }), { description: 'per minute, the last 6 hours, oldest first' }),
  hops: Type.Array(Type.Object({ hops: Type.Integer(), shares: Type.Integer() }), { description: 'shares by hop count' }),
  conversations: Type.Array(
    Type.Object({ id: Type.String(), kind: Type.String(), shares: Type.Integer(), first_at: Millis, max_hops: Type.Integer() }),
    { description: 'chats it reached, most shares first (at most 50)' },
  ),
  sharers: Type.Array(Type.Object({ account_id: Type.String(), handle: Type.String(), shares: Type.Integer(), first_at: Millis }), { description: 'people who shared it most (at most 50)' }),
  media_ids: Type.Array(Type.String(), { description: 'stored items in the cluster (at most 20), earliest first: previews through the review screens' }),
});
export type SpreadClusterDetail = Static<typeof SpreadClusterDetail>;

export const SpreadDecisionBody = Type.Object(
  {
    action: Type.Union([Type.Literal('hold'), Type.Literal('clear'), Type.Literal('takedown')], {
      description: 'hold: new shares wait for review; clear: release what is held and keep only the label; takedown: remove every copy everywhere and bank it',
    }),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type SpreadDecisionBody = Static<typeof SpreadDecisionBody>;

export const SpreadDecisionReply = Type.Object({ cluster: SpreadClusterSummary, released: Type.Integer(), rejected: Type.Integer(), takedown_id: Type.Union([Type.String(), Type.Null()]) });
export type SpreadDecisionReply = Static<typeof SpreadDecisionReply>;

export const AmplificationAccount = Type.Object({
  account_id: Type.String(),
  handle: Type.String(),
  account_age_days: Type.Number(),
  shares: Type.Integer({ description: 'shares in the window' }),
  chats: Type.Integer({ description: 'distinct chats they shared into in the window' }),
  timing_cv: Type.Union([Type.Number(), Type.Null()], { description: 'coefficient of variation of the gaps between their shares (near 0: machine-like)' }),
  restriction: Type.Union([Type.Literal('rate_limit'), Type.Literal('review'), Type.Null()]),
  suspended: Type.Boolean(),
});

export const AmplificationNetwork = Type.Object({
  id: Type.String({ description: 'stable for the same set of accounts' }),
  score: Type.Number({ description: 'how strongly the evidence points to coordination (0–1)' }),
  accounts: Type.Array(AmplificationAccount),
  evidence: Type.Object({
    co_shared_clusters: Type.Array(Type.String(), { description: 'clusters the accounts shared within the co-sharing window of each other' }),
    co_shares: Type.Integer({ description: 'pairs of shares of the same cluster by two of the accounts within the window' }),
    chats: Type.Integer({ description: 'distinct chats the network reached' }),
    young_accounts: Type.Integer({ description: 'accounts younger than 7 days' }),
    machine_like_accounts: Type.Integer({ description: 'accounts whose share timing is near-regular' }),
    first_at: Millis,
    last_at: Millis,
  }),
});
export type AmplificationNetwork = Static<typeof AmplificationNetwork>;

export const AmplificationList = Type.Object({ networks: Type.Array(AmplificationNetwork), window_hours: Type.Integer() });
export type AmplificationList = Static<typeof AmplificationList>;

export const AmplificationQuery = Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 7 })) });

export const RestrictAccountBody = Type.Object(
  {
    mode: Type.Union([Type.Literal('rate_limit'), Type.Literal('review'), Type.Literal('suspend'), Type.Literal('none')], {
      description: 'rate_limit: one new chat per cooldown per picture; review: every share waits for a moderator; suspend: signed out and refused; none: lift (releases shares held for review)',
    }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export type RestrictAccountBody = Static<typeof RestrictAccountBody>;
export const RestrictAccountReply = Type.Object({ account_id: Type.String(), mode: Type.String(), released: Type.Integer(), rejected: Type.Integer() });
