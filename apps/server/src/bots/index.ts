/**
 * The bots capability's public surface: bot accounts and their tokens, bot commands, webhooks
 * (Standard Webhooks) and durable custom deliveries for other capabilities (Telegram's
 * setWebhook). Other capabilities import from this file only, and never query `bots`, `webhooks`
 * or `webhook_deliveries`.
 */
export { createBots, type Bots, type BotsDeps, requireBot, requirePerson, authenticateBotToken } from './service.ts';
export { createWebhooks, type Webhooks, type WebhooksDeps, signStandardWebhook } from './webhooks.ts';
export { botRoutes } from './routes.ts';
