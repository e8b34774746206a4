/**
 * Who may reach a person: blocks, the "who may add me to groups and channels" setting, and the
 * invitations sent instead when that setting says no.
 */
import { type Static, Type } from 'typebox';
import { Handle } from './schemas.ts';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/**
 * everyone: anyone may add you; contacts: only people you have written to in a direct chat;
 * nobody: nobody — they send an invitation you accept or decline.
 */
export const AddMePolicy = Type.Enum(['everyone', 'contacts', 'nobody']);
export type AddMePolicy = Static<typeof AddMePolicy>;

/**
 * Who sees something of yours: everyone, contacts (people you have written to in a direct chat, as
 * for add_me: someone opening a chat with you, or writing to you, is not enough) or nobody.
 * Last seen works both ways, as WhatsApp's does: whoever cannot see yours, you cannot see theirs.
 */
export const Visibility = Type.Enum(['everyone', 'contacts', 'nobody']);
export type Visibility = Static<typeof Visibility>;

export const Privacy = Type.Object({
  add_me: AddMePolicy,
  /** Who sees whether you are online and when you last were (and, in turn, whose you see). */
  last_seen: Visibility,
  /** Who sees your profile photo (the others see your initials). */
  photo: Visibility,
  /** Who finds you in people search (GET /v1/people); anyone who knows your exact handle can still write to you. */
  find_me: Visibility,
  /**
   * Read receipts, WhatsApp's rule: off, the people you write to in direct chats do not see when
   * you read their messages, and you do not see when they read yours. Groups always count reads.
   */
  read_receipts: Type.Boolean(),
});
export type Privacy = Static<typeof Privacy>;
export const UpdatePrivacyBody = Type.Object(
  {
    add_me: Type.Optional(AddMePolicy),
    last_seen: Type.Optional(Visibility),
    photo: Type.Optional(Visibility),
    find_me: Type.Optional(Visibility),
    read_receipts: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePrivacyBody = Static<typeof UpdatePrivacyBody>;

export const BlockBody = Type.Object({ handle: Handle }, { additionalProperties: false });
export type BlockBody = Static<typeof BlockBody>;
export const Block = Type.Object({
  account_id: Type.String(),
  handle: Type.String(),
  created_at: Millis,
});
/** An account you blocked: it cannot message you in a direct chat, open one with you, or add you anywhere. */
export type Block = Static<typeof Block>;
export const BlockList = Type.Object({ blocks: Type.Array(Block) });
export type BlockList = Static<typeof BlockList>;

export const Invitation = Type.Object({
  id: Type.String(),
  conversation: Type.Object({
    id: Type.String(),
    kind: Type.Enum(['group', 'channel']),
    title: Type.Union([Type.String(), Type.Null()]),
    handle: Type.Union([Type.String(), Type.Null()]),
    member_count: Type.Integer({ minimum: 0 }),
  }),
  invited_by: Type.Object({ account_id: Type.String(), handle: Type.String() }),
  created_at: Millis,
});
/** Someone wanted to add you where your privacy setting asks them to invite you instead. */
export type Invitation = Static<typeof Invitation>;
export const InvitationList = Type.Object({ invitations: Type.Array(Invitation) });
export type InvitationList = Static<typeof InvitationList>;

/** The answer to adding someone who must be invited instead (their privacy setting). */
export const InvitedReply = Type.Object({
  invited: Type.Literal(true),
  handle: Type.String(),
});
export type InvitedReply = Static<typeof InvitedReply>;
