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
import { createAccounts } from './accounts/service.ts';
import type { Config } from './config.ts';
import { conversationRoutes } from './conversations/routes.ts';
import { createConversations } from './conversations/service.ts';
import { createAuthenticate } from './http/auth.ts';
import { installJsonBodyParser } from './http/json-body.ts';
import { frameworkErrors, installErrorHandling } from './http/problem.ts';
import { messagingRoutes } from './messaging/routes.ts';
import { createMessaging } from './messaging/service.ts';
import type { Database } from './platform/db/index.ts';
import type { EventBus } from './platform/pubsub/index.ts';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { JobPayloads } from './jobs.ts';
import { filesRoute } from './media/files-route.ts';
import { createMediaProcessor } from './media/process.ts';
import { mediaRoutes } from './media/routes.ts';
import { createMedia } from './media/service.ts';
import { createUrlSigner } from './media/signing.ts';
import { tusRoutes } from './media/tus.ts';
import { safetyRoutes } from './safety/routes.ts';
import { createSafety } from './safety/service.ts';
import { webRoutes } from './web/routes.ts';
import { type BlobStore, createBlobStore } from './platform/blobs/index.ts';
import { type QueueWorker, createQueue } from './platform/queue/index.ts';
import { serverSecret } from './platform/secrets.ts';
import { createSyncHub } from './sync/hub.ts';
import { createTypingRelay } from './sync/typing.ts';
import { syncRoutes } from './sync/routes.ts';
import { createEventWriter } from './sync/write.ts';

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
 * WebSocket, so the stream's token may travel in the query string and is masked here.
 */
function loggerOptions(config: Config) {
  return {
    level: config.logLevel,
    redact: ['req.headers.authorization', 'password', 'token', 'key'],
    serializers: {
      req(request: { method: string; url: string; id: string; ip?: string }) {
        return { id: request.id, method: request.method, url: request.url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]'), remoteAddress: request.ip };
      },
    },
  };
}

export async function buildApp(deps: AppDeps) {
  const { config, db, bus } = deps;
  const clock = deps.clock ?? Date.now;
  const app = Fastify({
    logger: deps.logger === false ? false : { ...loggerOptions(config), ...(typeof deps.logger === 'object' ? deps.logger : {}) },
    bodyLimit: config.bodyLimit,
    // Behind a load balancer the client address comes from X-Forwarded-For; embedded, it is the peer.
    trustProxy: false,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    genReqId: () => `req_${Math.random().toString(36).slice(2, 12)}`,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandling(app);
  installJsonBodyParser(app);

  const hub = createSyncHub({ db, bus });
  const write = createEventWriter(db, bus);
  const accounts = createAccounts({
    db,
    clock,
    argon2: { memoryKib: config.argon2MemoryKib, iterations: config.argon2Iterations },
    onDeviceRevoked: (accountId, deviceId) => hub.closeAccount(accountId, 'device_revoked', 'this device was signed out', (s) => s.deviceId === deviceId),
  });
  const conversations = createConversations({ db, clock, write });
  const messaging = createMessaging({ db, clock, write });
  const authenticate = createAuthenticate(accounts);

  // Upload spooling and resumable uploads live beside the data; made up front so a first upload can't race it.
  for (const dir of ['tmp', 'uploads']) mkdirSync(path.join(config.dataDir, dir), { recursive: true });
  const blobs = deps.blobs ?? blobStoreFor(config);
  const queue = createQueue<JobPayloads>({ kind: 'database' }, { db, clock, log: app.log });
  const signer = createUrlSigner(await serverSecret(db, 'media-url-signing', config.signingSecret));
  const media = createMedia({ db, blobs, signer, clock, config, enqueueProcessing: (tx, mediaId) => queue.enqueueIn(tx, 'media-process', { mediaId }, { dedupeKey: `media-process:${mediaId}` }) });
  const safety = createSafety({
    db,
    write,
    blobs,
    clock,
    config,
    log: app.log,
    enqueueSweep: (tx, payload) => queue.enqueueIn(tx, 'safety-sweep', payload),
    buildMessage: (tx, id) => messaging.view(tx, id),
  });
  const processor = createMediaProcessor({ db, blobs, write, clock, config, log: app.log, buildMessage: (tx, id) => messaging.view(tx, id), screen: safety.screen });
  let worker: QueueWorker | null = null;

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'MMD API', version: '1.0.0', description: 'Smart messaging for rich media, with trust and safety built in. Errors are application/problem+json with a stable `code`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(rateLimit, { global: false, hook: 'preHandler', errorResponseBuilder: (_req, context) => Object.assign(new Error(`rate limited; retry in ${Math.ceil(context.ttl / 1000)} s`), { statusCode: 429 }) });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } });

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

  const limits = { login: config.loginRateLimit, signup: config.signupRateLimit, windowMs: config.rateLimitWindowMs };
  await app.register(accountRoutes({ accounts, authenticate, limits }));
  await app.register(conversationRoutes({ conversations, authenticate }));
  await app.register(messagingRoutes({ messaging, authenticate }));
  await app.register(syncRoutes({ db, hub, messaging, authenticate, typing: createTypingRelay({ db }), wsFramesPerSecond: config.wsFramesPerSecond }));
  await app.register(mediaRoutes({ media, blobs, authenticate, maxSingleUpload: config.mediaMaxSingleUploadBytes }));
  await app.register(tusRoutes({ accounts, media, directory: path.join(config.dataDir, 'uploads'), maxSize: Math.max(config.mediaMaxVideoBytes, config.mediaMaxDocumentBytes, config.mediaMaxAudioBytes, config.mediaMaxImageBytes), log: app.log }));
  await app.register(filesRoute({ db, blobs, signer, clock }));
  await app.register(safetyRoutes({ safety, authenticate, db: db.db, clock, tmpDir: path.join(config.dataDir, 'tmp'), maxFileBytes: config.mediaMaxSingleUploadBytes, protectLimit: { max: 10, windowMs: config.rateLimitWindowMs } }));
  await app.register(webRoutes());

  app.addHook('onReady', async () => {
    await hub.start();
    await safety.start();
    if (deps.worker !== false) {
      worker = queue.work(
        {
          'media-process': async (job) => {
            try {
              return await processor.process(job);
            } catch (err) {
              // Out of retries: the uploader must hear that it failed, not wait forever.
              if (job.attempt >= job.maxAttempts) await processor.fail(job.payload.mediaId, 'processing kept failing; try uploading again');
              throw err;
            }
          },
          'safety-sweep': (job) => safety.sweeps.run(job.payload),
        },
        { concurrency: config.workerConcurrency || availableParallelism(), leaseMs: config.jobLeaseMs },
      );
    }
  });
  app.addHook('preClose', async () => {
    await worker?.stop({ timeoutMs: 5000 });
    await hub.stop();
    await safety.close();
  });

  return { app: app as unknown as FastifyInstance, services: { accounts, conversations, messaging, hub, media, queue, blobs, safety } };
}
