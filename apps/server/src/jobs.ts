/**
 * Every background job MMD runs, by type. The worker's handler map is typed from this, so adding a
 * job type without a handler does not compile.
 */
export interface JobPayloads {
  /** Inspect, strip and transcode one upload into its renditions. */
  'media-process': { mediaId: string };
  /** Find and act on stored uploads matching a bank's signals with ids in (afterSignalId, upToSignalId]. */
  /** A poll or form reached its closes_at: mark it closed and tell the conversation. */
  'interactive-close': { messageId: string };
  /** `tag`: whoever queued it hears when it completes (safety's sweepCompleted hook; federation tags its peers' signals). */
  'safety-sweep': { bankId: string; afterSignalId: number; upToSignalId: number; caseRef?: string; tag?: string };
  /** Re-hash stored uploads whose image sets older parameters made, the page after `afterId` (safety/rehash.ts). */
  'safety-rehash': { afterId: number; /** The walk this page belongs to (rehash.ts enqueueFirst). */ run: string };
  /** A business's automation answers one contact message (rules, greeting, away, assistant). */
  'automation-run': { businessId: string; conversationId: string; messageId: string };
  /** One rule webhook call, signed per Standard Webhooks. */
  'automation-webhook': { businessId: string; conversationId: string; messageId: string; ruleId: string; url: string; deliveryId: string };
  /** Confirm a STOP / START / HELP or a double opt-in in the person's chat with the business (contacts/chat.ts). */
  'contacts-reply': { businessId: string; conversationId: string; messageId: string; kind: 'stop' | 'start' | 'help' | 'confirmed' | 'confirm_request'; lang: 'en' | 'fr' | 'es' | 'de' | 'pt' };
  /**
   * A personalised template render's media processing: the same work as media-process, run by a
   * worker of its own, so a campaign's thousands of renders never hold the slots people's uploads need.
   */
  'template-media-process': { mediaId: string };
  /** Send a webhook's due deliveries (bots/webhooks.ts); run by its own worker, apart from media work. */
  'webhook-deliver': { webhookId: string };
  /** Write an uploaded contact file in batches (contacts/import.ts); run by its own worker. */
  'contacts-import': { importId: string };
  /** Page through a campaign run's audience, writing its recipients (campaigns/planner.ts). */
  'campaign-plan': { runId: number };
  /** One sender lane of a campaign run: claim due recipients, send, hand over (campaigns/sender.ts). */
  'campaign-send': { runId: number; chain: number; lane: number; step: number };
  /** Send one transactional notification (idempotent: its message carries the notification's key). */
  'notification-send': { notificationId: string };
  /** One step of a message's link preview (messaging/link-previews.ts); run by its own worker. */
  'link-preview': { messageId: string; step: 'fetch' } | { messageId: string; step: 'image'; attempt: number };
  /** Push a peer's undelivered federation messages to its inbox, in order (federation/outbox.ts); its own worker. */
  'federation-deliver': { peerId: string };
  /**
   * Web Push for one message to its recipients' devices (push/service.ts); its own worker. A retry
   * names the subscriptions whose push service asked to try again (`only`), so nobody gets it twice.
   */
  'push-message': { messageId: string; conversationId: string; senderId: string; joinedBy: number | null; to: string | null; mentioned: string[]; only?: string[]; round?: number };
  /** Tell the business (its stream and webhooks) that a notification was delivered or read. */
  'notification-event': { notificationId: string; status: 'delivered' | 'read' };
}

/** Job types the general worker runs; webhook deliveries have a worker of their own (isolation). */
export type CoreJobPayloads = Omit<JobPayloads, 'link-preview' | 'webhook-deliver' | 'federation-deliver' | 'template-media-process' | 'contacts-import' | 'campaign-plan' | 'campaign-send' | 'notification-send' | 'notification-event' | 'push-message'>;
export type WebhookJobPayloads = Pick<JobPayloads, 'webhook-deliver'>;
/** Link previews wait on other people's web servers: a queue of their own, so media work never waits behind them. */
export type LinkPreviewJobPayloads = Pick<JobPayloads, 'link-preview'>;
/** Personalised template renders' processing, on a worker of its own (templates/personalise.ts). */
export type TemplateMediaJobPayloads = Pick<JobPayloads, 'template-media-process'>;
/** Contact imports run minutes for a million rows: a worker of their own, so media and messages never wait. */
export type ImportJobPayloads = Pick<JobPayloads, 'contacts-import'>;
/** Campaign planning and sending: a queue and worker of their own, so a backlog never starves media or chats. */
export type CampaignJobPayloads = Pick<JobPayloads, 'campaign-plan' | 'campaign-send' | 'notification-send' | 'notification-event'>;
/** Federation pushes wait on other platforms' servers: a queue and worker of their own. */
export type FederationJobPayloads = Pick<JobPayloads, 'federation-deliver'>;
/** Pushes wait on browsers' push services: a queue and worker of their own. */
export type PushJobPayloads = Pick<JobPayloads, 'push-message'>;

/**
 * The named queue each job type runs in (app.ts opens each queue by one of its types' entry here, so
 * the names are written once). The database queue
 * keeps every type in one table, so its metrics need this to say which queue a type's backlog is
 * in; the mapped type makes a job type without a queue a compile error.
 */
export const JOB_QUEUE: { [K in keyof JobPayloads]: string } = {
  'media-process': 'core',
  'interactive-close': 'core',
  'safety-sweep': 'core',
  'safety-rehash': 'core',
  'automation-run': 'core',
  'automation-webhook': 'core',
  'contacts-reply': 'core',
  'template-media-process': 'template-renders',
  'webhook-deliver': 'webhooks',
  'contacts-import': 'contact-imports',
  'campaign-plan': 'campaigns',
  'campaign-send': 'campaigns',
  'notification-send': 'campaigns',
  'notification-event': 'campaigns',
  'link-preview': 'link-previews',
  'federation-deliver': 'federation',
  'push-message': 'push',
};

/** The queue of a job type read back from storage, or undefined for a type this code does not know. */
export function queueOfJob(type: string): string | undefined {
  return Object.hasOwn(JOB_QUEUE, type) ? JOB_QUEUE[type as keyof JobPayloads] : undefined;
}
