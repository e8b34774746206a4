/**
 * Conversations' public surface: what app.ts wires and what other capabilities may use. Other
 * capabilities import from this file only, and never query `conversations` or `members`.
 */
export {
  createConversations,
  type Conversations,
  type ConversationsDeps,
  MAX_GROUP_MEMBERS,
  directWriting,
} from './service.ts';
export { conversationRoutes } from './routes.ts';
export { createInviteLinks, type InviteLinks, MAX_PENDING_JOIN_REQUESTS } from './invite-links.ts';
export { inviteLinkRoutes } from './invite-routes.ts';
export { isBanned } from './service.ts';
export {
  type Membership,
  type SeqRange,
  requireMember,
  isAdmin,
  assertMayPost,
  assertMayManage,
  readableRanges,
  readableConversations,
  inRanges,
  mayReadSeq,
  seqIn,
  readersOfSeq,
} from './access.ts';
export { channelsAmong, channelsSubscribedOnly, type ChannelIdentity, activeMembership, currentMemberIds, conversationIdsOf, directChatIds, directPair, kindsOf, membersAmong, membershipsOf, unreadTotal } from './lookup.ts';
export { settingsOf } from './chat-settings.ts';
export { nextSeq, raiseWatermarks, raiseDeliveredMany, hideFromLaterJoiners } from './counters.ts';
export { openDirectChats, nextSeqs, directChatsOf, markOwnMessages, type OpenedChat } from './bulk.ts';
