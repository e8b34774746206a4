/** The bot and webhook calls the "Bots & automation" page makes, through the SDK. */
import type { Bot, BotCommand, MmdClient, Webhook, WebhookDelivery } from '@mmd/sdk';

export type { Bot, Webhook };
export type Delivery = WebhookDelivery;
export type Command = BotCommand;

export const myBots = (client: MmdClient) => client.bots();
export const createBot = (client: MmdClient, input: { handle: string; name: string }) => client.createBot(input);
export const rotateToken = (client: MmdClient, botId: string) => client.rotateBotToken(botId);
export const deleteBot = (client: MmdClient, botId: string) => client.deleteBot(botId);
export const botCommands = (client: MmdClient, botId: string) => client.botCommands(botId);
export const setBotCommands = (client: MmdClient, botId: string, commands: Command[]) => client.setBotCommands(botId, commands);

/** Webhooks of a bot I own (`botId`), or of my own account (a business). */
export const webhooks = (client: MmdClient, botId: string | null) => client.webhooks(botId ? { bot: botId } : {});
export const createWebhook = (client: MmdClient, botId: string | null, input: { url: string; events?: string[] }) =>
  client.createWebhook(botId ? { ...input, bot: botId } : input);
export const updateWebhook = (client: MmdClient, id: string, input: { enabled?: boolean }) => client.updateWebhook(id, input);
export const deleteWebhook = (client: MmdClient, id: string) => client.deleteWebhook(id);
export const deliveries = async (client: MmdClient, webhookId: string) => (await client.webhookDeliveries(webhookId, { limit: 50 })).deliveries;
export const replayDelivery = (client: MmdClient, webhookId: string, deliveryId: string) => client.replayDelivery(webhookId, deliveryId);
