/**
 * The interactive capability's public surface: buttons, quick replies, lists, cards, polls and
 * forms carried by messages, and the interactions on them. Messaging stores and shows a message's
 * interactive content through these functions; nobody else queries this capability's tables.
 */
export { createInteractive, type Interactive, type InteractiveDeps, CALLBACK_WAIT_MS, POLL_COALESCE_MS } from './service.ts';
export { interactiveRoutes } from './routes.ts';
export { type InteractiveInput, type PreparedContent, prepareInteractive, hasInteractive } from './content.ts';
export { storeInteractive, messagesOfType, forgetInteractive } from './store.ts';
export { interactiveFieldsOf, type InteractiveFields } from './views.ts';
export type { InteractiveTables } from './schema.ts';
