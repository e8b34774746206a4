/**
 * Peers: the platforms an operator connected, each with its public key (pasted, or fetched once
 * from its well-known document through platform/outbound.ts), the categories it is trusted for,
 * what its signals do here per category, and which of this instance's categories it is sent.
 */
import { randomBytes } from 'node:crypto';
import { type CreatePeerBody, FEDERATION_PROTOCOL, type Peer, type PeerAction, type UpdatePeerBody } from '@mmd/contracts';
import { AppError, notFound } from '../errors.ts';
import type { Database } from '../platform/db/index.ts';
import { OutboundError, outboundFetch, parseOutboundUrl } from '../platform/outbound.ts';
import { keyIdOf, publicKeyObject } from './identity.ts';
import type { FederationPeersTable } from './schema.ts';

export type PeerRow = FederationPeersTable;
export const WELL_KNOWN_PATH = '/.well-known/mmd-federation';

/** What a peer's signal of `category` does here: `block` only where the peer is trusted for the category. */
export function actionFor(peer: PeerRow, category: string): PeerAction {
  const policy = JSON.parse(peer.policy) as Record<string, PeerAction>;
  const action = policy[category] ?? peer.default_action;
  if (action === 'block' && !(JSON.parse(peer.trusted_categories) as string[]).includes(category)) return 'hold';
  return action;
}

export function sharesWith(peer: PeerRow, category: string): boolean {
  return peer.status === 'active' && (JSON.parse(peer.share_categories) as string[]).includes(category);
}

