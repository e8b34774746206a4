/**
 * setWebhook delivery, as Telegram does it: each update is POSTed as JSON to the bot's URL (with
 * `X-Telegram-Bot-Api-Secret-Token` when a secret was set), in update_id order, and a 2xx
 * confirms it. Until then it is retried (backoff up to a minute) and getWebhookInfo shows the last
 * error. The confirmed cursor is the only state, kept in telegram_bots: a restart resumes from
 * it, so nothing is lost (at-least-once, like Telegram). One process delivers a bot at a time (a
 * lease in its row); a receiver that hangs only delays its own bot.
 *
 * A 2xx answer whose JSON body names a `method` is run as that bot's call (Telegram's "webhook
 * reply"), its result discarded.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../accounts/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { SyncHub } from '../sync/index.ts';
import type { Params } from './params.ts';
import type { TelegramService } from './service.ts';
import { allowedSet, readUpdates } from './updates.ts';

/** Posts a body to a user-chosen URL; SSRF-safe (platform/outbound.ts). */
export type PostJson = (url: string, options: { headers: Record<string, string>; body: string; timeoutMs: number; signal: AbortSignal }) => Promise<{ status: number; body: Buffer }>;

export interface WebhookDeps {
  db: Database;
  hub: SyncHub;
  service: TelegramService;
  post: PostJson;
  clock: () => number;
  /** The bot's principal, built from its account (deliveries carry no token). */
  principalOf: (botId: string) => Promise<Principal | null>;
  log: { warn: (obj: object, msg: string) => void };
  timeoutMs: number;
}

const LEASE_MS = 30_000;
const SCAN_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;

export function createWebhookDelivery(deps: WebhookDeps) {
  const { db } = deps;
  const owner = `tg_${randomBytes(6).toString('hex')}`;
  const running = new Map<string, AbortController>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  /** Takes (or renews) the bot's lease; false when another process holds it. */
  async function lease(botId: string): Promise<boolean> {
    const now = deps.clock();
    const result = await db.db
      .updateTable('telegram_bots')
      .set({ lease_owner: owner, lease_until: now + LEASE_MS })
      .where('account_id', '=', botId)
      .where('webhook_url', 'is not', null)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async function release(botId: string) {
    await db.db.updateTable('telegram_bots').set({ lease_owner: null, lease_until: null }).where('account_id', '=', botId).where('lease_owner', '=', owner).execute();
  }

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });

  async function deliver(botId: string, signal: AbortSignal) {
    let failures = 0;
    while (!signal.aborted && (await lease(botId))) {
      const s = await db.db.selectFrom('telegram_bots').selectAll().where('account_id', '=', botId).executeTakeFirst();
      if (!s?.webhook_url) break;
      const bot = await deps.principalOf(botId);
      if (!bot) break;
      const objects = deps.service.objectsFor(bot);
      const { updates, scanned } = await readUpdates({ db, hub: deps.hub, bot, objects, cursor: Number(s.confirmed_cursor), limit: 1, timeoutMs: LEASE_MS / 2, allowed: allowedSet(s.allowed_updates), clock: deps.clock, signal });
      const update = updates[0];
      if (!update) {
        if (scanned > Number(s.confirmed_cursor)) await confirm(botId, Number(s.confirmed_cursor), scanned, s.webhook_url);
        continue;
      }
      const url = s.webhook_url;
      let error: string | null = null;
      let answer: Buffer | null = null;
      try {
        const response = await deps.post(url, {
          headers: { 'content-type': 'application/json', ...(s.webhook_secret ? { 'x-telegram-bot-api-secret-token': s.webhook_secret } : {}) },
          body: JSON.stringify(update),
          timeoutMs: deps.timeoutMs,
          signal,
        });
        if (response.status >= 200 && response.status < 300) answer = response.body;
        else error = `Wrong response from the webhook: ${response.status}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      if (signal.aborted) break;
      if (error !== null) {
        failures += 1;
        await db.db.updateTable('telegram_bots').set({ last_error_at: deps.clock(), last_error_message: error.slice(0, 200) }).where('account_id', '=', botId).execute();
        deps.log.warn({ bot: botId, error }, 'telegram webhook delivery failed');
        const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 10));
        await sleep(backoff * (0.75 + Math.random() * 0.5), signal);
        continue;
      }
      failures = 0;
      await confirm(botId, Number(s.confirmed_cursor), update.update_id, url);
      if (answer && answer.length > 0) await webhookReply(bot, answer);
    }
    await release(botId).catch(() => {});
  }

  /** Moves the confirmed cursor on, unless the webhook changed meanwhile (a new setWebhook decides afresh). */
  async function confirm(botId: string, from: number, to: number, url: string) {
    await db.db
      .updateTable('telegram_bots')
      .set({ confirmed_cursor: to })
      .where('account_id', '=', botId)
      .where('confirmed_cursor', '=', from)
      .where('webhook_url', '=', url)
      .execute();
  }

  async function webhookReply(bot: Principal, body: Buffer) {
    let parsed: Params;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Params;
    } catch {
      return;
    }
    if (!parsed || typeof parsed !== 'object' || typeof parsed.method !== 'string') return;
    const { method, ...params } = parsed;
    if (!deps.service.has(method as string) || /^(getupdates|setwebhook|deletewebhook)$/i.test(method as string)) return;
    await deps.service.call(method as string, { bot, params, uploads: new Map(), signal: new AbortController().signal }).catch((err) => deps.log.warn({ err, method }, 'telegram webhook reply failed'));
  }

  function start(botId: string) {
    if (stopped || running.has(botId)) return;
    const controller = new AbortController();
    running.set(botId, controller);
    deliver(botId, controller.signal)
      .catch((err) => deps.log.warn({ err, bot: botId }, 'telegram webhook loop failed'))
      .finally(() => {
        if (running.get(botId) === controller) running.delete(botId);
      });
  }

  async function scan() {
    const now = deps.clock();
    const rows = await db.db
      .selectFrom('telegram_bots')
      .select('account_id')
      .where('webhook_url', 'is not', null)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
      .limit(1000)
      .execute();
    for (const r of rows) start(r.account_id);
  }

  return {
    start() {
      const tick = () => {
        scan()
          .catch((err) => deps.log.warn({ err }, 'telegram webhook scan failed'))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, SCAN_MS);
          });
      };
      tick();
    },
    /** setWebhook or deleteWebhook: restart this bot's loop so it reads the new settings now. */
    changed(botId: string) {
      running.get(botId)?.abort();
      running.delete(botId);
      setImmediate(() => start(botId));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const c of running.values()) c.abort();
      running.clear();
    },
  };
}
