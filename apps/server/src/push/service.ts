/**
 * Web Push: devices register the subscription their browser made; when a message commits, an event
 * tap enqueues one durable job for it (in the message's own transaction), and the job pushes to
 * the recipients' devices — never the sender, never to someone no longer in the chat, never for a
 * chat muted by the recipient unless they were mentioned. By default a push carries no content
 * (chat id, message id, unread count): the service worker fetches the text with the device's own
 * credentials, so a push service never reads a message. A person may opt in to previews.
 *
 * A subscription endpoint is a URL a stranger chose, and the server POSTs to it: it must be https
 * on a public address (platform/outbound.ts checks the resolved address at connect time too);
 * http to loopback only with the operator's `pushAllowLoopback` (tests).
 */
import { createECDH, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type CreatePushSubscriptionBody,
  MAX_PUSH_ENDPOINT_LENGTH,
  MAX_PUSH_SUBSCRIPTIONS_PER_ACCOUNT,
  MAX_PUSH_SUBSCRIPTIONS_PER_DEVICE,
  PUSH_PREVIEW_CHARS,
  type PushPayload,
  type PushSubscriptionView,
} from '@mmd/contracts';
import webpush from 'web-push';
import type { Principal } from '../accounts/index.ts';
import { handlesOf } from '../accounts/index.ts';
import { channelsAmong, currentMemberIds, directPair, membersAmong, settingsOf, unreadTotal } from '../conversations/index.ts';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { findMessage } from '../messaging/index.ts';
import { type Database, type Tx, lockScope, prepared } from '../platform/db/index.ts';

// Does one recipient (a direct chat's other person, or the event's addressee) have a push
// subscription, or anyone but the sender (a group's or channel's message)? On every message's write.
const subscribedOne = prepared((db, p: { senderId: string; recipient: string }) =>
  db.selectFrom('push_subscriptions').select('id').where('account_id', '!=', p.senderId).where('account_id', '=', p.recipient).limit(1),
);
const subscribedOther = prepared((db, p: { senderId: string }) => db.selectFrom('push_subscriptions').select('id').where('account_id', '!=', p.senderId).limit(1));
import { OutboundError, type OutboundRequest, type OutboundResponse, addressAllowed, outboundFetch } from '../platform/outbound.ts';
import type { JobPayloads } from '../jobs.ts';
import type { EventTap } from '../sync/index.ts';
import { mentionedAccountIds } from './mentions.ts';
import type { PushSubscriptionsTable } from './schema.ts';

export type PushJob = JobPayloads['push-message'];

/** A push service that asked to try again is tried this many times in all, backing off. */
const MAX_ROUNDS = 4;
/** How long a push service keeps an undelivered push (the device offline): a day; older news is stale. */
const PUSH_TTL_SECONDS = 24 * 60 * 60;