/** A base URL without a trailing slash, checked for form (http(s), a host, no credentials). */
function baseUrlOf(raw: string, allowPrivate: boolean): string {
  let url: URL;
  try {
    url = parseOutboundUrl(raw);
  } catch (err) {
    throw new AppError('validation_failed', (err as Error).message, { errors: [{ path: '/base_url', message: (err as Error).message }] });
  }
  if (url.protocol === 'http:' && !allowPrivate) throw new AppError('validation_failed', 'a peer is reached over https', { errors: [{ path: '/base_url', message: 'https required' }] });
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function checkedKey(publicKey: string, path: string): string {
  try {
    publicKeyObject(publicKey);
  } catch {
    throw new AppError('validation_failed', 'not an Ed25519 public key', { errors: [{ path, message: 'not an Ed25519 public key (raw 32 bytes, base64url)' }] });
  }
  return publicKey;
}

export function toPeer(row: PeerRow, extra: { pending: number }): Peer {
  return {
    id: row.id,
    name: row.name,
    base_url: row.base_url,
    key_id: row.key_id,
    public_key: row.public_key,
    trusted_categories: JSON.parse(row.trusted_categories) as string[],
    policy: JSON.parse(row.policy) as Record<string, PeerAction>,
    default_action: row.default_action,
    share_categories: JSON.parse(row.share_categories) as string[],
    status: row.status,
    pull_cursor: Number(row.pull_cursor),
    outbox_pending: extra.pending,
    last_delivery_error: row.last_delivery_error,
    created_at: Number(row.created_at),
  };
}

export function createPeers(deps: { db: Database; clock: () => number; ownKeyId: () => Promise<string>; outbound: { allowPrivate: boolean; timeoutMs: number } }) {
  const { db, clock } = deps;

  /** The peer's key, read once from its well-known document (never followed through redirects). */
  async function fetchKey(baseUrl: string): Promise<string> {
    let doc: { protocol?: unknown; public_key?: unknown; key_id?: unknown };
    try {
      const answer = await outboundFetch({ url: `${baseUrl}${WELL_KNOWN_PATH}`, allowPrivate: deps.outbound.allowPrivate, timeoutMs: deps.outbound.timeoutMs, maxResponseBytes: 64 * 1024 });
      if (answer.status !== 200) throw new AppError('peer_unreachable', `the peer's well-known document answered ${answer.status}`);
      doc = JSON.parse(answer.body.toString('utf8')) as typeof doc;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('peer_unreachable', err instanceof OutboundError ? `the peer could not be reached: ${err.code}` : "the peer's well-known document is not JSON");
    }
    if (doc.protocol !== FEDERATION_PROTOCOL || typeof doc.public_key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(doc.public_key)) {
      throw new AppError('peer_unreachable', `the peer does not publish an ${FEDERATION_PROTOCOL} key`);
    }
    if (doc.key_id !== keyIdOf(doc.public_key)) throw new AppError('peer_unreachable', "the peer's key id is not its key's thumbprint");
    return checkedKey(doc.public_key, '/public_key');
  }

  async function load(id: string): Promise<PeerRow> {
    const row = await db.db.selectFrom('federation_peers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('peer');
    return row;
  }

  async function pendingCounts(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await db.db
      .selectFrom('federation_outbox')
      .select(['peer_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('peer_id', 'in', ids)
      .where('delivered_at', 'is', null)
      .groupBy('peer_id')
      .execute();
    return new Map(rows.map((r) => [r.peer_id, Number(r.n)]));
  }

  return {
    load,
    async view(id: string): Promise<Peer> {
      const row = await load(id);
      return toPeer(row, { pending: (await pendingCounts([id])).get(id) ?? 0 });
    },
    async list(): Promise<Peer[]> {
      const rows = await db.db.selectFrom('federation_peers').selectAll().orderBy('created_at').execute();
      const pending = await pendingCounts(rows.map((r) => r.id));
      return rows.map((r) => toPeer(r, { pending: pending.get(r.id) ?? 0 }));
    },
    async active(): Promise<PeerRow[]> {
      return db.db.selectFrom('federation_peers').selectAll().where('status', '=', 'active').execute();
    },
    async byKeyId(keyId: string): Promise<PeerRow | undefined> {
      return db.db.selectFrom('federation_peers').selectAll().where('key_id', '=', keyId).executeTakeFirst();
    },
    async connect(actorId: string, body: CreatePeerBody): Promise<PeerRow> {
      const baseUrl = baseUrlOf(body.base_url, deps.outbound.allowPrivate);
      const publicKey = body.public_key ? checkedKey(body.public_key, '/public_key') : await fetchKey(baseUrl);
      const keyId = keyIdOf(publicKey);
      if (keyId === (await deps.ownKeyId())) throw new AppError('conflict', "that is this instance's own key");
      if (await this.byKeyId(keyId)) throw new AppError('conflict', 'a peer with this key is already connected');
      const now = clock();
      const row: PeerRow = {
        id: `peer_${randomBytes(9).toString('base64url')}`,
        name: body.name,
        base_url: baseUrl,
        key_id: keyId,
        public_key: publicKey,
        trusted_categories: JSON.stringify(body.trusted_categories ?? []),
        share_categories: JSON.stringify(body.share_categories ?? []),
        policy: JSON.stringify(body.policy ?? {}),
        default_action: body.default_action ?? 'review',
        status: 'active',
        pull_cursor: 0,
        last_delivery_error: null,
        created_by: actorId,
        created_at: now,
        updated_at: now,
      };
      await db.db.insertInto('federation_peers').values(row).execute();
      return row;
    },
    async update(id: string, body: UpdatePeerBody): Promise<PeerRow> {
      await load(id);
      await db.db
        .updateTable('federation_peers')
        .set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.base_url !== undefined ? { base_url: baseUrlOf(body.base_url, deps.outbound.allowPrivate) } : {}),
          ...(body.trusted_categories !== undefined ? { trusted_categories: JSON.stringify(body.trusted_categories) } : {}),
          ...(body.share_categories !== undefined ? { share_categories: JSON.stringify(body.share_categories) } : {}),
          ...(body.policy !== undefined ? { policy: JSON.stringify(body.policy) } : {}),
          ...(body.default_action !== undefined ? { default_action: body.default_action } : {}),
          ...(body.status !== undefined ? { status: body.status } : {}),
          updated_at: clock(),
        })
        .where('id', '=', id)
        .execute();
      return load(id);
    },
    async setPullCursor(id: string, cursor: number) {
      await db.db.updateTable('federation_peers').set({ pull_cursor: cursor }).where('id', '=', id).where('pull_cursor', '<', cursor).execute();
    },
    async setDeliveryError(id: string, error: string | null) {
      await db.db.updateTable('federation_peers').set({ last_delivery_error: error }).where('id', '=', id).execute();
    },
  };
}

export type Peers = ReturnType<typeof createPeers>;
