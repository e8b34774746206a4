/**
 * Automation's public surface: what app.ts wires. Other capabilities import from this file only,
 * and never query automation's tables.
 */
export { automationRoutes } from './routes.ts';
export { createAutomationService, type AutomationService, automationEnabled, handoffStates } from './service.ts';
export { createAutomationRunner, type AutomationRunner, type AutomationRunPayload, type AutomationWebhookPayload } from './run.ts';
export { createSecretBox, type SecretBox } from './secret-box.ts';
export type { OutboundFetch } from './assistant.ts';
export type { AutomationTables } from './schema.ts';
