/**
 * Assembles the Telegram path: the id map, the methods, file handling, webhook delivery and the
 * routes, from the capabilities app.ts already built.
 */
import { Readable } from 'node:stream';
import type { Accounts, Principal } from '../accounts/index.ts';
import type { Conversations } from '../conversations/index.ts';
import type { Media } from '../media/index.ts';
import type { Messaging } from '../messaging/index.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import { OutboundError, checkOutboundUrl, outboundFetch } from '../platform/outbound.ts';
import type { SyncHub, TypingRelay } from '../sync/index.ts';
import { badRequest } from './errors.ts';
import { createFiles } from './files.ts';
import { createIdMap } from './ids.ts';
import { telegramRoutes } from './routes.ts';
import { type TelegramDeps, createTelegramService } from './service.ts';
import { createWebhookDelivery } from './webhook.ts';

export interface TelegramOptions {
  db: Database;
  hub: SyncHub;
  clock: () => number;
  accounts: Accounts;
  conversations: Conversations;
  messaging: Messaging;
  media: Media;
  blobs: BlobStore;
  typing: TypingRelay;
  log: { warn: (obj: object, msg: string) => void };
  /** Resolves a token to its bot (bot tokens; device tokens and API keys of bot accounts). */
  authenticateBot: (token: string) => Promise<Principal | null>;
  /** The bot's principal from its account id, for webhook deliveries (which carry no token). */
  principalOf: (botId: string) => Promise<Principal | null>;
  outbound: { allowPrivate: boolean; timeoutMs: number };
  maxUploadBytes: number;
  /** How long sendPhoto and friends wait for processing before answering (default 5 s). */
  mediaWaitMs?: number;
  interactive?: TelegramDeps['interactive'];
  commands?: TelegramDeps['commands'];
  editButtons?: TelegramDeps['editButtons'];
}

export function createTelegram(options: TelegramOptions) {
  const { db, outbound } = options;
  const ids = createIdMap(db);
  const files = createFiles({
    db,
    media: options.media,
    blobs: options.blobs,
    maxUrlBytes: options.maxUploadBytes,
    async fetchUrl(url, { maxBytes, signal }) {
      try {
        const response = await outboundFetch({ url, method: 'GET', timeoutMs: Math.max(outbound.timeoutMs, 30_000), maxResponseBytes: maxBytes, maxRedirects: 3, allowPrivate: outbound.allowPrivate, signal });
        if (response.status < 200 || response.status >= 300) throw badRequest(`failed to get HTTP URL content: status ${response.status}`);
        const name = decodeURIComponent(new URL(response.url).pathname.split('/').pop() ?? '') || null;
        return { body: Readable.from([response.body]), filename: name };
      } catch (err) {
        if (err instanceof OutboundError) throw badRequest(`failed to get HTTP URL content: ${err.message}`);
        throw err;
      }
    },
  });
  let delivery: ReturnType<typeof createWebhookDelivery> | null = null;
  const service = createTelegramService({
    db,
    hub: options.hub,
    clock: options.clock,
    ids,
    accounts: options.accounts,
    conversations: options.conversations,
    messaging: options.messaging,
    media: options.media,
    files,
    typing: options.typing,
    mediaWaitMs: options.mediaWaitMs ?? 5_000,
    interactive: options.interactive ?? null,
    editButtons: options.editButtons ?? null,
    commands: options.commands ?? null,
    async checkWebhookUrl(url) {
      try {
        await checkOutboundUrl(url, { allowPrivate: outbound.allowPrivate });
        return null;
      } catch (err) {
        if (err instanceof OutboundError) return err.message;
        throw err;
      }
    },
    onWebhookChanged: (botId) => delivery?.changed(botId),
  });
  delivery = createWebhookDelivery({
    db,
    hub: options.hub,
    service,
    clock: options.clock,
    principalOf: options.principalOf,
    log: options.log,
    timeoutMs: outbound.timeoutMs,
    async post(url, { headers, body, timeoutMs, signal }) {
      const response = await outboundFetch({ url, method: 'POST', headers, body, timeoutMs, maxResponseBytes: 1024 * 1024, allowPrivate: outbound.allowPrivate, signal });
      return { status: response.status, body: response.body };
    },
  });
  const webhooks = delivery;
  return {
    routes: telegramRoutes({ service, files, authenticateBot: options.authenticateBot, maxUploadBytes: options.maxUploadBytes }),
    service,
    /** Starts webhook delivery (the API roles call it once ready). */
    start: () => webhooks.start(),
    stop: () => webhooks.stop(),
  };
}

export type Telegram = ReturnType<typeof createTelegram>;
