/**
 * Sync's public surface: what app.ts wires and what other capabilities may use — chiefly the
 * write transaction whose events reach live clients after commit. Other capabilities import from
 * this file only, and never query `events` themselves.
 */
export { type Emit, type EventTap, type WriteWithEvents, createEventWriter, emitAll } from './write.ts';
export type { NewEvent, StoredEvent } from './event-log.ts';
export { createSyncHub, type SyncHub, type Subscriber } from './hub.ts';
export { createTypingRelay, type TypingRelay } from './typing.ts';
export { syncRoutes } from './routes.ts';
export { eventsVisibleTo, latestCursor, redactMessageEvents, visibleCursor, visibleUpTo } from './event-log.ts';
export { waitForEvents } from './wait.ts';
export { RESTORE_GAP, inRestoreGap, markRestored } from './restored.ts';
