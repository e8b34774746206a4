/**
 * Federation over HTTP. Public but signed (RFC 9421, by a connected peer's key): the inbox and the
 * pull endpoint. Public: the well-known document with this instance's key. Admins: peers.
 * Moderators: shared cases with each peer's outcome, withdrawing one, and received cases.
 */
import {
  CreateHmaConsumerBody,
  CreatePeerBody,
  FetchHashesQuery,
  FetchHashesReply,
  HmaConsumer,
  HmaConsumerCreated,
  HmaConsumerList,
  RotateIdentityBody,
  FederationIdentity,
  InboxReply,
  MessagesQuery,
  MessagesReply,
  Peer,
  PeerList,
  ReceivedCase,
  ReceivedDecisionBody,
  ReceivedList,
  ReceivedQuery,
  SharedCase,
  SharedList,
  SharedQuery,
  UpdateHmaConsumerBody,
  UpdatePeerBody,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import type { Authenticate } from '../http/auth.ts';
import { HMA_BASE_PATH, HMA_FETCH_PATH } from './hma.ts';
import { INBOX_PATH, MESSAGES_PATH } from './outbox.ts';
import { WELL_KNOWN_PATH } from './peers.ts';
import type { Federation } from './service.ts';
import { signResponse } from './signatures.ts';
import { type Limits, createMemoryLimits } from '../platform/limits/index.ts';

const tags = ['federation'];
const Id = Type.String({ minLength: 1, maxLength: 64 });
/** A signals message carries at most 64 signals; a vPDQ with its signature is the large one. */
const INBOX_BODY_LIMIT = 8 * 1024 * 1024;

export interface FederationRouteDeps {
  federation: Federation;
  authenticate: Authenticate;
  clock: () => number;
  /** Signed requests per peer address per minute. */
  signedLimit: { max: number; windowMs: number };
  /** HMA FetchHashes requests per consumer per window (and 4× that per address, before the token is checked). */
  hmaLimit: { max: number; windowMs: number };
  /** Where per-consumer counts are kept (shared in Redis in a cluster). */
  limits?: Limits;
}

async function person(authenticate: Authenticate, request: FastifyRequest, roles: readonly string[], what: string): Promise<Principal> {
  const principal = await authenticate(request);
  if (principal.apiKeyId !== null) throw new AppError('insufficient_scope', `${what} needs a person signed in on a device, not an API key`);
  if (!roles.includes(principal.role)) throw new AppError('forbidden', `only ${what} do this`);
  return principal;
}

/** The signed endpoints: the body is read as bytes, because its digest is checked before it is parsed. */
function signedRoutes(deps: FederationRouteDeps): FastifyPluginAsyncTypebox {
  const { federation, clock } = deps;
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: INBOX_BODY_LIMIT }, (_request, body, done) => done(null, body));
    const rateLimit = { max: deps.signedLimit.max, timeWindow: deps.signedLimit.windowMs };

    app.post(INBOX_PATH, {
      schema: {
        'x-mmd-scope': 'public',
        'x-mmd-auth': 'http-signature',
        security: [],
        tags,
        summary: 'A peer delivers one message (signals, confirmation, retraction, ack), signed per RFC 9421 with its Ed25519 key (docs/federation.md)',
        response: { 202: InboxReply },
      },
      bodyLimit: INBOX_BODY_LIMIT,
      config: { rateLimit },
      // The signature over the headers first: nothing unsigned gets its body read.
      onRequest: async (request) => {
        await federation.verifyPeerHeaders({ method: 'POST', url: request.url, headers: request.headers, ip: request.ip });
      },
    }, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const verified = await federation.verifyPeerRequest({ method: 'POST', url: request.url, headers: request.headers, body, ip: request.ip });
      let message: unknown;
      try {
        message = JSON.parse(body.toString('utf8'));
      } catch {
        throw new AppError('malformed_json', 'the body is not valid JSON');
      }
      try {
        const id = await federation.receive(verified.key, message, 'push');
        return reply.status(202).send({ accepted: id });
      } catch (err) {
        if (err instanceof AppError) await federation.refused(err, { peer: verified.key.id, path: INBOX_PATH });
        throw err;
      }
    });

    app.get(MESSAGES_PATH, {
      schema: {
        'x-mmd-scope': 'public',
        'x-mmd-auth': 'http-signature',
        security: [],
        tags,
        summary: "A peer pulls the messages this instance has for it after a cursor (catch-up); signed request, signed response",
        querystring: MessagesQuery,
        response: { 200: MessagesReply },
      },
      config: { rateLimit },
    }, async (request, reply) => {
      const verified = await federation.verifyPeerRequest({ method: 'GET', url: request.url, headers: request.headers, body: null, ip: request.ip });
      const page = await federation.outbox.after(verified.key.id, request.query.after ?? 0, request.query.limit ?? 50);
      const text = JSON.stringify(page);
      const headers = await signResponse({ identity: await federation.identity(), status: 200, headers: { 'content-type': 'application/json' }, body: text, nonce: verified.nonce, now: clock() });
      // Sent as the exact bytes that were signed (a serializer must not re-encode them).
      return reply.status(200).headers(headers).header('cache-control', 'no-store').serializer((payload) => payload as string).send(text as never);
    });
  };
}

