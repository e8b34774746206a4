/**
 * Invite links to groups and channels (Telegram's t.me/+… links): an admin makes one, anyone
 * signed in who has it may preview the conversation and join (or ask to join) through it.
 */
import { type Static, Type } from 'typebox';
import { Member } from './schemas.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/** At most this many links a conversation has open (not revoked, not expired) at once. */
export const MAX_OPEN_INVITE_LINKS = 100;
/** A link's member cap: joins through it, at most. */
export const MAX_INVITE_LINK_MEMBERS = 100_000;
/** The longest a link may be set to live (a link without expiry lives until revoked). */
export const MAX_INVITE_LINK_TTL_SECONDS = 366 * 24 * 60 * 60;

export const CreateInviteLinkBody = Type.Object(
  {
    expires_in_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: MAX_INVITE_LINK_TTL_SECONDS, description: 'the link stops working this long from now (default: until revoked)' })),
    member_limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INVITE_LINK_MEMBERS, description: 'at most this many people join through it (approved requests count)' })),
    requires_approval: Type.Optional(Type.Boolean({ description: 'joining through it makes a join request an admin approves or declines' })),
  },
  { additionalProperties: false },
);
export type CreateInviteLinkBody = Static<typeof CreateInviteLinkBody>;

export const InviteLink = Type.Object({
  id: Type.String(),
  conversation_id: Type.String(),
  token: Type.String({ description: '128 bits of randomness (base64url); whoever holds it may preview and join' }),
  path: Type.String({ description: 'where the web app opens it: /join/<token> on this server' }),
  created_by: Type.String(),
  created_at: Millis,
  expires_at: Type.Union([Millis, Type.Null()]),
  member_limit: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  joined_count: Type.Integer({ minimum: 0, description: 'people who joined through it' }),
  requires_approval: Type.Boolean(),
  revoked_at: Type.Union([Millis, Type.Null()]),
});
export type InviteLink = Static<typeof InviteLink>;
export const InviteLinkList = Type.Object({ links: Type.Array(InviteLink, { description: 'open links first, newest first; revoked and expired ones after' }) });
export type InviteLinkList = Static<typeof InviteLinkList>;

/** What someone holding a link sees before joining. The same 404 for unknown, revoked, expired and full links. */
export const InvitePreview = Type.Object({
  kind: Type.Enum(['group', 'channel']),
  title: Type.Union([Type.String(), Type.Null()]),
  handle: Type.Union([Type.String(), Type.Null()]),
  photo: Type.Null({ description: 'groups and channels have no photo yet' }),
  member_count: Type.Integer({ minimum: 0 }),
  requires_approval: Type.Boolean(),
  /** The caller is already in it (its id is then given). */
  conversation_id: Type.Union([Type.String(), Type.Null()], { description: 'set when the caller is already a member (or the conversation is a public channel); otherwise null' }),
  requested: Type.Boolean({ description: 'the caller has a join request waiting' }),
});
export type InvitePreview = Static<typeof InvitePreview>;

export const JoinByInviteReply = Type.Object({
  status: Type.Enum(['joined', 'requested']),
  conversation_id: Type.Union([Type.String(), Type.Null()], { description: 'set once joined' }),
});
export type JoinByInviteReply = Static<typeof JoinByInviteReply>;

export const JoinRequest = Type.Object({
  account_id: Type.String(),
  handle: Type.String(),
  link_id: Type.String(),
  requested_at: Millis,
});
export type JoinRequest = Static<typeof JoinRequest>;
export const JoinRequestList = Type.Object({ requests: Type.Array(JoinRequest, { description: 'in pages ordered by account id' }), next: Type.Union([Type.String(), Type.Null()]) });
export type JoinRequestList = Static<typeof JoinRequestList>;

/** Someone an admin removed: they cannot come back through a link or a public channel's join until unbanned. */
export const ConversationBan = Type.Object({ account_id: Type.String(), handle: Type.String(), banned_by: Type.String(), banned_at: Millis });
export type ConversationBan = Static<typeof ConversationBan>;
export const ConversationBanList = Type.Object({ bans: Type.Array(ConversationBan), next: Type.Union([Type.String(), Type.Null()]) });
export type ConversationBanList = Static<typeof ConversationBanList>;

export const ApproveJoinRequestReply = Member;

/** Channel post views (Telegram's view counter): posts the caller has seen, by seq. */
export const ChannelViewsBody = Type.Object(
  { seqs: Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { minItems: 1, maxItems: 100, uniqueItems: true }) },
  { additionalProperties: false },
);
export type ChannelViewsBody = Static<typeof ChannelViewsBody>;
export const ChannelViewsReply = Type.Object({ views: Type.Array(Type.Object({ seq: Type.Integer({ minimum: 1 }), views: Type.Integer({ minimum: 0 }) })) });
export type ChannelViewsReply = Static<typeof ChannelViewsReply>;