export interface PushDeps {
  db: Database;
  clock: () => number;
  /** The instance's VAPID key pair (vapid.ts), base64url. */
  vapid: { publicKey: string; privateKey: string; subject: string };
  config: { allowLoopback: boolean; allowPrivate: boolean; timeoutMs: number };
  /** Which of these devices are still signed in (accounts). */
  liveDevices: (deviceIds: readonly string[]) => Promise<Set<string>>;
  /** Enqueues a push job, in the caller's transaction when given. */
  enqueue: (tx: Tx | null, payload: PushJob, options: { dedupeKey: string; runAt?: number }) => Promise<void>;
  /** Outbound HTTP (defaults to platform/outbound.ts); tests may count calls. */
  fetch?: (request: OutboundRequest) => Promise<OutboundResponse>;
  log: { warn: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function invalidEndpoint(message: string): AppError {
  return new AppError('validation_failed', `invalid push endpoint: ${message}`, { errors: [{ path: '/endpoint', message }] });
}

/**
 * Checks an endpoint's form: https with a host that is not an address in a private range, no
 * credentials; plain http only to loopback when `allowLoopback`. Names are resolved when pushing
 * (and the connection pinned to the checked address), not here: DNS can change in between.
 */
export function checkPushEndpoint(raw: string, options: { allowLoopback: boolean; allowPrivate?: boolean }): URL {
  if (raw.length > MAX_PUSH_ENDPOINT_LENGTH) throw invalidEndpoint(`at most ${MAX_PUSH_ENDPOINT_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidEndpoint('not a URL');
  }
  if (url.username || url.password) throw invalidEndpoint('credentials in the URL are not allowed');
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol === 'http:') {
    if (!(options.allowLoopback && loopback)) throw invalidEndpoint('must be an https URL');
    return url;
  }
  if (url.protocol !== 'https:') throw invalidEndpoint('must be an https URL');
  if (loopback) {
    if (!options.allowLoopback && !options.allowPrivate) throw invalidEndpoint('must be on a public address');
    return url;
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0 && !addressAllowed(host, options.allowPrivate === true)) throw invalidEndpoint('must be on a public address');
  return url;
}

function checkKeys(keys: { p256dh: string; auth: string }) {
  const p256dh = Buffer.from(keys.p256dh, 'base64url');
  const bad = (path: string, message: string) => new AppError('validation_failed', `invalid push keys: ${message}`, { errors: [{ path, message }] });
  if (p256dh.length !== 65 || p256dh[0] !== 4) throw bad('/keys/p256dh', 'must be an uncompressed P-256 public key (65 bytes, base64url)');
  try {
    // Throws unless it is a point on the curve: a push to it could never be encrypted.
    const probe = createECDH('prime256v1');
    probe.generateKeys();
    probe.computeSecret(p256dh);
  } catch {
    throw bad('/keys/p256dh', 'not a point on P-256');
  }
  if (Buffer.from(keys.auth, 'base64url').length !== 16) throw bad('/keys/auth', 'must be 16 bytes, base64url');
}

function toView(row: PushSubscriptionsTable): PushSubscriptionView {
  return { id: row.id, endpoint_origin: new URL(row.endpoint).origin, device_id: row.device_id, previews: Number(row.previews) === 1, created_at: Number(row.created_at) };
}

/** A push service's topic (at most 32 base64url characters): a newer push of one chat replaces an undelivered older one. */
function topicOf(conversationId: string): string {
  return createHash('sha256').update(conversationId).digest('base64url').slice(0, 32);
}

export type PushOutcome = 'sent' | 'gone' | 'retry' | 'rejected';

export function createPush(deps: PushDeps) {
  const { db, clock, vapid, config, log } = deps;
  const send = deps.fetch ?? outboundFetch;

  function requireDevice(principal: Principal): string {
    if (!principal.deviceId || principal.kind === 'bot') throw new AppError('forbidden', 'push subscriptions belong to a signed-in device of a person');
    return principal.deviceId;
  }

  async function deleteSubscriptions(ids: readonly string[]) {
    if (ids.length === 0) return;
    await db.writeTransaction(async (tx) => {
      for (let i = 0; i < ids.length; i += 500) await tx.deleteFrom('push_subscriptions').where('id', 'in', ids.slice(i, i + 500)).execute();
    });
  }

  /** One push to one subscription; what the push service's answer means for it. */
  async function pushTo(row: PushSubscriptionsTable, payload: PushPayload, conversationId: string): Promise<PushOutcome> {
    const details = webpush.generateRequestDetails({ endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } }, JSON.stringify(payload), {
      vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      TTL: PUSH_TTL_SECONDS,
      urgency: 'high',
      topic: topicOf(conversationId),
    });
    const url = new URL(details.endpoint);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) headers[k.toLowerCase()] = String(v);
    try {
      const answer = await send({
        url: details.endpoint,
        method: 'POST',
        headers,
        body: details.body ?? Buffer.alloc(0),
        timeoutMs: config.timeoutMs,
        maxResponseBytes: 16 * 1024,
        // Loopback stand-ins (tests) only with the operator's flag; otherwise public addresses only.
        allowPrivate: config.allowPrivate || (config.allowLoopback && LOOPBACK_HOSTS.has(url.hostname)),
      });
      if (answer.status >= 200 && answer.status < 300) return 'sent';
      // The browser unsubscribed or the subscription expired: it will never work again (RFC 8030 §7.3).
      if (answer.status === 404 || answer.status === 410) return 'gone';
      if (answer.status === 429 || answer.status >= 500) return 'retry';
      log.warn({ subscription: row.id, status: answer.status, origin: url.origin }, 'push service refused a push');
      return 'rejected';
    } catch (err) {
      if (err instanceof OutboundError && (err.code === 'blocked_address' || err.code === 'invalid_url')) {
        // The name now resolves to a private address: never pushed to, and not kept.
        log.warn({ subscription: row.id, origin: url.origin, code: err.code }, 'push endpoint refused');
        return 'gone';
      }
      return 'retry';
    }
  }

  /**
   * The event tap: a message that went out (`message.created` in a conversation) gets one push
   * job, committed with the message. Held messages have no such event until released.
   */
  const tap: EventTap = async (tx, { stored, event }) => {
    if (event.type !== 'message.created' || event.conversationId === null) return;
    const message = event.data;
    const to = event.targetAccountId ?? null;
    // A channel's post shows the channel as its author: the admin who wrote it is on the row, and is
    // not pushed their own post.
    const senderId = message.sender_id === event.conversationId ? ((await findMessage(tx, message.id))?.sender_id ?? message.sender_id) : message.sender_id;
    // Cheap checks first (this runs on every message's write path): is anyone who could get it subscribed?
    // (Prepared once, both shapes.)
    const pair = to === null ? await directPair(tx, event.conversationId) : null;
    const recipient = to ?? (pair ? (pair[0] === senderId ? pair[1] : pair[0]) : null);
    const probe = recipient !== null ? await subscribedOne(tx, { senderId, recipient }) : await subscribedOther(tx, { senderId });
    if (probe.rows.length === 0) return;
    await deps.enqueue(
      tx,
      { messageId: message.id, conversationId: event.conversationId, senderId, joinedBy: stored.members_joined_by ?? null, to, mentioned: mentionedAccountIds(message) },
      { dedupeKey: `push-message:${message.id}` },
    );
  };

  return {
    tap,

    vapidKey(): { public_key: string } {
      return { public_key: vapid.publicKey };
    },

    async subscribe(principal: Principal, input: CreatePushSubscriptionBody): Promise<{ subscription: PushSubscriptionView; created: boolean }> {
      const deviceId = requireDevice(principal);
      checkPushEndpoint(input.endpoint, { allowLoopback: config.allowLoopback, allowPrivate: config.allowPrivate });
      checkKeys(input.keys);
      const now = clock();
      if (input.expirationTime !== undefined && input.expirationTime !== null && input.expirationTime <= now) throw new AppError('validation_failed', 'this subscription has expired', { errors: [{ path: '/expirationTime', message: 'in the past' }] });
      return db.writeTransaction(async (tx) => {
        // Counted below before one is added: two requests of one account take turns.
        await lockScope(tx, `push-subscriptions:${principal.accountId}`);
        const existing = await tx.selectFrom('push_subscriptions').selectAll().where('device_id', '=', deviceId).where('endpoint', '=', input.endpoint).executeTakeFirst();
        const fields = { p256dh: input.keys.p256dh, auth: input.keys.auth, previews: input.previews ? 1 : 0, expires_at: input.expirationTime ?? null };
        if (existing) {
          await tx.updateTable('push_subscriptions').set(fields).where('id', '=', existing.id).execute();
          return { subscription: toView({ ...existing, ...fields }), created: false };
        }
        // Counted under the account's lock: two requests cannot both make the last one.
        const counts = await tx
          .selectFrom('push_subscriptions')
          .select((eb) => [eb.fn.countAll<number>().as('all'), eb.fn.sum<number>(eb.case().when('device_id', '=', deviceId).then(1).else(0).end()).as('device')])
          .where('account_id', '=', principal.accountId)
          .executeTakeFirstOrThrow();
        if (Number(counts.device ?? 0) >= MAX_PUSH_SUBSCRIPTIONS_PER_DEVICE) throw new AppError('limit_reached', `a device may keep at most ${MAX_PUSH_SUBSCRIPTIONS_PER_DEVICE} push subscriptions; delete one first`);
        if (Number(counts.all) >= MAX_PUSH_SUBSCRIPTIONS_PER_ACCOUNT) throw new AppError('limit_reached', `an account may keep at most ${MAX_PUSH_SUBSCRIPTIONS_PER_ACCOUNT} push subscriptions; delete one first`);
        const row: PushSubscriptionsTable = { id: newId('psh', now), account_id: principal.accountId, device_id: deviceId, endpoint: input.endpoint, ...fields, created_at: now };
        await tx.insertInto('push_subscriptions').values(row).execute();
        return { subscription: toView(row), created: true };
      });
    },

    /** This device's subscriptions (another device's are its own business). */
    async list(principal: Principal): Promise<PushSubscriptionView[]> {
      const deviceId = requireDevice(principal);
      const rows = await db.db.selectFrom('push_subscriptions').selectAll().where('device_id', '=', deviceId).orderBy('created_at').execute();
      return rows.map(toView);
    },

    /** Deletes one of the account's subscriptions (any of its devices': signing a lost phone's pushes off). */
    async unsubscribe(principal: Principal, id: string): Promise<void> {
      requireDevice(principal);
      const result = await db.writeTransaction((tx) => tx.deleteFrom('push_subscriptions').where('id', '=', id).where('account_id', '=', principal.accountId).executeTakeFirst());
      // Another account's subscription and an unknown id look the same.
      if (Number(result.numDeletedRows) === 0) throw notFound('push subscription');
    },

    /** A device signed out or revoked: its subscriptions end with it. */
    async forgetDevice(deviceId: string): Promise<void> {
      await db.writeTransaction((tx) => tx.deleteFrom('push_subscriptions').where('device_id', '=', deviceId).execute());
    },

    /** An account suspended: none of its devices is pushed to again. */
    async forgetAccount(accountId: string): Promise<void> {
      await db.writeTransaction((tx) => tx.deleteFrom('push_subscriptions').where('account_id', '=', accountId).execute());
    },

    /** The job: pushes one message to its recipients' live devices. Returns what happened, per outcome. */
    async deliver(job: PushJob): Promise<Record<PushOutcome | 'skipped', number>> {
      const tally = { sent: 0, gone: 0, retry: 0, rejected: 0, skipped: 0 };
      const message = await findMessage(db.db, job.messageId);
      // Deleted (or somehow not out) before its push ran: nothing to announce.
      if (message?.status !== 'sent' || message.deleted_at !== null) return tally;
      const candidates = (job.to !== null ? [job.to] : await currentMemberIds(db.db, job.conversationId)).filter((id) => id !== job.senderId);
      let subs: PushSubscriptionsTable[] = [];
      for (let i = 0; i < candidates.length; i += 500) {
        let q = db.db.selectFrom('push_subscriptions').selectAll().where('account_id', 'in', candidates.slice(i, i + 500));
        if (job.only) q = q.where('id', 'in', job.only);
        subs.push(...(await q.execute()));
      }
      if (subs.length === 0) return tally;
      // Members now, and there when it was written (a released held message is for those who were).
      const members = await membersAmong(db.db, job.conversationId, [...new Set(subs.map((s) => s.account_id))], { joinedBy: job.joinedBy });
      subs = subs.filter((s) => members.has(s.account_id));
      // Access ends when the grant ends: a signed-out, expired or suspended device's subscriptions go.
      const live = await deps.liveDevices([...new Set(subs.map((s) => s.device_id))]);
      const now = clock();
      const ended = subs.filter((s) => !live.has(s.device_id) || (s.expires_at !== null && Number(s.expires_at) <= now));
      await deleteSubscriptions(ended.map((s) => s.id));
      tally.gone += ended.length;
      subs = subs.filter((s) => !ended.includes(s));

      const mentioned = new Set(job.mentioned);
      const byAccount = new Map<string, PushSubscriptionsTable[]>();
      for (const s of subs) byAccount.set(s.account_id, [...(byAccount.get(s.account_id) ?? []), s]);
      // A channel's post is the channel's: a preview names the channel, never the admin who wrote it.
      const channel = (await channelsAmong(db.db, [job.conversationId])).get(job.conversationId);
      const senderHandle = !subs.some((s) => Number(s.previews) === 1) ? '' : channel ? (channel.handle ?? channel.title ?? '') : ((await handlesOf(db.db, [job.senderId])).get(job.senderId) ?? '');
      const retry: string[] = [];
      const gone: string[] = [];
      for (const [accountId, own] of byAccount) {
        const settings = (await settingsOf(db.db, accountId, [job.conversationId])).get(job.conversationId)!;
        const muted = settings.muted_until !== null && settings.muted_until > now;
        // A mention breaks through a mute; nothing else does.
        if (muted && !mentioned.has(accountId)) {
          tally.skipped += own.length;
          continue;
        }
        // Cleared up to it ("clear chat" after it was sent, before the push ran): nothing to show.
        if (settings.cleared_seq >= Number(message.seq)) {
          tally.skipped += own.length;
          continue;
        }
        const base: PushPayload = { v: 1, type: 'message', conversation_id: job.conversationId, message_id: job.messageId, unread: await unreadTotal(db.db, accountId), ...(mentioned.has(accountId) ? { mention: true as const } : {}) };
        const outcomes = await Promise.all(
          own.map((s) => {
            const payload = Number(s.previews) === 1 ? { ...base, preview: { sender: senderHandle, text: [...(message.text ?? '')].slice(0, PUSH_PREVIEW_CHARS).join('') } } : base;
            return pushTo(s, payload, job.conversationId).then((o) => [s.id, o] as const);
          }),
        );
        for (const [id, outcome] of outcomes) {
          tally[outcome] += 1;
          if (outcome === 'gone') gone.push(id);
          if (outcome === 'retry') retry.push(id);
        }
      }
      await deleteSubscriptions(gone);
      const round = job.round ?? 1;
      if (retry.length > 0 && round < MAX_ROUNDS) {
        // Only the ones that asked: the others have theirs already.
        await deps.enqueue(null, { ...job, only: retry, round: round + 1 }, { dedupeKey: `push-message:${job.messageId}:${round + 1}`, runAt: now + 2 ** round * 5000 });
      }
      return tally;
    },
  };
}

export type Push = ReturnType<typeof createPush>;
