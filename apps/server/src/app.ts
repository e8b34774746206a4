/**
 * buildApp(deps) assembles MMD's HTTP and WebSocket API on a Fastify instance without listening,
 * so tests drive it with inject() and main.ts decides where it listens.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { accountRoutes } from './accounts/routes.ts';
import { automationRoutes, createAutomationRunner, createAutomationService, createSecretBox, type OutboundFetch } from './automation/index.ts';
import { createPrivacy } from './accounts/privacy.ts';
import { privacyRoutes } from './accounts/privacy-routes.ts';
import { createAccounts } from './accounts/service.ts';
import { type Config, trustProxyOption } from './config.ts';
import { attributeDefs, contactsRoutes, createContacts, recordActivity } from './contacts/index.ts';
import { contactImportRoutes, createContactImports } from './contacts/imports.ts';
import { MAX_AUDIENCE_PAGE, createSegments, segmentRoutes } from './segments/index.ts';
import { conversationRoutes } from './conversations/routes.ts';
import { createInviteLinks } from './conversations/invite-links.ts';
import { inviteLinkRoutes } from './conversations/invite-routes.ts';
import { createConversations } from './conversations/service.ts';
import { createChatSettings } from './conversations/chat-settings.ts';
import { createDrafts } from './conversations/drafts.ts';
import { openDirectChats } from './conversations/bulk.ts';
import { createAuthenticate, installScopeGuard } from './http/auth.ts';
import { installBusinessLimits } from './http/business-limits.ts';
import { installJsonBodyParser } from './http/json-body.ts';
import { installSlowBodyGuard } from './http/slow-body.ts';
import { frameworkErrors, installErrorHandling } from './http/problem.ts';
import { createInteractive } from './interactive/service.ts';
import { interactiveRoutes } from './interactive/routes.ts';
import { messagingRoutes } from './messaging/routes.ts';
import { createPins } from './messaging/pins.ts';
import { createMessaging } from './messaging/service.ts';
import { createMessageSearch } from './messaging/search.ts';
import { type LinkPreviewStep, createLinkPreviews } from './messaging/link-previews.ts';
import type { Database, Tx } from './platform/db/index.ts';
import type { EventBus } from './platform/pubsub/index.ts';
import type { Redis } from './platform/redis/index.ts';
import { sharedRateLimitStore } from './platform/redis/rate-limit-store.ts';
import { createLimits } from './platform/limits/index.ts';
import { createRedisOnline } from './platform/redis/online.ts';
import { makePrivateDir } from './platform/private-files.ts';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type CampaignJobPayloads, type CoreJobPayloads, type FederationJobPayloads, type ImportJobPayloads, type LinkPreviewJobPayloads, type PushJobPayloads, type TemplateMediaJobPayloads, type WebhookJobPayloads, JOB_QUEUE, queueOfJob } from './jobs.ts';
import { createPush, pushRoutes, vapidKeys } from './push/index.ts';
import { filesRoute } from './media/files-route.ts';
import { type MediaProcessor, createMediaProcessor } from './media/process.ts';
import { mediaRoutes } from './media/routes.ts';
import { createMedia } from './media/service.ts';
import { createUrlSigner, redactUrl } from './media/signing.ts';
import { createResumableUploads } from './media/tus.ts';
import { safetyRoutes } from './safety/routes.ts';
import { recordSpreadAlert, spreadRoutes } from './safety/spread-review.ts';
import { spreadPolicyFrom } from './messaging/spread-velocity.ts';
import { createSafety } from './safety/service.ts';
import { createFederation, federationRoutes } from './federation/index.ts';
import { webRoutes } from './web/routes.ts';
import { createPresence, createProfiles, profileRoutes } from './profiles/index.ts';
import { type BlobStore, createBlobStore } from './platform/blobs/index.ts';
import { type QueueWorker, createJobQueues } from './platform/queue/index.ts';
import { createMetrics, metricsRoute } from './metrics/index.ts';
import { serverSecret } from './platform/secrets.ts';
import { outboundFetch } from './platform/outbound.ts';
import { createSyncHub } from './sync/hub.ts';
import { createTypingRelay } from './sync/typing.ts';
import { syncRoutes } from './sync/routes.ts';
import { type EventTap, createEventWriter } from './sync/write.ts';
import { createTelegram } from './telegram/index.ts';
import { API_SCOPES } from '@mmd/contracts';
import { botRoutes, createBots, createWebhooks } from './bots/index.ts';
import { businessRoutes, createBusiness } from './business/index.ts';
import { createInbox, inboxRoutes } from './inbox/index.ts';
import { createLinkSigner, createPersonaliser, createTemplates, templateRoutes } from './templates/index.ts';
import { type CampaignJobs, type CampaignPorts, activeCampaignProgress, campaignRoutes, createCampaigns, createPlanner, createSender, createTracking, capabilityPorts, createNotifications } from './campaigns/index.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  clock?: () => number;
  /** Pino logger options or false; tests pass false. */
  logger?: boolean | object;
  /** Defaults to the store the config names. */
  blobs?: BlobStore;
  /** Run background jobs in this process (default true; the embedded default runs everything). */
  worker?: boolean;
  /** Automation's outbound HTTP (assistant, rule webhooks); defaults to platform/outbound.ts. */
  automationFetch?: OutboundFetch;
  /**
   * Redis (MMD_REDIS_URL) and this MMD's key prefix in it: rate limits are then counted across
   * every API process. The event bus that goes with it is `bus`.
   */
  redis?: { client: Redis; prefix: string } | null;
  /** Replaces campaigns' ports to contacts, segments and templates (tests). */
  campaignPorts?: Partial<CampaignPorts>;
}

