/**
 * How clients follow their conversations: `GET /v1/updates` (long-poll, for bots and clients
 * without WebSocket) and `GET /v1/stream` (WebSocket). Both resume from a cursor and deliver
 * every later event once, in order; both acknowledge delivery of what came before the cursor.
 */
import { UpdatesQuery, UpdatesReply, UpdatesState } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import type { Principal } from '../accounts/index.ts';
import type { Authenticate } from '../http/auth.ts';
import { bearerToken } from '../http/auth.ts';
import { AppError } from '../errors.ts';
import type { Messaging } from '../messaging/index.ts';
import type { Database } from '../platform/db/index.ts';
import { type StoredEvent, eventJson, eventsVisibleTo, latestCursor, visibleCursor, visibleUpTo } from './event-log.ts';
import { createAckBatcher } from './acks.ts';
import { type SyncHub, cursorAhead } from './hub.ts';
import { cursorBeforeRestore, inRestoreGap } from './restored.ts';
import type { TypingRelay } from './typing.ts';
import { waitForEvents } from './wait.ts';
import { readsContent, withheldPayload } from './withhold.ts';

/** A connection that falls this far behind is closed; it resumes from its cursor on reconnect. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** WebSocket close code for `cursor_expired`: reload from the state cursor, then reconnect from it. */
const CURSOR_EXPIRED_CLOSE = 4010;
/** Acknowledgements are written together, at most this long after they arrive. */
const ACK_FLUSH_MS = 100;
/** Hub close codes meaning the caller's credential no longer works: the client must not retry with it. */
const REVOKED = new Set(['device_revoked', 'api_key_revoked', 'bot_token_revoked']);

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
  /** Told of each stream a person's device opens; the function it returns is called when it closes (presence). */
  onStream?: (principal: Principal) => () => void;
  wsFramesPerSecond: number;
}): FastifyPluginAsyncTypebox {
  const { db, hub, messaging, authenticate } = deps;

  return async (app) => {
    const acks = createAckBatcher({ write: (batch) => messaging.acknowledgeMany(batch), intervalMs: ACK_FLUSH_MS, log: app.log });
    // onClose runs after preClose has closed the streams: every ack received by then is written.
    app.addHook('onClose', () => acks.stop());

    app.get(
      '/v1/updates',
      {
        schema: {
          'x-mmd-scope': 'updates:read',
          tags: ['sync'],
          summary: 'Events after a cursor; waits up to `timeout` seconds when there are none',
          querystring: UpdatesQuery,
          response: { 200: UpdatesReply },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request);
        const cursor = request.query.cursor ?? 0;
        const limit = request.query.limit ?? 100;
        const timeoutMs = (request.query.timeout ?? 0) * 1000;
        // Before reading: events after a cursor the restored log never issued are not "what comes next".
        if (await inRestoreGap(db.db, cursor)) throw cursorBeforeRestore(cursor);
        let events = await eventsVisibleTo(db.db, {
          accountId: principal.accountId,
          after: cursor,
          // Not past an event still being written below (PostgreSQL's watermark, platform/db).
          upTo: await visibleUpTo(db),
          limit: limit + 1,
        });
        if (events.length === 0 && cursor > 0) {
          const newest = await latestCursor(db.db);
          // Checked before acknowledging: such a cursor says nothing about what was delivered.
          if (cursor > newest) throw cursorAhead(cursor, newest);
        }
        if (cursor > 0) acks.add(principal.accountId, cursor);
        if (events.length === 0 && timeoutMs > 0) {
          const abort = new AbortController();
          reply.raw.on('close', () => abort.abort());
          let revoked: string | null = null;
          events = await waitForEvents({
            hub,
            accountId: principal.accountId,
            deviceId: principal.deviceId,
            apiKeyId: principal.apiKeyId,
            cursor,
            limit: limit + 1,
            timeoutMs,
            signal: abort.signal,
            onClose: (code, detail) => {
              if (REVOKED.has(code)) revoked = detail;
            },
          });
          // The credential was revoked mid-wait: answer as a request with that token would now be answered.
          if (revoked !== null) throw new AppError('unauthenticated', revoked, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
        }
        const page = events.slice(0, limit);
        const content = readsContent(principal);
        reply.type('application/json');
        // The events are spliced in as stored JSON: no parse and re-serialise per poll.
        const body = `{"events":[${page.map((e) => `{"cursor":${e.id},"type":"${e.type}","conversation_id":${e.conversation_id === null ? 'null' : JSON.stringify(e.conversation_id)},"at":${e.created_at},"data":${content ? e.payload : withheldPayload(e)}}`).join(',')}],"cursor":${page.at(-1)?.id ?? cursor},"has_more":${events.length > limit}}`;
        // A string body skips the response serializer.
        return reply.send(body as never);
      },
    );

    app.get(
      '/v1/updates/state',
      {
        schema: {
          'x-mmd-scope': 'updates:read',
          tags: ['sync'],
          summary: 'The newest cursor: load conversations after reading it, then follow updates from it',
          response: { 200: UpdatesState },
        },
      },
      async (request) => {
        await authenticate(request);
        // Nothing at or below this cursor can still appear (SQLite: cursors become visible in
        // commit order; PostgreSQL: the watermark), so a client that reads it before loading its
        // lists misses nothing.
        return { cursor: await visibleCursor(db) };
      },
    );

    app.post(
      '/v1/updates/ack',
      {
        schema: {
          'x-mmd-scope': 'updates:read',
          tags: ['sync'],
          summary: 'Acknowledge every event up to a cursor (marks messages delivered)',
          body: Type.Object({ cursor: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request);
        if (await inRestoreGap(db.db, request.body.cursor)) throw cursorBeforeRestore(request.body.cursor);
        // Answered once written, so a 204 means the acknowledgement is durable.
        await acks.addAndWait(principal.accountId, request.body.cursor);
        return reply.status(204).send();
      },
    );

    app.route({
      method: 'GET',
      url: '/v1/stream',
      schema: {
        'x-mmd-scope': 'updates:read',
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
        (request as unknown as { principal: Principal }).principal = await authenticate(request, bearerToken(request) ?? query.token ?? null,
        );
      },
      // A plain GET (no Upgrade header) is told what to do instead of getting a bare 404.
      handler: async () => {
        throw new AppError('upgrade_required', 'this endpoint speaks WebSocket: send Upgrade: websocket');
      },
      wsHandler: (socket: WebSocket, request) => {
        const principal = (request as unknown as { principal: Principal }).principal;
        // A key with updates:read alone learns that something happened, not what was said.
        const content = readsContent(principal);
        const cursor = (request.query as { cursor?: number }).cursor ?? 0;
        let closed = false;
        let detach: () => void = () => {};
        let frameCount = 0;
        let windowStart = Date.now();

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
            acks.add(principal.accountId, frame.cursor as number);
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
        });
        socket.on('error', () => closeWith(1011, 'socket error'));
        const disconnectTyping = deps.typing.connect({
          accountId: principal.accountId,
          send(frame) {
            if (!closed && socket.bufferedAmount <= MAX_BUFFERED_BYTES) socket.send(frame);
          },
        });
        socket.on('close', disconnectTyping);
        const streamClosed = deps.onStream?.(principal);
        if (streamClosed) socket.on('close', streamClosed);

        hub
          .attach(
            {
              accountId: principal.accountId,
              deviceId: principal.deviceId,
              apiKeyId: principal.apiKeyId,
              send(event, json) {
                if (closed) return;
                if (socket.bufferedAmount > MAX_BUFFERED_BYTES)
                  return closeWith(1013, 'slow_consumer: reconnect with your cursor');
                socket.send(content ? frameOf(event, json) : `{"type":"event","event":${eventJson({ ...event, payload: withheldPayload(event) })}}`);
              },
              close(code, detail) {
                if (!closed && socket.readyState === socket.OPEN)
                  socket.send(JSON.stringify({ type: 'error', code, detail }));
                closeWith(REVOKED.has(code) ? 4001 : 1012, `${code}: ${detail}`);
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
            if (err instanceof AppError && err.code === 'cursor_expired') {
              // A browser sees only the close code, so the code says it too (see the SDK's stream).
              if (!closed) socket.send(JSON.stringify({ type: 'error', code: err.code, detail: err.message }));
              return closeWith(CURSOR_EXPIRED_CLOSE, `cursor_expired: ${err.message}`);
            }
            request.log.error({ err }, 'stream catch-up failed');
            closeWith(1011, 'unavailable: try again');
          });
      },
    });
  };
}