export function federationRoutes(deps: FederationRouteDeps): FastifyPluginAsyncTypebox {
  const perConsumer = (deps.limits ?? createMemoryLimits()).limiter({ name: 'hma-consumer', max: deps.hmaLimit.max, windowMs: deps.hmaLimit.windowMs, clock: deps.clock });
  const { federation, authenticate } = deps;
  const admin = (request: FastifyRequest) => person(authenticate, request, ['admin'], "the instance's admins");
  const moderator = (request: FastifyRequest) => person(authenticate, request, ['moderator', 'admin'], 'moderators');
  return async (app) => {
    await app.register(signedRoutes(deps));

    app.get(WELL_KNOWN_PATH, {
      schema: { 'x-mmd-scope': 'public', security: [], tags, summary: "This instance's federation identity: its Ed25519 public key and key id", response: { 200: FederationIdentity } },
      config: { rateLimit: { max: 600, timeWindow: 60_000 } },
    }, async (_request, reply) => {
      return reply.header('cache-control', 'public, max-age=300').send(await federation.wellKnownDocument());
    });

    app.get(HMA_FETCH_PATH, {
      schema: {
        'x-mmd-scope': 'public',
        'x-mmd-auth': 'hma-consumer-token',
        security: [],
        tags,
        summary: "HMA-compatible exchange (StopNCII FetchHashes shape): the changes to the banks offered to this consumer since a checkpoint, paged. Headers x-functions-key (token) and Ocp-Apim-Subscription-Key (consumer id) (docs/federation.md)",
        querystring: FetchHashesQuery,
        response: { 200: FetchHashesReply },
      },
      config: {
        rateLimit: {
          // Per address, before the token is checked: nothing the caller writes (a made-up
          // consumer id) buys a fresh allowance. Room for a few consumers behind one address;
          // each consumer's own limit is counted once it is known (below).
          max: deps.hmaLimit.max * 4,
          timeWindow: deps.hmaLimit.windowMs,
          keyGenerator: (request: FastifyRequest) => `hma|${request.ip}`,
        },
      },
    }, async (request, reply) => {
      const consumer = await federation.hma.authenticate(request.headers).catch(async (err: unknown) => {
        if (err instanceof AppError) await federation.refused(err, { path: HMA_FETCH_PATH, ip: request.ip });
        throw err;
      });
      const wait = await perConsumer.hit(consumer.id);
      if (wait > 0) {
        const seconds = String(Math.ceil(wait / 1000));
        throw new AppError('rate_limited', `this consumer fetches at most ${deps.hmaLimit.max} times a minute; retry in ${seconds} s`, { headers: { 'retry-after': seconds } });
      }
      const q = request.query;
      const page = await federation.hma.fetch(consumer, { startTimestamp: q.startTimestamp ?? 0, pageSize: q.pageSize ?? 800, ...(q.nextPageToken !== undefined ? { nextPageToken: q.nextPageToken } : {}) });
      return reply.header('cache-control', 'no-store').send(page);
    });

    app.post('/v1/federation/hma/consumers', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Let an HMA deployment fetch some banks: returns its id and token (shown once) (admins; audited)', body: CreateHmaConsumerBody, response: { 201: HmaConsumerCreated } },
    }, async (request, reply) => {
      const principal = await admin(request);
      return reply.status(201).send(await federation.hma.create(principal.accountId, request.body));
    });

    app.get('/v1/federation/hma/consumers', { schema: { 'x-mmd-scope': 'device', tags, summary: 'HMA deployments allowed to fetch banks, with the banks each may fetch (admins)', response: { 200: HmaConsumerList } } }, async (request) => {
      await admin(request);
      return { consumers: await federation.hma.list(), fetch_path: HMA_BASE_PATH };
    });

    app.patch('/v1/federation/hma/consumers/:id', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Change an HMA consumer's banks or name, or disable it (admins; audited)", params: Type.Object({ id: Id }), body: UpdateHmaConsumerBody, response: { 200: HmaConsumer } },
    }, async (request) => {
      const principal = await admin(request);
      return federation.hma.update(principal.accountId, request.params.id, request.body);
    });

    app.post('/v1/federation/identity/rotate', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Rotate this instance's signing key: the new key is published with the old one, which peers accept for the grace period (admins; audited)", body: RotateIdentityBody, response: { 200: FederationIdentity } },
      config: { rateLimit: { max: 5, timeWindow: 60_000 } },
    }, async (request) => {
      const principal = await admin(request);
      await federation.rotate(principal.accountId, (request.body.grace_seconds ?? 7 * 86_400) * 1000);
      return federation.wellKnownDocument();
    });

    app.post('/v1/federation/peers', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Connect a peer platform: its base URL, its key (or fetched once from its well-known document), trust and policy (admins; audited)", body: CreatePeerBody, response: { 201: Peer } },
    }, async (request, reply) => {
      const principal = await admin(request);
      return reply.status(201).send(await federation.connect(principal.accountId, request.body));
    });

    app.get('/v1/federation/peers', { schema: { 'x-mmd-scope': 'device', tags, summary: 'Connected peers with their delivery state (admins)', response: { 200: PeerList } } }, async (request) => {
      await admin(request);
      return { peers: await federation.peers.list() };
    });

    app.get('/v1/federation/peers/:id', { schema: { 'x-mmd-scope': 'device', tags, summary: 'One peer (admins)', params: Type.Object({ id: Id }), response: { 200: Peer } } }, async (request) => {
      await admin(request);
      return federation.peers.view(request.params.id);
    });

    app.patch('/v1/federation/peers/:id', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Change a peer's trust, policy, sharing or status (admins; audited)", params: Type.Object({ id: Id }), body: UpdatePeerBody, response: { 200: Peer } },
    }, async (request) => {
      const principal = await admin(request);
      return federation.update(principal.accountId, request.params.id, request.body);
    });

    app.post('/v1/federation/peers/:id/pull', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Ask a peer now for what this instance missed (admins)', params: Type.Object({ id: Id }), response: { 200: Type.Object({ received: Type.Integer(), skipped: Type.Integer() }) } },
      config: { rateLimit: { max: 30, timeWindow: 60_000 } },
    }, async (request) => {
      await admin(request);
      const peer = await federation.peers.load(request.params.id);
      try {
        return await federation.pull(peer);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('peer_unreachable', `the pull failed: ${(err as Error).message}`);
      }
    });

    app.get('/v1/federation/shared', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Takedowns shared with peers, newest first, with each peer's outcome (moderators)", querystring: SharedQuery, response: { 200: SharedList } },
    }, async (request) => {
      await moderator(request);
      const q = request.query;
      return federation.shared({ takedownId: q.takedown_id, before: q.before, limit: q.limit ?? 20 });
    });

    app.get('/v1/federation/shared/:id', { schema: { 'x-mmd-scope': 'device', tags, summary: "One shared case with each peer's outcome (moderators)", params: Type.Object({ id: Id }), response: { 200: SharedCase } } }, async (request) => {
      await moderator(request);
      return federation.sharedCase(request.params.id);
    });

    app.post('/v1/federation/shared/:id/retract', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Withdraw a shared case from every peer it went to: they take its signals out and release what they held (moderators; audited)', params: Type.Object({ id: Id }), response: { 200: SharedCase } },
    }, async (request) => {
      const principal = await moderator(request);
      return federation.retract(principal.accountId, request.params.id);
    });

    app.get('/v1/federation/received', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Cases peers shared with this instance, newest first; status pending: waiting for a moderator (moderators)', querystring: ReceivedQuery, response: { 200: ReceivedList } },
    }, async (request) => {
      await moderator(request);
      return { cases: await federation.received({ status: request.query.status, limit: request.query.limit ?? 50 }) };
    });

    app.post('/v1/federation/received/:id/decision', {
      schema: { 'x-mmd-scope': 'device', tags, summary: "Decide a peer's case waiting for review: hold (bank its signals, hold copies) or dismiss (moderators; audited)", params: Type.Object({ id: Id }), body: ReceivedDecisionBody, response: { 200: ReceivedCase } },
    }, async (request) => {
      const principal = await moderator(request);
      return federation.decideReceived(principal.accountId, request.params.id, request.body.action);
    });
  };
}