/** The blob store the config names: local files under the data dir, or an S3-compatible bucket. */
export function blobStoreFor(config: Config): BlobStore {
  if (config.blobStore === 's3') {
    return createBlobStore({
      kind: 's3',
      bucket: config.s3Bucket,
      region: config.s3Region,
      endpoint: config.s3Endpoint || undefined,
      forcePathStyle: config.s3ForcePathStyle,
      ...(config.s3AccessKeyId ? { credentials: { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey } } : {}),
      tmpDir: path.join(config.dataDir, 'tmp'),
    });
  }
  return createBlobStore({ kind: 'local', root: path.join(config.dataDir, 'blobs') });
}

/**
 * Request logs name the method and path, never a credential: browsers cannot set headers on a
 * WebSocket, so the stream's token may travel in the query string, and a signed media link is a
 * credential until it expires; both are masked here.
 */
function loggerOptions(config: Config) {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  return {
    level: config.logLevel,
    // Readable lines for a person at a terminal; JSON lines (one object each, request ids included)
    // for anything that collects logs. pino-pretty runs on a worker thread of pino's.
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
    redact: ['req.headers.authorization', 'password', 'token', 'key'],
    serializers: {
      req(request: { method: string; url: string; id: string; ip?: string }) {
        // The Telegram path carries the bot's token in the path itself, as Telegram's API does.
        const url = redactUrl(request.url).replace(/^\/telegram\/(file\/)?bot[^/?]+/, '/telegram/$1bot[redacted]');
        return { id: request.id, method: request.method, url, remoteAddress: request.ip };
      },
    },
  };
}

