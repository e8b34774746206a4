/**
 * Safety's public surface: what app.ts wires. No other capability imports safety; media's
 * processing calls its screening through the `screen` hook app.ts passes in.
 */
export { createSafety, type Safety, type SafetyDeps } from './service.ts';
export { safetyRoutes, type SafetyRouteDeps } from './routes.ts';
export { spreadRoutes, recordSpreadAlert } from './spread-review.ts';
export type { ReviewDecided, SafetyListener, SharedSignal, SweepCompleted, TakedownFinished } from './hooks.ts';
export type { AuditInput } from './audit.ts';
export type { ExchangeBank, ExchangeReads, ExchangeSignal } from './exchange.ts';
export type { CasePlatforms } from './protect.ts';
