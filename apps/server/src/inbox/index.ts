/**
 * The team inbox's public surface: what app.ts wires. Other capabilities import from this file
 * only, and never query `inbox_conversations` or `inbox_notes`.
 */
export { createInbox, type Inbox, type InboxDeps } from './service.ts';
export { inboxRoutes } from './routes.ts';
export type { InboxTables } from './schema.ts';
