/**
 * This instance's signing identity: one Ed25519 key pair, made the first time federation starts
 * and kept in the database with its private half sealed under a server secret (as automation keeps
 * its secrets), so every API process of one deployment signs with the same key. Its key id is the
 * RFC 7638 JWK thumbprint of the public key, so anyone holding the key can recompute the id.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import type { SecretBox } from '../automation/index.ts';
import type { Database } from '../platform/db/index.ts';

export interface Identity {
  keyId: string;
  /** Raw 32-byte public key, base64url. */
  publicKey: string;
  privateKey: KeyObject;
}

/** RFC 7638 thumbprint of an Ed25519 public key given as its raw bytes (base64url). */
export function keyIdOf(publicKey: string): string {
  // Members in lexicographic order, no whitespace (RFC 7638 §3).
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${publicKey}"}`).digest('base64url');
}

/** A public key from its raw bytes (base64url); throws on anything else. */
export function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** What a retiring key signs to vouch for its successor (verified by peers that pinned it). */
export function rotationStatement(oldKeyId: string, newKeyId: string): Buffer {
  return Buffer.from(`mmd-federation/1 rotate ${oldKeyId} ${newKeyId}`, 'utf8');
}

/** Whether `endorsement` is `publicKey`'s signature over the rotation from `oldKeyId` to `newKeyId`. */
export function endorsementValid(o: { publicKey: string; oldKeyId: string; newKeyId: string; endorsement: string }): boolean {
  try {
    return verify(null, rotationStatement(o.oldKeyId, o.newKeyId), publicKeyObject(o.publicKey), Buffer.from(o.endorsement, 'base64url'));
  } catch {
    return false;
  }
}

/** A key rotated out, still accepted (and published) until it expires. */
export interface PreviousKey {
  keyId: string;
  publicKey: string;
  expiresAt: number;
  nextKeyId: string;
  endorsement: string;
}

function newPair(box: SecretBox) {
  const pair = generateKeyPairSync('ed25519');
  const x = pair.publicKey.export({ format: 'jwk' }).x!;
  return { keyId: keyIdOf(x), publicKey: x, privateKey: pair.privateKey, sealed: box.seal(pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')) };
}

/** The key in use: the oldest one not retired (two processes starting together agree on it). */
const current = (db: Database) => db.db.selectFrom('federation_identity').selectAll().where('retired_at', 'is', null).orderBy('created_at').orderBy('key_id').limit(1).executeTakeFirst();

export async function loadIdentity(db: Database, box: SecretBox, now: number): Promise<Identity> {
  let row = await current(db);
  if (!row) {
    const pair = newPair(box);
    // Two processes starting together: both insert, the first row (by time, then id) is everyone's.
    await db.db.insertInto('federation_identity').values({ key_id: pair.keyId, public_key: pair.publicKey, private_key: pair.sealed, created_at: now, retired_at: null, expires_at: null, next_key_id: null, endorsement: null }).onConflict((oc) => oc.doNothing()).execute();
    row = await current(db);
  }
  if (!row) throw new Error('federation identity could not be stored');
  const privateKey = createPrivateKey({ key: Buffer.from(box.open(row.private_key), 'base64'), format: 'der', type: 'pkcs8' });
  return { keyId: row.key_id, publicKey: row.public_key, privateKey };
}

/** Keys rotated out whose grace period has not ended, newest first. */
export async function previousKeys(db: Database, now: number): Promise<PreviousKey[]> {
  const rows = await db.db.selectFrom('federation_identity').selectAll().where('retired_at', 'is not', null).where('expires_at', '>', now).where('endorsement', 'is not', null).orderBy('retired_at', 'desc').execute();
  return rows.map((r) => ({ keyId: r.key_id, publicKey: r.public_key, expiresAt: Number(r.expires_at), nextKeyId: r.next_key_id!, endorsement: r.endorsement! }));
}

/**
 * Replaces the key in use with a new one. The old key signs the new key's id (peers that pinned
 * it accept the new key on that evidence) and stays valid for `graceMs`.
 */
export async function rotateIdentity(db: Database, box: SecretBox, now: number, graceMs: number): Promise<Identity> {
  const old = await loadIdentity(db, box, now);
  const pair = newPair(box);
  const endorsement = sign(null, rotationStatement(old.keyId, pair.keyId), old.privateKey).toString('base64url');
  await db.writeTransaction(async (tx) => {
    await tx.insertInto('federation_identity').values({ key_id: pair.keyId, public_key: pair.publicKey, private_key: pair.sealed, created_at: now, retired_at: null, expires_at: null, next_key_id: null, endorsement: null }).execute();
    await tx.updateTable('federation_identity').set({ retired_at: now, expires_at: now + graceMs, next_key_id: pair.keyId, endorsement }).where('key_id', '=', old.keyId).execute();
    // Any other unretired key (left by a start-up race) goes at once: only the endorsed one has a grace period.
    await tx.updateTable('federation_identity').set({ retired_at: now, expires_at: now }).where('retired_at', 'is', null).where('key_id', 'not in', [old.keyId, pair.keyId]).execute();
  });
  return { keyId: pair.keyId, publicKey: pair.publicKey, privateKey: pair.privateKey };
}
