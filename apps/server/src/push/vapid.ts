/**
 * The instance's VAPID key pair (RFC 8292): a P-256 key made once and kept in the database as a
 * server secret, so every API process and every restart signs pushes alike — a browser's
 * subscription is bound to the public key it was made with, and a new key would orphan them all.
 */
import { createECDH } from 'node:crypto';
import type { Database } from '../platform/db/index.ts';
import { serverSecret } from '../platform/secrets.ts';

export interface VapidKeys {
  /** Uncompressed point, base64url: the browser's applicationServerKey. */
  publicKey: string;
  /** The 32-byte scalar, base64url. */
  privateKey: string;
  /** The `sub` claim: how a push service reaches the operator. */
  subject: string;
}

export async function vapidKeys(db: Database, options: { subject: string; publicUrl: string }): Promise<VapidKeys> {
  // 32 random bytes are a valid P-256 private key unless ≥ the group order (odds about 2^-32);
  // setPrivateKey would throw then, and the operator would see it at start.
  const secret = await serverSecret(db, 'push-vapid', '');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(secret);
  const subject = options.subject || (options.publicUrl.startsWith('https://') ? options.publicUrl : 'mailto:postmaster@localhost');
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: secret.toString('base64url'), subject };
}
