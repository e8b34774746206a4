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
import { endorsementValid, keyIdOf, publicKeyObject } from './identity.ts';
import type { FederationPeersTable } from './schema.ts';

export type PeerRow = FederationPeersTable;

interface WellKnownDoc {
  protocol?: unknown;
  public_key?: unknown;
  key_id?: unknown;
  previous_keys?: { key_id?: unknown; public_key?: unknown; expires_at?: unknown; next_key_id?: unknown; endorsement?: unknown }[];
}
export const WELL_KNOWN_PATH = '/.well-known/mmd-federation';

/**
 * What a peer's signal of `category` does here: `block` only where the peer is trusted for the
 * category, and only for what a moderator confirmed (confidence 1). A claim nobody has confirmed
 * yet — a victim's own case, shared at 0.5 — is at most held for a moderator here, whatever the
 * policy: a stranger's submission must never remove anything by itself.
 */
export function actionFor(peer: PeerRow, category: string, confidence = 1): PeerAction {
  const policy = JSON.parse(peer.policy) as Record<string, PeerAction>;
  const action = policy[category] ?? peer.default_action;
  if (action === 'block' && !(JSON.parse(peer.trusted_categories) as string[]).includes(category)) return 'hold';
  if (action === 'block' && confidence < 1) return 'hold';
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
    last_push_at: row.last_push_at === null ? null : Number(row.last_push_at),
    last_pull_at: row.last_pull_at === null ? null : Number(row.last_pull_at),
    last_pull_error: row.last_pull_error,
    previous_key_id: row.previous_key_id,
    previous_key_expires_at: row.previous_key_expires_at === null ? null : Number(row.previous_key_expires_at),
    created_at: Number(row.created_at),
  };
}

export function createPeers(deps: { db: Database; clock: () => number; ownKeyId: () => Promise<string>; outbound: { allowPrivate: boolean; timeoutMs: number } }) {
  const { db, clock } = deps;

  /** The peer's well-known document (never followed through redirects), its current key checked. */
  async function fetchDocument(baseUrl: string): Promise<WellKnownDoc> {
    let doc: WellKnownDoc;
    try {
      const answer = await outboundFetch({ url: `${baseUrl}${WELL_KNOWN_PATH}`, allowPrivate: deps.outbound.allowPrivate, timeoutMs: deps.outbound.timeoutMs, maxResponseBytes: 64 * 1024 });
      if (answer.status !== 200) throw new AppError('peer_unreachable', `the peer's well-known document answered ${answer.status}`);
      doc = JSON.parse(answer.body.toString('utf8')) as WellKnownDoc;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('peer_unreachable', err instanceof OutboundError ? `the peer could not be reached: ${err.code}` : "the peer's well-known document is not JSON");
    }
    if (doc.protocol !== FEDERATION_PROTOCOL || typeof doc.public_key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(doc.public_key)) {
      throw new AppError('peer_unreachable', `the peer does not publish an ${FEDERATION_PROTOCOL} key`);
    }
    if (doc.key_id !== keyIdOf(doc.public_key)) throw new AppError('peer_unreachable', "the peer's key id is not its key's thumbprint");
    checkedKey(doc.public_key, '/public_key');
    return doc;
  }

  const fetchKey = async (baseUrl: string) => (await fetchDocument(baseUrl)).public_key as string;

  /**
   * The peer's newer key, if its well-known document shows a chain of endorsements from the key
   * pinned here to the one it now signs with (each retired key signed its successor's id). The
   * pinned key becomes the previous one, accepted until the expiry the peer published for it.
   * null: the document names no newer key, or the chain does not hold (nothing changes).
   */
  async function rotatedKey(peer: PeerRow, now: number): Promise<PeerRow | null> {
    const doc = await fetchDocument(peer.base_url);
    if (doc.key_id === peer.key_id) return null;
    const previous = Array.isArray(doc.previous_keys) ? doc.previous_keys.slice(0, 16) : [];
    const keyOf = (id: string): string | undefined => (id === doc.key_id ? (doc.public_key as string) : (previous.find((p) => p.key_id === id && typeof p.public_key === 'string' && keyIdOf(p.public_key) === id)?.public_key as string | undefined));
    let at = peer.key_id;
    let atKey: string | undefined = peer.public_key;
    let pinnedExpiry: number | null = null;
    for (let step = 0; step < 16 && at !== doc.key_id; step++) {
      const entry = previous.find((p) => p.key_id === at);
      if (!entry || !atKey || typeof entry.next_key_id !== 'string' || typeof entry.endorsement !== 'string') return null;
      if (!endorsementValid({ publicKey: atKey, oldKeyId: at, newKeyId: entry.next_key_id, endorsement: entry.endorsement })) return null;
      if (pinnedExpiry === null) pinnedExpiry = Number(entry.expires_at);
      at = entry.next_key_id;
      atKey = keyOf(at);
    }
    if (at !== doc.key_id || pinnedExpiry === null || !Number.isFinite(pinnedExpiry)) return null;
    // The grace the peer announced, within reason: never more than 30 days from now.
    const expires = Math.min(pinnedExpiry, now + 30 * 86_400_000);
    await db.db
      .updateTable('federation_peers')
      .set({ key_id: doc.key_id, public_key: doc.public_key as string, previous_key_id: peer.key_id, previous_public_key: peer.public_key, previous_key_expires_at: expires, updated_at: now })
      .where('id', '=', peer.id)
      .where('key_id', '=', peer.key_id)
      .execute();
    return load(peer.id);
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
    /** The peer a key id is one of (its current key, or its previous one within the grace period), with that key. */
    async bySigningKey(keyId: string, now: number): Promise<{ peer: PeerRow; publicKey: string } | undefined> {
      const current = await this.byKeyId(keyId);
      if (current) return { peer: current, publicKey: current.public_key };
      const previous = await db.db.selectFrom('federation_peers').selectAll().where('previous_key_id', '=', keyId).where('previous_key_expires_at', '>', now).executeTakeFirst();
      return previous?.previous_public_key ? { peer: previous, publicKey: previous.previous_public_key } : undefined;
    },
    /** The key ids a peer's messages may carry in `from` now. */
    keyIdsOf(peer: PeerRow, now: number): string[] {
      return [peer.key_id, ...(peer.previous_key_id && Number(peer.previous_key_expires_at ?? 0) > now ? [peer.previous_key_id] : [])];
    },
    rotatedKey,
    async markPushed(id: string) {
      await db.db.updateTable('federation_peers').set({ last_push_at: clock() }).where('id', '=', id).execute();
    },
    async markPulled(id: string, error: string | null) {
      await db.db.updateTable('federation_peers').set(error === null ? { last_pull_at: clock(), last_pull_error: null } : { last_pull_error: error.slice(0, 300) }).where('id', '=', id).execute();
    },
    async connect(actorId: string, body: CreatePeerBody): Promise<PeerRow> {
      const baseUrl = baseUrlOf(body.base_url, deps.outbound.allowPrivate);
      const publicKey = body.public_key ? checkedKey(body.public_key, '/public_key') : await fetchKey(baseUrl);
      const keyId = keyIdOf(publicKey);
      if (keyId === (await deps.ownKeyId())) throw new AppError('conflict', "that is this instance's own key");
      if (await this.bySigningKey(keyId, clock())) throw new AppError('conflict', 'a peer with this key is already connected');
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
        previous_key_id: null,
        previous_public_key: null,
        previous_key_expires_at: null,
        last_push_at: null,
        last_pull_at: null,
        last_pull_error: null,
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