/**
 * A request id from the caller (a load balancer or another MMD node) is kept when it looks like
 * one — short, and nothing that could break a log line or a header — so one request can be
 * followed across nodes; otherwise one is made. Either way the answer carries it in x-request-id.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export function requestIdOf(headers: Record<string, string | string[] | undefined>): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : `req_${randomBytes(9).toString('base64url')}`;
}

export async function buildApp(deps: AppDeps) {
  const { config, db } = deps;
  const clock = deps.clock ?? Date.now;
  const metrics = createMetrics();
  // Events are counted (and their commit timed, for fan-out lag) as the writer publishes them.
  const bus = metrics.instrumentBus(deps.bus);
  // Limits services count themselves (logins per address, searches, uploads…): in Redis when there
  // is one, so every node counts against the same windows; else in this process.
  const limits = createLimits(deps.redis);
  const stopObservingCommits = db.observeCommits((seconds) => metrics.commit(seconds));
  const app = Fastify({
    logger: deps.logger === false ? false : { ...loggerOptions(config), ...(typeof deps.logger === 'object' ? deps.logger : {}) },
    bodyLimit: config.bodyLimit,
    // Behind a load balancer the client address comes from X-Forwarded-For, from the proxies
    // MMD_TRUST_PROXY names; embedded (the default), it is the peer. See docs/security.md.
    trustProxy: trustProxyOption(config.trustProxy),
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true, allowUnionTypes: true } },
    genReqId: (req) => requestIdOf(req.headers),
    routerOptions: { maxParamLength: 200 },
    // Connections cannot be held open for free: slow headers, a request that takes too long to
    // arrive, an idle keep-alive or a silent socket are cut (WebSockets set their own, none).
    connectionTimeout: config.httpIdleTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    http: {
      headersTimeout: Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs),
      // Node checks those two timeouts on this interval (default 30 s, far coarser than they are).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.httpHeadersTimeoutMs / 2))),
    },
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First of all hooks, so every answer carries it, refusals and 404s included.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest({ route: request.routeOptions.url, method: request.method, statusCode: reply.statusCode, seconds: reply.elapsedTime / 1000 });
  });
  installErrorHandling(app);
  installJsonBodyParser(app);
  installSlowBodyGuard(app as unknown as FastifyInstance, { windowMs: config.httpBodyTimeoutMs, minBytesPerSecond: config.httpBodyMinBytesPerSecond });

  const hub = createSyncHub({ db, bus, onDispatched: (e, reached) => metrics.dispatched(e, reached) });
  // A revoked device, key or bot token loses its live connections on every API process, not
  // only the one that took the request: the order goes out as a signal on the bus.
  type CloseOrder = { accountId: string; deviceId?: string; apiKeyId?: string; code: string; detail: string };
  const closeEverywhere = (order: CloseOrder) => bus.signal('close-connections', JSON.stringify(order));
  const stopClosing = bus.onSignal('close-connections', (message) => {
    const o = JSON.parse(message) as CloseOrder;
    hub.closeAccount(o.accountId, o.code, o.detail, (s) => (o.deviceId === undefined || s.deviceId === o.deviceId) && (o.apiKeyId === undefined || s.apiKeyId === o.apiKeyId));
  });
  app.addHook('onClose', async () => stopClosing());
  // Taps see each event inside its transaction (webhook deliveries commit with their event).
  const taps: EventTap[] = [];
  const write = createEventWriter(db, bus, taps);
  const accounts = createAccounts({
    db,
    clock,
    argon2: { memoryKib: config.argon2MemoryKib, iterations: config.argon2Iterations },
    deviceIdleMs: config.deviceIdleDays * 24 * 60 * 60 * 1000,
    onDeviceRevoked: (accountId, deviceId) => {
      closeEverywhere({ accountId, deviceId, code: 'device_revoked', detail: 'this device was signed out' });
      // Its push subscriptions end with it (a push also checks the device first, so a failure here only delays the cleanup).
      push.forgetDevice(deviceId).catch((err: unknown) => app.log.warn({ err, deviceId }, 'could not delete a signed-out device\'s push subscriptions'));
    },
    onApiKeyRevoked: (accountId, apiKeyId) => closeEverywhere({ accountId, apiKeyId, code: 'api_key_revoked', detail: 'this API key was revoked' }),
  });
  const conversations = createConversations({ db, clock, write });
  // Every queue's job runs are counted in the metrics, by type and outcome.
  // MMD_QUEUE picks where they live (the database, or BullMQ on Redis); each kind of work below
  // opens a queue of its own, with workers of its own.
  if (config.queue === 'bullmq' && !deps.redis) throw new Error('MMD_QUEUE=bullmq needs a Redis connection (MMD_REDIS_URL)');
  const queues = createJobQueues(config.queue === 'bullmq' && deps.redis ? { kind: 'bullmq', redis: deps.redis.client, prefix: deps.redis.prefix } : { kind: 'database' }, { db, clock, log: app.log, onFinished: metrics.jobRun, queueOf: queueOfJob });
  // Web Push waits on browsers' push services: a queue (and worker) of its own. Its tap enqueues a
  // message's push in the message's transaction, so a crash after commit loses none.
  const pushQueue = queues.open<PushJobPayloads>(JOB_QUEUE['push-message']);
  let pushWorker: QueueWorker | null = null;
  const push = createPush({
    db,
    clock,
    vapid: await vapidKeys(db, { subject: config.pushSubject, publicUrl: config.publicUrl }),
    config: { allowLoopback: config.pushAllowLoopback, allowPrivate: config.outboundAllowPrivate, timeoutMs: config.outboundTimeoutMs },
    liveDevices: (ids) => accounts.liveDevices(ids),
    enqueue: async (tx, payload, options) => {
      const jobOptions = { ...options, maxAttempts: 3 };
      if (tx) await pushQueue.enqueueIn(tx, 'push-message', payload, jobOptions);
      else await pushQueue.enqueue('push-message', payload, jobOptions);
    },
    log: app.log,
  });
  taps.push(push.tap);
  const business = createBusiness({ db, clock });
  // The queue is made before messaging: a poll or form with closes_at schedules its closing job.
  const queue = queues.open<CoreJobPayloads>(JOB_QUEUE['media-process']);
  // Friction on what spreads too fast: the same tiers for sends, releases and moderators' decisions;
  // a cluster reaching the hold tier is written to the safety audit log in the same transaction.
  const spreadPolicy = spreadPolicyFrom(config, recordSpreadAlert);
  // Link previews wait on other people's web servers: a queue (and worker) of their own.
  const previewQueue = queues.open<LinkPreviewJobPayloads>(JOB_QUEUE['link-preview']);
  let previewWorker: QueueWorker | null = null;
  const enqueuePreview = async (tx: Tx | null, step: LinkPreviewStep, runAt?: number) => {
    const options = { runAt, maxAttempts: 2, dedupeKey: `link-preview:${step.messageId}:${step.step === 'fetch' ? 'fetch' : step.attempt}` };
    return tx ? previewQueue.enqueueIn(tx, 'link-preview', step, options) : previewQueue.enqueue('link-preview', step, options);
  };
  const messaging = createMessaging({
    db,
    clock,
    write,
    spread: spreadPolicy,
    enqueuePreview: config.linkPreviews ? enqueuePreview : undefined,
    scheduleClose: (tx, { messageId, at }) => queue.enqueueIn(tx, 'interactive-close', { messageId }, { runAt: at, dedupeKey: `interactive-close:${messageId}` }),
  });
  const interactive = createInteractive({ db, clock, write, bus, messaging, log: app.log, callbackWaitMs: config.interactiveCallbackWaitMs, coalesceMs: config.pollCoalesceMs });
  const bots = createBots({
    db,
    clock,
    maxPerOwner: config.botMaxPerOwner,
    onTokenRevoked: (botId) => closeEverywhere({ accountId: botId, code: 'bot_token_revoked', detail: "this bot's token was rotated or the bot deleted" }),
    onDeleted: (botId) => webhooks.removeAllOf(botId),
  });
  const authenticate = createAuthenticate(accounts, { resolveBotToken: (token) => bots.resolveToken(token) });
  // Webhook deliveries have a queue (and worker) of their own: a hanging receiver must never hold
  // the slots media processing needs, nor the reverse.
  const webhookQueue = queues.open<WebhookJobPayloads>(JOB_QUEUE['webhook-deliver']);
  const webhooks = createWebhooks({
    db,
    write,
    clock,
    log: app.log,
    config: {
      allowPrivate: config.outboundAllowPrivate,
      timeoutMs: config.outboundTimeoutMs,
      perReceiverConcurrency: config.webhookPerReceiverConcurrency,
      retryBaseMs: config.webhookRetryBaseMs,
      retryMaxDelayMs: config.webhookRetryMaxDelayMs,
      retryWindowMs: config.webhookRetryWindowMs,
      disableAfterMs: config.webhookDisableAfterMs,
      maxPerAccount: config.webhookMaxPerAccount,
      // At most a job's lease: a crashed sender's reclaimed job must find the lock expired.
      lockMs: Math.min(config.jobLeaseMs, 15_000),
    },
    enqueue: async (tx, webhookId, options) => {
      if (tx) await webhookQueue.enqueueIn(tx, 'webhook-deliver', { webhookId }, options);
      else await webhookQueue.enqueue('webhook-deliver', { webhookId }, options);
    },
    ownerOf: (accountId) => bots.ownerOf(accountId),
    onAttempt: (outcome, seconds) => metrics.webhookAttempt(outcome, seconds),
  });
  taps.push(webhooks.tap);
  let webhookWorker: QueueWorker | null = null;

  // Upload spooling lives beside the data (resumable uploads' bytes go to the blob store); made up
  // front so a first upload can't race it.
  makePrivateDir(config.dataDir);
  makePrivateDir(path.join(config.dataDir, 'tmp'));
  const blobs = deps.blobs ?? blobStoreFor(config);
  const signer = createUrlSigner(await serverSecret(db, 'media-url-signing', config.signingSecret));
  // Personalised template renders are processed on a queue (and worker) of their own: a campaign's
  // thousands of renders never hold the slots people's uploads need.
  const renderQueue = queues.open<TemplateMediaJobPayloads>(JOB_QUEUE['template-media-process']);
  let renderWorker: QueueWorker | null = null;
  const media = createMedia({
    db,
    blobs,
    signer,
    clock,
    config,
    enqueueProcessing: (tx, mediaId) => queue.enqueueIn(tx, 'media-process', { mediaId }, { dedupeKey: `media-process:${mediaId}` }),
    enqueueIngested: (tx, mediaId) => renderQueue.enqueueIn(tx, 'template-media-process', { mediaId }, { dedupeKey: `template-media-process:${mediaId}` }),
    limits,
  });
  const linkPreviews = createLinkPreviews({
    db,
    write,
    clock,
    allowPrivate: config.outboundAllowPrivate,
    perMinute: config.linkPreviewsPerMinute,
    tmpDir: path.join(config.dataDir, 'tmp'),
    ingest: (ownerId, file, filename) => media.ingest(ownerId, file, filename),
    enqueue: enqueuePreview,
    log: app.log,
  });
  const safety = createSafety({
    db,
    write,
    blobs,
    clock,
    config,
    log: app.log,
    enqueueSweep: (tx, payload, options) => queue.enqueueIn(tx, 'safety-sweep', payload, options),
    enqueueRehash: (payload, dedupeKey) => queue.enqueue('safety-rehash', payload, { dedupeKey }),
    spread: spreadPolicy,
    bus,
    onSuspended: (accountId) => {
      // Its device sessions stop working at once: none is answered from the session cache.
      accounts.forgetSessions();
      closeEverywhere({ accountId, code: 'account_suspended', detail: 'this account was suspended' });
      push.forgetAccount(accountId).catch((err: unknown) => app.log.warn({ err, accountId }, "could not delete a suspended account's push subscriptions"));
    },
  });
  const resumable = createResumableUploads({
    accounts,
    media,
    db,
    blobs,
    tmpDir: path.join(config.dataDir, 'tmp'),
    maxSize: Math.max(config.mediaMaxVideoBytes, config.mediaMaxDocumentBytes, config.mediaMaxAudioBytes, config.mediaMaxImageBytes),
    expiryMs: config.mediaResumableExpiryMs,
    maxParts: config.mediaResumableMaxParts,
    sweepMs: config.mediaResumableSweepMs,
    createLimit: { max: config.mediaUploadRateLimit, windowMs: config.mediaUploadRateWindowMs },
    limits,
    clock,
    log: app.log,
  });
  const processor = createMediaProcessor({ db, blobs, write, clock, config, log: app.log, screen: safety.screen, spread: spreadPolicy });
  let worker: QueueWorker | null = null;

  const box = createSecretBox(await serverSecret(db, 'automation-secrets', ''));
  const automation = createAutomationService({ db, clock, box });
  const automationFetch: OutboundFetch =
    deps.automationFetch ??
    (async (url, init) => {
      const answer = await outboundFetch({ url, method: 'POST', headers: init.headers, body: init.body, signal: init.signal, allowPrivate: config.outboundAllowPrivate, timeoutMs: config.outboundTimeoutMs });
      return { status: answer.status, text: async () => answer.body.toString('utf8') };
    });
  const automationRunner = createAutomationRunner({
    db,
    clock,
    box,
    send: (principal, conversationId, input) => messaging.send(principal, conversationId, input),
    history: (principal, conversationId, options) => messaging.history(principal, conversationId, options),
    enqueueRun: (tx, payload, options) => queue.enqueueIn(tx, 'automation-run', payload, options),
    enqueueWebhook: (payload, options) => queue.enqueue('automation-webhook', payload, options),
    fetch: automationFetch,
    rateLimit: { max: config.automationRepliesPerWindow, windowMs: config.automationReplyWindowMs },
    log: app.log,
  });
  taps.push(automationRunner.tap);
  // After automation's tap: the inbox reads the hand-off state the same transaction leaves. Its
  // team events go through a writer without taps (no webhook, no automation ever sees them).
  const inbox = createInbox({ db, clock, write: createEventWriter(db, bus), business, messaging, automation, media });
  taps.push(inbox.tap);
  const contacts = createContacts({
    db,
    clock,
    business,
    secret: await serverSecret(db, 'contacts-unsubscribe', ''),
    publicUrl: config.publicUrl,
    openChat: async (person, businessHandle) => (await conversations.create(person, { kind: 'direct', members: [businessHandle] })).conversation,
    send: (principal, conversationId, input) => messaging.send(principal, conversationId, input),
    enqueueReply: (tx, payload, options) => queue.enqueueIn(tx, 'contacts-reply', payload, options),
    log: app.log,
    eraseElsewhere: [async (tx, key) => `internal notes in the team inbox (${await inbox.eraseNotesAbout(tx, key.businessId, key.accountId)})`],
  });
  taps.push(contacts.chat.tap);
  // Contact imports have a queue (and worker) of their own: a million-row file must never hold
  // the slots media processing and automation need.
  const importQueue = queues.open<ImportJobPayloads>(JOB_QUEUE['contacts-import']);
  let importWorker: QueueWorker | null = null;
  const contactImports = createContactImports({
    db,
    clock,
    dataDir: config.dataDir,
    maxBytes: config.importMaxBytes,
    batchRows: config.importBatchRows,
    reportDays: config.importReportDays,
    spoolBudgetBytes: config.importSpoolBudgetBytes,
    batchPauseMs: config.importBatchPauseMs,
    maxPending: config.importMaxPending,
    enqueue: (tx, importId) => importQueue.enqueueIn(tx, 'contacts-import', { importId }, { dedupeKey: `contacts-import:${importId}`, maxAttempts: 10 }),
    log: app.log,
  });
  const segments = createSegments({ db, clock, attributeTypes: (businessId) => attributeDefs(db.db, businessId) });

  // Campaigns plan and send on a queue (and worker) of their own: a million-recipient backlog
  // never holds the slots media processing, automation or webhooks need.
  const campaignQueue = queues.open<CampaignJobPayloads>(JOB_QUEUE['campaign-send']);
  // Templates are made further down (with the routes); the ports reach them only when called.
  const campaignPorts: CampaignPorts = { ...capabilityPorts({ db, contacts, segments, templates: () => templates }), ...deps.campaignPorts };
  const openDirect = (principal: Parameters<typeof conversations.create>[0], handle: string) => conversations.create(principal, { kind: 'direct', members: [handle] });
  const campaignSender = createSender({
    db,
    clock,
    ports: campaignPorts,
    enqueue: async (tx, payload, options) => {
      if (tx) await campaignQueue.enqueueIn(tx, 'campaign-send', payload, { ...options, maxAttempts: 20 });
      else await campaignQueue.enqueue('campaign-send', payload, { ...options, maxAttempts: 20 });
    },
    write,
    send: (principal, conversationId, input, within) => messaging.send(principal, conversationId, input as Parameters<typeof messaging.send>[2], within),
    sendMany: (principal, items, within) => messaging.sendMany(principal, items, within),
    openDirectMany: (tx, emit, principal, accountIds, now) => openDirectChats(tx, emit, principal, accountIds, now),
    config: { lanes: config.campaignLanes, batchSize: config.campaignBatchSize, claimMs: config.campaignClaimMs, sliceMs: 5000, idleMs: 250 },
    log: app.log,
  });
  const campaignJobs: CampaignJobs = {
    plan: (tx, runId, runAt) => campaignQueue.enqueueIn(tx, 'campaign-plan', { runId }, { runAt, dedupeKey: `campaign-plan:${runId}:${runAt}`, maxAttempts: 20 }),
    send: (tx, runId) => campaignSender.start(tx, runId),
  };
  const campaigns = createCampaigns({
    db,
    clock,
    ports: campaignPorts,
    business,
    jobs: campaignJobs,
    sendAs: (principal, conversationId, input) => messaging.send(principal, conversationId, input as Parameters<typeof messaging.send>[2]),
    openDirect,
  });
  // Pages as large as segments give (20,000): the planner shares SQLite's writer with the sender
  // lanes turn by turn, so its rate is about a page per turn. Planning 100,000 recipients while
  // sending took 86 s with 1,000-row pages, 13 s with 5,000 and 4.1 s with 20,000 (bench:campaigns).
  const campaignPlanner = createPlanner({ db, clock, ports: campaignPorts, business, jobs: campaignJobs, newRun: (tx, options) => campaigns.newRun(tx, options), pageSize: MAX_AUDIENCE_PAGE });
  const notifications = createNotifications({
    db,
    clock,
    ports: campaignPorts,
    write,
    enqueueSend: (tx, notificationId) => campaignQueue.enqueueIn(tx, 'notification-send', { notificationId }, { dedupeKey: `notification-send:${notificationId}`, maxAttempts: 10 }),
    enqueueEvent: (tx, payload) => campaignQueue.enqueueIn(tx, 'notification-event', payload, { dedupeKey: `notification-event:${payload.notificationId}:${payload.status}` }),
    send: (principal, conversationId, input) => messaging.send(principal, conversationId, input as Parameters<typeof messaging.send>[2]),
    openDirect,
    log: app.log,
  });
  const campaignTracking = createTracking({ db, clock, onNotificationReceipt: (tx, options) => notifications.onReceipt(tx, options) });
  taps.push(campaignTracking.tap);
  let campaignWorker: QueueWorker | null = null;
  let relay: QueueWorker | null = null;
  let outboxPruner: NodeJS.Timeout | null = null;

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'MMD API', version: '1.0.0', description: 'Smart messaging for rich media, with trust and safety built in. Errors are application/problem+json with a stable `code`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Before @fastify/rate-limit's own onRoute hook: it reads the per-account limits this adds.
  installBusinessLimits(app, config, authenticate);
  // With Redis every API process counts against the same limits; otherwise each counts its own.
  const sharedLimits = deps.redis ? sharedRateLimitStore(deps.redis.client, deps.redis.prefix) : null;
  if (sharedLimits) app.addHook('onClose', async () => sharedLimits.close());
  app.addHook('onClose', async () => limits.close());
  await app.register(rateLimit, { global: false, hook: 'preHandler', ...(sharedLimits ? { store: sharedLimits.Store } : {}), errorResponseBuilder: (_req, context) => Object.assign(new Error(`rate limited; retry in ${Math.ceil(context.ttl / 1000)} s`), { statusCode: 429 }) });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } });
  // Before any route is added: every route's declared scope is checked before its body is validated.
  installScopeGuard(app, authenticate);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await db.db.selectFrom('accounts').select('id').limit(1).execute();
      return { status: 'ready', live_connections: hub.stats().live };
    } catch (err) {
      request.log.warn({ err }, 'database not reachable');
      return reply.status(503).type('application/problem+json').send({ type: 'https://mmd.dev/problems/unavailable', title: 'unavailable', status: 503, code: 'unavailable', detail: 'database not reachable' });
    }
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  metrics.provide({
    openWebSockets: () => app.websocketServer?.clients.size ?? 0,
    subscribers: () => hub.stats(),
    jobs: (now) => queues.backlog(now),
    campaigns: () => activeCampaignProgress(db),
  });
  await app.register(metricsRoute({ metrics, token: config.metricsToken }));

  await app.register(accountRoutes({ accounts, authenticate, limits: { login: config.loginRateLimit, loginPerAddress: config.loginAddressRateLimit, signup: config.signupRateLimit, windowMs: config.rateLimitWindowMs }, counters: limits }));
  await app.register(privacyRoutes({ privacy: createPrivacy({ db, clock }), authenticate }));
  const photoSigner = createUrlSigner(await serverSecret(db, 'profile-photo-signing', ''), '/v1/profile-photos');
  const profiles = createProfiles({ db, blobs, write, clock, signer: photoSigner, photoUrlTtlMs: config.mediaUrlTtlSeconds * 1000, maxPhotoPixels: config.profilePhotoMaxPixels });
  const online = deps.redis ? createRedisOnline({ redis: deps.redis.client, prefix: deps.redis.prefix, ttlMs: 3 * config.presenceHeartbeatMs }) : null;
  if (online) app.addHook('onClose', async () => online.close());
  const presence = createPresence({
    db,
    clock,
    log: app.log,
    heartbeatMs: config.presenceHeartbeatMs,
    online,
  });
  await app.register(
    profileRoutes({
      profiles,
      presence,
      authenticate,
      db,
      blobs,
      signer: photoSigner,
      clock,
      limits: { photoMaxBytes: config.profilePhotoMaxBytes, photosPerHour: config.profilePhotoChangesPerHour, editsPerHour: config.profileEditsPerHour, searches: config.peopleSearchRateLimit, windowMs: config.rateLimitWindowMs },
      counters: limits,
    }),
  );
  await app.register(pushRoutes({ push, authenticate, clock, subscribeLimit: { max: config.pushSubscribeRateLimit, windowMs: config.rateLimitWindowMs }, limits }));
  await app.register(conversationRoutes({ conversations, chatSettings: createChatSettings({ db, clock, write }), drafts: createDrafts({ db, clock, write }), authenticate }));
  await app.register(inviteLinkRoutes({ inviteLinks: createInviteLinks({ db, clock, write, conversations }), authenticate, limits: { max: config.inviteRateLimit, windowMs: config.rateLimitWindowMs } }));
  const search = createMessageSearch({ db, clock, rateLimit: { max: config.searchRateLimit, windowMs: config.rateLimitWindowMs }, limits });
  await app.register(messagingRoutes({ messaging, search, pins: createPins({ db, clock, write, readable: (principal, id) => messaging.readable(principal, id) }), authenticate }));
  await app.register(interactiveRoutes({ interactive, authenticate }));
  const typing = createTypingRelay({ db, bus });
  app.addHook('onClose', async () => typing.stop());
  // Presence counts people's own devices only: a bot's or an API key's stream is not someone being online.
  const onStream = (principal: { accountId: string; deviceId: string | null; kind: string }) => (principal.deviceId && principal.kind !== 'bot' ? presence.connect(principal.accountId) : () => {});
  await app.register(syncRoutes({ db, hub, messaging, authenticate, typing, onStream, wsFramesPerSecond: config.wsFramesPerSecond }));
  await app.register(mediaRoutes({ media, blobs, authenticate, maxSingleUpload: config.mediaMaxSingleUploadBytes }));
  await app.register(resumable.routes);
  await app.register(filesRoute({ db, blobs, signer, clock }));
  await app.register(
    safetyRoutes({
      safety,
      authenticate,
      db: db.db,
      clock,
      tmpDir: path.join(config.dataDir, 'tmp'),
      maxFileBytes: config.mediaMaxSingleUploadBytes,
      protectLimit: { max: config.protectRequestsPerWindow, windowMs: config.rateLimitWindowMs },
      casePageLimit: { max: config.casePageRequestsPerWindow, windowMs: config.rateLimitWindowMs },
    }),
  );
  await app.register(spreadRoutes({ review: safety.spread, authenticate, previews: safety.previews }));
  // Federation pushes wait on other platforms: a queue (and worker) of their own.
  const federationQueue = queues.open<FederationJobPayloads>(JOB_QUEUE['federation-deliver']);
  let federationWorker: QueueWorker | null = null;
  const federation = createFederation({
    db,
    clock,
    box: createSecretBox(await serverSecret(db, 'federation-key-box', '')),
    safety,
    outbound: { allowPrivate: config.outboundAllowPrivate, timeoutMs: config.outboundTimeoutMs },
    pullIntervalMs: config.federationPullIntervalMs,
    sourceName: config.publicUrl ? new URL(config.publicUrl).host : 'mmd',
    enqueueDeliver: async (tx, peerId, key) => {
      await federationQueue.enqueueIn(tx, 'federation-deliver', { peerId }, { maxAttempts: 30, dedupeKey: `federation-deliver:${peerId}:${key}` });
    },
    log: app.log,
  });
  safety.listen(federation.listener);
  // A victim may share their protection case with the connected platforms (and withdraw it).
  safety.protection.connectPlatforms(federation.protectCases);
  await app.register(federationRoutes({ federation, authenticate, clock, signedLimit: { max: 600, windowMs: 60_000 }, hmaLimit: { max: config.federationHmaFetchesPerMinute, windowMs: 60_000 }, limits }));
  const botPrincipal = (account: { id: string; handle: string; kind: string }) =>
    account.kind === 'bot' ? { accountId: account.id, handle: account.handle, kind: 'bot' as const, role: 'user' as const, deviceId: null, apiKeyId: null, scopes: new Set(API_SCOPES) } : null;
  const telegram = createTelegram({
    db,
    hub,
    clock,
    accounts,
    conversations,
    messaging,
    media,
    blobs,
    typing,
    log: app.log,
    // A bot's token (bots capability); a bot account's device token or API key works too.
    async authenticateBot(token) {
      const principal = token.startsWith('mmd_b_') ? await bots.resolveToken(token) : await accounts.authenticate(token);
      return principal?.kind === 'bot' ? principal : null;
    },
    principalOf: async (botId) => botPrincipal(await accounts.getAccount(botId).catch(() => ({ id: '', handle: '', kind: 'none' }))),
    outbound: { allowPrivate: config.outboundAllowPrivate, timeoutMs: config.outboundTimeoutMs },
    maxUploadBytes: config.mediaMaxSingleUploadBytes,
    mediaWaitMs: config.telegramMediaWaitMs,
    commands: { get: (bot) => bots.commands(bot, bot.accountId), set: (bot, commands) => bots.setCommands(bot, bot.accountId, commands) },
    interactive,
    editButtons: (principal, messageId, buttons, options) => interactive.editButtons(principal, messageId, buttons, options),
  });
  await app.register(telegram.routes);
  await app.register(botRoutes({ bots, webhooks, authenticate, createLimit: { max: config.signupRateLimit, windowMs: config.rateLimitWindowMs } }));
  await app.register(automationRoutes({ automation, authenticate }));
  await app.register(businessRoutes({ business, authenticate }));
  await app.register(inboxRoutes({ inbox, business, authenticate }));
  const templates = createTemplates({
    db,
    clock,
    log: app.log,
    personaliser: createPersonaliser({ db, blobs, clock, log: app.log, config, ingest: (ownerId, file, filename) => media.ingest(ownerId, file, filename), limits }),
    links: createLinkSigner(await serverSecret(db, 'template-links', '')),
    publicUrl: config.publicUrl,
    outboundAllowPrivate: config.outboundAllowPrivate,
    settings: (businessId) => business.settings(businessId),
    contactOf: (businessId, contactId) => contacts.core.templateContact(businessId, contactId),
    mediaUrl: (mediaId, viewerId, rendition) => `${signer.prefix(mediaId, viewerId, clock() + config.mediaUrlTtlSeconds * 1000)}/${rendition}`,
  });
  // A followed tracked link in a campaign message: the recipient clicked.
  templates.onClick((click) => campaignTracking.clicked(click));
  // …and, for segments' "clicked" activity, the contact did (a preview's link is not a contact's click).
  templates.onClick((click) => (click.contactId !== null && click.context !== 'preview' ? recordActivity(db.db, { businessId: click.businessId, contactId: click.contactId, kind: 'click', at: click.at }) : undefined));
  await app.register(templateRoutes({ templates, business, authenticate, previewLimit: { max: config.templatePreviewsPerWindow, windowMs: config.rateLimitWindowMs } }));
  await app.register(contactsRoutes({ contacts, authenticate, publicLimit: { max: config.signupRateLimit, windowMs: config.rateLimitWindowMs } }));
  await app.register(contactImportRoutes({ imports: contactImports, business, authenticate, maxBytes: config.importMaxBytes }));
  await app.register(segmentRoutes({ segments, business, authenticate }));
  await app.register(campaignRoutes({ campaigns, notifications, business, authenticate }));
  await app.register(webRoutes());

  app.addHook('onReady', async () => {
    await hub.start();
    presence.start();
    await safety.start();
    telegram.start();
    await federation.start();
    // BullMQ: every process moves its own (and any dead process's) committed enqueues to Redis,
    // API nodes included; relayed outbox rows are kept a day, then deleted.
    relay = queues.startRelay();
    if (relay) {
      const prune = () => void queues.pruneOutbox(clock() - 24 * 60 * 60 * 1000).catch((err: unknown) => app.log.warn({ err }, 'job outbox prune failed'));
      outboxPruner = setInterval(prune, 60 * 60 * 1000);
      outboxPruner.unref();
    }
    if (deps.worker !== false) {
      const processMedia = async (job: Parameters<MediaProcessor['process']>[0] & { attempt: number; maxAttempts: number }) => {
        try {
          return await processor.process(job);
        } catch (err) {
          // Out of retries: the uploader must hear that it failed, not wait forever.
          if (job.attempt >= job.maxAttempts) await processor.fail(job.payload.mediaId, 'processing kept failing; try uploading again');
          throw err;
        }
      };
      worker = queue.work(
        {
          'media-process': processMedia,
          'safety-sweep': (job) => safety.sweeps.run(job.payload),
          'safety-rehash': (job) => safety.rehash.run(job.payload, job.signal),
          'automation-run': (job) => automationRunner.run(job.payload, { final: job.attempt >= job.maxAttempts }),
          'automation-webhook': (job) => automationRunner.webhook(job.payload, job.signal),
          'interactive-close': (job) => interactive.closeDue(job.payload.messageId),
          'contacts-reply': (job) => contacts.chat.runReply(job.payload),
        },
        { concurrency: config.workerConcurrency || availableParallelism(), leaseMs: config.jobLeaseMs },
      );
      previewWorker = previewQueue.work({ 'link-preview': (job) => linkPreviews.run(job.payload) }, { concurrency: config.linkPreviewConcurrency, leaseMs: config.jobLeaseMs });
      webhookWorker = webhookQueue.work({ 'webhook-deliver': (job) => webhooks.drain(job.payload.webhookId, job.signal) }, { concurrency: config.webhookConcurrency, leaseMs: config.jobLeaseMs });
      renderWorker = renderQueue.work({ 'template-media-process': processMedia }, { concurrency: 1, leaseMs: config.jobLeaseMs });
      federationWorker = federationQueue.work({ 'federation-deliver': (job) => federation.outbox.deliver(job.payload.peerId, job.signal) }, { concurrency: 4, leaseMs: config.jobLeaseMs, pollMs: 250 });
      pushWorker = pushQueue.work({ 'push-message': (job) => push.deliver(job.payload) }, { concurrency: config.pushConcurrency, leaseMs: config.jobLeaseMs, pollMs: 250 });
      importWorker = importQueue.work({ 'contacts-import': (job) => contactImports.run(job.payload.importId, job) }, { concurrency: config.importConcurrency, leaseMs: config.jobLeaseMs });
      campaignWorker = campaignQueue.work(
        {
          'campaign-plan': async (job) => {
            // Sends past the attribution window no longer move a funnel: forget them as runs begin.
            await campaignTracking.prune();
            return campaignPlanner.plan(job.payload.runId, job.signal);
          },
          'campaign-send': (job) => campaignSender.lane(job.payload, job.signal),
          'notification-send': (job) => notifications.deliver(job.payload.notificationId),
          'notification-event': (job) => notifications.announce(job.payload),
        },
        { concurrency: config.campaignConcurrency, leaseMs: config.jobLeaseMs, pollMs: 250 },
      );
    }
  });
  app.addHook('preClose', async () => {
    await telegram.stop();
    federation.stop();
    await Promise.all([federationWorker?.stop({ timeoutMs: 5000 }), worker?.stop({ timeoutMs: 5000 }), previewWorker?.stop({ timeoutMs: 5000 }), webhookWorker?.stop({ timeoutMs: 5000 }), renderWorker?.stop({ timeoutMs: 5000 }), importWorker?.stop({ timeoutMs: 5000 }), campaignWorker?.stop({ timeoutMs: 5000 }), pushWorker?.stop({ timeoutMs: 5000 })]);
    if (outboxPruner) clearInterval(outboxPruner);
    await relay?.stop({ timeoutMs: 5000 });
    await queues.close();
    interactive.stop();
    await hub.stop();
    await presence.stop();
    await safety.close();
    stopObservingCommits();
  });

  return {
    app: app as unknown as FastifyInstance,
    services: { federation, federationQueue, accounts, profiles, business, conversations, messaging, interactive, hub, media, queue, blobs, safety, resumable, telegram, bots, webhooks, webhookQueue, automation, automationRunner, inbox, templates, contacts, contactImports, importQueue, segments, campaigns, campaignQueue, campaignTracking, notifications, push, pushQueue },
  };
}
