/**
 * How clients follow their conversations: `GET /v1/updates` (long-poll, for bots and clients
 * without WebSocket) and `GET /v1/stream` (WebSocket). Both resume from a cursor and deliver
 * every later event once, in order; both acknowledge delivery of what came before the cursor.
 */
import { UpdatesQuery, UpdatesReply, UpdatesState } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import type { Principal } from '../accounts/service.ts';
import type { Authenticate } from '../http/auth.ts';
import { bearerToken } from '../http/auth.ts';
import { AppError } from '../errors.ts';
import type { Messaging } from '../messaging/service.ts';
import type { Database } from '../platform/db/index.ts';
import { type StoredEvent, eventsVisibleTo, latestCursor } from './event-log.ts';
import type { SyncHub } from './hub.ts';
import type { TypingRelay } from './typing.ts';
import { waitForEvents } from './wait.ts';

/** A connection that falls this far behind is closed; it resumes from its cursor on reconnect. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const ACK_DEBOUNCE_MS = 300;
const ACK_FLUSH_MS = 200;

/** The stream frame for an event, built once and shared by every socket that gets it. */
const frames = new WeakMap<StoredEvent, string>();
function frameOf(event: StoredEvent, json: string): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = `{"type":"event","event":${json}}`;
    frames.set(event, frame);
  }
  return frame;
}

