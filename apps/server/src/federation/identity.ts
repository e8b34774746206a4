/**
 * This instance's signing identity: one Ed25519 key pair, made the first time federation starts
 * and kept in the database with its private half sealed under a server secret (as automation keeps
 * its secrets), so every API process of one deployment signs with the same key. Its key id is the
 * RFC 7638 JWK thumbprint of the public key, so anyone holding the key can recompute the id.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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

export async function loadIdentity(db: Database, box: SecretBox, now: number): Promise<Identity> {
  const read = () => db.db.selectFrom('federation_identity').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
  let row = await read();
  if (!row) {
    const pair = generateKeyPairSync('ed25519');
    const x = pair.publicKey.export({ format: 'jwk' }).x!;
    const sealed = box.seal(pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'));
    // Two processes starting together: both insert, the first row (by time, then id) is everyone's.
    await db.db.insertInto('federation_identity').values({ key_id: keyIdOf(x), public_key: x, private_key: sealed, created_at: now }).onConflict((oc) => oc.doNothing()).execute();
    row = await read();
  }
  if (!row) throw new Error('federation identity could not be stored');
  const privateKey = createPrivateKey({ key: Buffer.from(box.open(row.private_key), 'base64'), format: 'der', type: 'pkcs8' });
  return { keyId: row.key_id, publicKey: row.public_key, privateKey };
}
