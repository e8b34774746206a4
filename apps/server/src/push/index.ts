/**
 * Push's public surface: what app.ts wires. Other capabilities import from this file only, and
 * never query `push_subscriptions`.
 */
export { createPush, checkPushEndpoint, type Push, type PushDeps, type PushJob, type PushOutcome } from './service.ts';
export { pushRoutes } from './routes.ts';
export { vapidKeys, type VapidKeys } from './vapid.ts';
export { mentionedAccountIds } from './mentions.ts';
