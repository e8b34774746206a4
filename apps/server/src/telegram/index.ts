/**
 * The Telegram Bot API compatibility capability: what app.ts wires. Nothing else imports it; it
 * reaches other capabilities only through their index.ts.
 */
export { createTelegram, type Telegram, type TelegramOptions } from './telegram.ts';
