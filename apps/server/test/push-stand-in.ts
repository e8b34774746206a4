/**
 * A browser push service stand-in on loopback: it hands out subscriptions as a browser would (a
 * P-256 key pair and an auth secret per subscription, an endpoint URL on itself), takes the
 * server's pushes, checks their VAPID signature, and decrypts their aes128gcm payload (RFC 8291)
 * with the subscription's private key, as the browser would.
 */
import { type ECDH, createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPush {
  subscription: string;
  /** The decrypted payload, as the service worker would get it. */
  text: string;
  headers: http.IncomingHttpHeaders;
  /** The VAPID JWT's claims, its signature checked against the `k` key it came with. */
  vapid: { key: string; claims: { aud: string; exp: number; sub: string } };
}

export interface StandInSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8291 §3.4 and RFC 8188: one record, padded with a 0x02 delimiter. */
export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const asPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const ecdhSecret = ua.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.getPublicKey(), asPublic]);
  const ikm = hmac(hmac(authSecret, ecdhSecret), Buffer.concat([keyInfo, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end -= 1;
  if (plain[end] !== 2) throw new Error('bad padding delimiter');
  return plain.subarray(0, end).toString('utf8');
}

function checkVapid(header: string | undefined): ReceivedPush['vapid'] {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) throw new Error(`no VAPID authorization: ${header}`);
  const [jwt, key] = [m[1]!, m[2]!];
  const [head, claims, signature] = jwt.split('.');
  const point = Buffer.from(key, 'base64url');
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${head}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature!, 'base64url'));
  if (!ok) throw new Error('VAPID signature does not verify');
  return { key, claims: JSON.parse(Buffer.from(claims!, 'base64url').toString('utf8')) };
}

export async function startPushStandIn() {
  const subscriptions = new Map<string, { ua: ECDH; auth: Buffer }>();
  const received: ReceivedPush[] = [];
  /** Status to answer per subscription id (default 201). */
  const answers = new Map<string, number>();
  const errors: Error[] = [];
  let counter = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = (req.url ?? '').replace(/^\/push\//, '');
      const sub = subscriptions.get(id);
      const status = answers.get(id) ?? (sub ? 201 : 404);
      if (sub && status === 201) {
        try {
          if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
          received.push({ subscription: id, text: decryptAes128gcm(Buffer.concat(chunks), sub.ua, sub.auth), headers: req.headers, vapid: checkVapid(req.headers.authorization) });
        } catch (err) {
          errors.push(err as Error);
          res.writeHead(400).end();
          return;
        }
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    errors,
    /** What a browser's pushManager.subscribe would give. */
    subscribe(): StandInSubscription {
      counter += 1;
      const id = `s${counter}${randomBytes(6).toString('hex')}`;
      const ua = createECDH('prime256v1');
      ua.generateKeys();
      const auth = randomBytes(16);
      subscriptions.set(id, { ua, auth });
      return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    /** Answer pushes to this subscription with `status` from now on (410: the browser unsubscribed). */
    answer(id: string, status: number) {
      answers.set(id, status);
    },
    pushesTo(id: string): ReceivedPush[] {
      return received.filter((p) => p.subscription === id);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type PushStandIn = Awaited<ReturnType<typeof startPushStandIn>>;
