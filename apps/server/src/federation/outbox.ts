/**
 * The durable outbox: every message for a peer is a row written in order (its `seq` is the cursor
 * the peer pulls by) and a `federation-deliver` job that pushes the peer's undelivered rows, in
 * order, to its inbox. A failed push throws, so the queue retries with exponential backoff; a
 * peer that was down long enough for the job to give up still gets everything by pulling.
 */
import { randomBytes } from 'node:crypto';
import type { FederationMessage, FederationMessageType } from '@mmd/contracts';
import type { Database, Tx } from '../platform/db/index.ts';
import { OutboundError, outboundFetch } from '../platform/outbound.ts';
import type { Identity } from './identity.ts';
import type { PeerRow, Peers } from './peers.ts';
import { signRequest } from './signatures.ts';

export const INBOX_PATH = '/v1/federation/inbox';
export const MESSAGES_PATH = '/v1/federation/messages';
const BATCH = 20;

type BodyOf<T extends FederationMessageType> = Extract<FederationMessage, { type: T }>['body'];

/**
 * The stored envelope with `from` and `to` as they are now: a message queued before either side
 * rotated its key is sent under the keys in use when it leaves (its signature is made then too).
 */
function restamped(body: string, from: string, to: string): string {
  const message = JSON.parse(body) as { from: string; to: string };
  if (message.from === from && message.to === to) return body;
  return JSON.stringify({ ...message, from, to });
}

export function newMessageId(): string {
  return `m_${randomBytes(16).toString('base64url')}`;
}

export function createOutbox(deps: {
  db: Database;
  clock: () => number;
  identity: () => Promise<Identity>;
  peers: Peers;
  outbound: { allowPrivate: boolean; timeoutMs: number };
  /** Queues the peer's delivery job inside `tx` (after its commit, the job finds the rows). */
  enqueueDeliver: (tx: Tx, peerId: string, key: string) => Promise<void>;
}) {
  const { db, clock } = deps;

  return {
    /** Writes one message for a peer and queues its push, in the caller's transaction. */
    async queue<T extends FederationMessageType>(tx: Tx, peer: PeerRow, type: T, body: BodyOf<T>, caseRef: string | null = null): Promise<string> {
      const identity = await deps.identity();
      const message = { id: newMessageId(), type, from: identity.keyId, to: peer.key_id, created_at: clock(), body } as FederationMessage;
      const row = await tx
        .insertInto('federation_outbox')
        .values({ peer_id: peer.id, message_id: message.id, type, body: JSON.stringify(message), case_ref: caseRef, created_at: message.created_at, delivered_at: null, attempts: 0 })
        .returning('seq')
        .executeTakeFirstOrThrow();
      await deps.enqueueDeliver(tx, peer.id, String(row.seq));
      return message.id;
    },

    /**
     * The job: pushes the peer's undelivered messages in order. A peer that answers 2xx, or says it
     * has the message already (409 message_replayed: an earlier push's answer was lost), has it.
     * Anything else stops the batch and throws, so the job is retried with backoff.
     */
    async deliver(peerId: string, signal?: AbortSignal): Promise<{ delivered: number }> {
      const peer = await deps.peers.load(peerId);
      if (peer.status !== 'active') return { delivered: 0 };
      const identity = await deps.identity();
      let delivered = 0;
      for (;;) {
        const rows = await db.db.selectFrom('federation_outbox').select(['seq', 'body']).where('peer_id', '=', peerId).where('delivered_at', 'is', null).orderBy('seq').limit(BATCH).execute();
        if (rows.length === 0) break;
        for (const row of rows) {
          const url = `${peer.base_url}${INBOX_PATH}`;
          let failure: string | null = null;
          try {
            const body = restamped(row.body, identity.keyId, peer.key_id);
            const headers = await signRequest({ identity, method: 'POST', url, headers: { 'content-type': 'application/json' }, body, now: clock() });
            const answer = await outboundFetch({ url, method: 'POST', headers, body, allowPrivate: deps.outbound.allowPrivate, timeoutMs: deps.outbound.timeoutMs, maxResponseBytes: 64 * 1024, ...(signal ? { signal } : {}) });
            const code = answer.status === 409 ? (JSON.parse(answer.body.toString('utf8') || '{}') as { code?: string }).code : undefined;
            if (!(answer.status >= 200 && answer.status < 300) && code !== 'message_replayed') failure = `inbox answered ${answer.status}${code ? ` (${code})` : ''}`;
          } catch (err) {
            failure = err instanceof OutboundError ? `${err.code}: ${err.message}` : (err as Error).message;
          }
          if (failure) {
            await db.db.updateTable('federation_outbox').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('seq', '=', row.seq).execute();
            await deps.peers.setDeliveryError(peerId, failure.slice(0, 300));
            throw new Error(`delivery to peer ${peerId} failed: ${failure}`);
          }
          await db.db.updateTable('federation_outbox').set((eb) => ({ delivered_at: clock(), attempts: eb('attempts', '+', 1) })).where('seq', '=', row.seq).execute();
          delivered++;
        }
        if (rows.length < BATCH) break;
      }
      if (delivered > 0) {
        await deps.peers.markPushed(peerId);
        if (peer.last_delivery_error) await deps.peers.setDeliveryError(peerId, null);
      }
      return { delivered };
    },

    /** A peer's messages after its cursor, oldest first (what GET /v1/federation/messages answers). */
    async after(peerId: string, cursor: number, limit: number): Promise<{ messages: { cursor: number; message: unknown }[]; next_cursor: number; has_more: boolean }> {
      const rows = await db.db.selectFrom('federation_outbox').select(['seq', 'body']).where('peer_id', '=', peerId).where('seq', '>', cursor).orderBy('seq').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const [identity, peer] = await Promise.all([deps.identity(), deps.peers.load(peerId)]);
      return {
        messages: page.map((r) => ({ cursor: Number(r.seq), message: JSON.parse(restamped(r.body, identity.keyId, peer.key_id)) as unknown })),
        next_cursor: page.length ? Number(page[page.length - 1]!.seq) : cursor,
        has_more: rows.length > limit,
      };
    },

    /** Peers that have undelivered messages (queued again at start, in case their jobs gave up). */
    async peersWithBacklog(): Promise<{ peerId: string; seq: number }[]> {
      const rows = await db.db.selectFrom('federation_outbox').select(['peer_id', (eb) => eb.fn.max('seq').as('seq')]).where('delivered_at', 'is', null).groupBy('peer_id').execute();
      return rows.map((r) => ({ peerId: r.peer_id, seq: Number(r.seq) }));
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