export function syncRoutes(deps: {
  db: Database;
  hub: SyncHub;
  messaging: Messaging;
  authenticate: Authenticate;
  typing: TypingRelay;
  wsFramesPerSecond: number;
}): FastifyPluginAsyncTypebox {
  const { db, hub, messaging, authenticate } = deps;

  function acknowledgeLater(
    principal: Principal,
    cursor: number,
    log: { warn: (o: object, m: string) => void },
  ) {
    messaging
      .acknowledge(principal.accountId, cursor)
      .catch((err) => log.warn({ err }, 'delivery acknowledgement failed'));
  }

  return async (app) => {
    app.get(
      '/v1/updates',
      {
        schema: {
          tags: ['sync'],
          summary: 'Events after a cursor; waits up to `timeout` seconds when there are none',
          querystring: UpdatesQuery,
          response: { 200: UpdatesReply },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request, 'updates:read');
        const cursor = request.query.cursor ?? 0;
        const limit = request.query.limit ?? 100;
        const timeoutMs = (request.query.timeout ?? 0) * 1000;
        if (cursor > 0) acknowledgeLater(principal, cursor, request.log);
        let events = await eventsVisibleTo(db.db, {
          accountId: principal.accountId,
          after: cursor,
          limit: limit + 1,
        });
        if (events.length === 0 && timeoutMs > 0) {
          const abort = new AbortController();
          reply.raw.on('close', () => abort.abort());
          events = await waitForEvents({
            hub,
            accountId: principal.accountId,
            cursor,
            limit: limit + 1,
            timeoutMs,
            signal: abort.signal,
          });
        }
        const page = events.slice(0, limit);
        reply.type('application/json');
        // The events are spliced in as stored JSON: no parse and re-serialise per poll.
        const body = `{"events":[${page.map((e) => `{"cursor":${e.id},"type":"${e.type}","conversation_id":${e.conversation_id === null ? 'null' : JSON.stringify(e.conversation_id)},"at":${e.created_at},"data":${e.payload}}`).join(',')}],"cursor":${page.at(-1)?.id ?? cursor},"has_more":${events.length > limit}}`;
        // A string body skips the response serializer.
        return reply.send(body as never);
      },
    );

    app.get(
      '/v1/updates/state',
      {
        schema: {
          tags: ['sync'],
          summary: 'The newest cursor: load conversations after reading it, then follow updates from it',
          response: { 200: UpdatesState },
        },
      },
      async (request) => {
        await authenticate(request, 'updates:read');
        // Cursors become visible in commit order on both databases, so nothing below this one can
        // still appear; a client that reads it before loading its lists misses nothing.
        return { cursor: await latestCursor(db.db) };
      },
    );

    app.post(
      '/v1/updates/ack',
      {
        schema: {
          tags: ['sync'],
          summary: 'Acknowledge every event up to a cursor (marks messages delivered)',
          body: Type.Object({ cursor: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request, 'updates:read');
        await messaging.acknowledge(principal.accountId, request.body.cursor);
        return reply.status(204).send();
      },
    );

    app.route({
      method: 'GET',
      url: '/v1/stream',
      schema: {
        tags: ['sync'],
        summary: 'WebSocket: every event after `cursor`, then live. Token in Authorization or ?token=',
        querystring: Type.Object(
          {
            cursor: Type.Optional(Type.Integer({ minimum: 0 })),
            token: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
      },
      preValidation: async (request) => {
        const query = request.query as { token?: string };
        (request as unknown as { principal: Principal }).principal = await authenticate(
          request,
          'updates:read',
          bearerToken(request) ?? query.token ?? null,
        );
      },
      // A plain GET (no Upgrade header) is told what to do instead of getting a bare 404.
      handler: async () => {
        throw new AppError('upgrade_required', 'this endpoint speaks WebSocket: send Upgrade: websocket');
      },
      wsHandler: (socket: WebSocket, request) => {
        const principal = (request as unknown as { principal: Principal }).principal;
        const cursor = (request.query as { cursor?: number }).cursor ?? 0;
        let closed = false;
        let detach: () => void = () => {};
        let frameCount = 0;
        let windowStart = Date.now();
        let ackTimer: NodeJS.Timeout | null = null;
        let ackCursor = 0;

        const closeWith = (code: number, reason: string) => {
          if (closed) return;
          closed = true;
          detach();
          socket.close(code, reason.slice(0, 120));
        };

        socket.on('message', (data, isBinary) => {
          const now = Date.now();
          if (now - windowStart >= 1000) {
            windowStart = now;
            frameCount = 0;
          }
          if (++frameCount > deps.wsFramesPerSecond) return closeWith(1008, 'rate_limited: too many frames');
          if (isBinary)
            return socket.send(
              JSON.stringify({ type: 'error', code: 'validation_failed', detail: 'frames are JSON text' }),
            );
          let frame: { type?: unknown; cursor?: unknown; conversation_id?: unknown };
          try {
            frame = JSON.parse(data.toString()) as typeof frame;
          } catch {
            return socket.send(
              JSON.stringify({ type: 'error', code: 'malformed_json', detail: 'frames are JSON objects' }),
            );
          }
          if (frame?.type === 'ping') return socket.send('{"type":"pong"}');
          if (frame?.type === 'ack' && Number.isSafeInteger(frame.cursor) && (frame.cursor as number) >= 0) {
            ackCursor = Math.max(ackCursor, frame.cursor as number);
            ackTimer ??= setTimeout(() => {
              ackTimer = null;
              acknowledgeLater(principal, ackCursor, request.log);
            }, ACK_DEBOUNCE_MS);
            return;
          }
          if (frame?.type === 'typing' && typeof frame.conversation_id === 'string' && frame.conversation_id.length <= 64) {
            // Ephemeral and best effort: no answer, and members-only (checked by the relay).
            if (principal.scopes.has('messages:write'))
              deps.typing
                .typing(principal, frame.conversation_id)
                .catch((err) => request.log.warn({ err }, 'typing indicator failed'));
            return;
          }
          socket.send(
            JSON.stringify({
              type: 'error',
              code: 'validation_failed',
              detail: 'expected {"type":"ack","cursor":N}, {"type":"typing","conversation_id":"…"} or {"type":"ping"}',
            }),
          );
        });
        socket.on('close', () => {
          closed = true;
          detach();
          if (ackTimer) {
            clearTimeout(ackTimer);
            acknowledgeLater(principal, ackCursor, request.log);
          }
        });
        socket.on('error', () => closeWith(1011, 'socket error'));
        const disconnectTyping = deps.typing.connect({
          accountId: principal.accountId,
          send(frame) {
            if (!closed && socket.bufferedAmount <= MAX_BUFFERED_BYTES) socket.send(frame);
          },
        });
        socket.on('close', disconnectTyping);

        hub
          .attach(
            {
              accountId: principal.accountId,
              deviceId: principal.deviceId,
              send(event, json) {
                if (closed) return;
                if (socket.bufferedAmount > MAX_BUFFERED_BYTES)
                  return closeWith(1013, 'slow_consumer: reconnect with your cursor');
                socket.send(frameOf(event, json));
              },
              close(code, detail) {
                if (!closed && socket.readyState === socket.OPEN)
                  socket.send(JSON.stringify({ type: 'error', code, detail }));
                closeWith(code === 'device_revoked' ? 4001 : 1012, `${code}: ${detail}`);
              },
            },
            cursor,
          )
          .then((handle) => {
            detach = handle.detach;
            if (closed) return handle.detach();
            socket.send(`{"type":"ready","cursor":${handle.cursor}}`);
          })
          .catch((err) => {
            request.log.error({ err }, 'stream catch-up failed');
            closeWith(1011, 'unavailable: try again');
          });
      },
    });
  };
}
