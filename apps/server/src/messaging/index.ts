/**
 * Messaging's public surface: what app.ts wires and what other capabilities may use. Other
 * capabilities import from this file only, and never query `messages` or `reactions` themselves.
 */
export { createMessaging, type Messaging, type MessagingDeps, LIVE_RECEIPTS_MAX_MEMBERS } from './service.ts';
export { messagingRoutes } from './routes.ts';
export { createMessageSearch, type MessageSearch } from './search.ts';
export { createLinkPreviews, type LinkPreviews, type LinkPreviewStep } from './link-previews.ts';
export { deleteForEveryone, type DeleteForEveryoneOptions, type DeleteForEveryoneResult } from './delete.ts';
export { findMessage, latestMessagesFrom, firstMessageIdFrom, visibleMessagesAmong, messagesForReview, type MessageForReview } from './lookup.ts';
export { loadMessageViews, audienceOf } from './views.ts';
export { hiddenAmong, newestShown } from './hides.ts';
export { unreadMentionCounts, listUnreadMentions } from './mentions.ts';
/** Whether a message (any view of it, a message.created or message.edited payload included) mentions this account. */
export { mentionsAccount } from '@mmd/contracts';
export { pendingAmong, deliverPending, failPending } from './pending.ts';
export { type SpreadPolicy, type SpreadAlert, type Velocity, spreadPolicyFrom } from './spread-velocity.ts';
export type { MessagesTable } from './schema.ts';
export {
  listSpreadClusters,
  spreadClusterDetail,
  spreadClusterId,
  spreadClusterSummary,
  decideSpreadCluster,
  restrictSharing,
  suspectedNetworks,
  sharingRestrictions,
} from './spread-console.ts';
export { DEFAULT_AMPLIFICATION, detectNetworks, type AmplificationParams, type ShareRecord, type SuspectNetwork } from './amplification.ts';
/** The worker-thread module running coordinated-sharing detection (for a thread pool). */
export const AMPLIFICATION_TASKS = new URL('./amplification-tasks.ts', import.meta.url);
export type AmplificationTasks = typeof import('./amplification-tasks.ts');
