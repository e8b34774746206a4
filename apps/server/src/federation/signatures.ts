/**
 * HTTP Message Signatures (RFC 9421) over federation's requests and responses, with the kept
 * `http-message-signatures` library doing the signature base and Ed25519; what the library leaves
 * to its caller is here: exactly one signature per message, the covered components this protocol
 * requires, the body checked against its Content-Digest (RFC 9530, sha-256), the `created` window,
 * and a stable error code for each refusal.
 *
 * Covered: "@method" "@path" "@query" (requests; a response covers "@status"), and
 * "content-digest" whenever there is a body. Parameters: created, expires, keyid, alg="ed25519",
 * nonce. `@authority` is left out on purpose (a proxy in front of the receiver rewrites it);
 * the envelope's `to` (covered by the digest) binds a message to its receiver instead.
 */
import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { createSigner, createVerifier, httpbis } from 'http-message-signatures';
import { parseDictionary } from 'structured-headers';
import { AppError } from '../errors.ts';

export const REQUEST_COMPONENTS = ['@method', '@path', '@query'] as const;
export const RESPONSE_COMPONENTS = ['@status'] as const;
/** A signature's `created` may be this far from the receiver's clock, either way. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;
const LABEL = 'mmd';
/** What a signature by the wrong key is told, and (from the inbox) one by a key no peer has. */
export const NOT_VERIFIED = "the signature does not verify with the peer's key";

export interface SigningIdentity {
  keyId: string;
  privateKey: KeyObject;
}

/** RFC 9530 Content-Digest with sha-256. */
export function contentDigest(body: Buffer | string): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

function digestMatches(header: string | undefined, body: Buffer): boolean {
  if (!header) return false;
  try {
    const dict = parseDictionary(header);
    const value = dict.get('sha-256');
    if (!value || !(value[0] instanceof ArrayBuffer)) return false;
    return Buffer.from(value[0]).equals(createHash('sha256').update(body).digest());
  } catch {
    return false;
  }
}

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

type Headers = Record<string, string>;

async function sign(o: { identity: SigningIdentity; message: { method: string; url: string } | { status: number }; headers: Headers; body?: Buffer | string; nonce: string; now: number; components: readonly string[] }): Promise<Headers> {
  const headers: Headers = { ...o.headers };
  const fields = [...o.components];
  if (o.body !== undefined) {
    headers['content-digest'] = contentDigest(o.body);
    fields.push('content-digest');
  }
  const created = new Date(Math.floor(o.now / 1000) * 1000);
  const signed = await httpbis.signMessage(
    {
      key: createSigner(o.identity.privateKey, 'ed25519', o.identity.keyId),
      name: LABEL,
      fields,
      params: ['created', 'expires', 'keyid', 'alg', 'nonce'],
      paramValues: { created, expires: new Date(created.getTime() + SIGNATURE_WINDOW_MS), nonce: o.nonce },
    },
    { ...o.message, headers } as never,
  );
  const out: Headers = {};
  for (const [k, v] of Object.entries((signed as { headers: Record<string, string | string[]> }).headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Headers that sign a request (content-digest included when there is a body). */
export function signRequest(o: { identity: SigningIdentity; method: string; url: string; headers?: Headers; body?: Buffer | string; nonce?: string; now: number }): Promise<Headers> {
  return sign({ identity: o.identity, message: { method: o.method, url: o.url }, headers: o.headers ?? {}, body: o.body, nonce: o.nonce ?? newNonce(), now: o.now, components: REQUEST_COMPONENTS });
}

/** Headers that sign a response; `nonce` repeats the request's, binding the answer to the question. */
export function signResponse(o: { identity: SigningIdentity; status: number; headers?: Headers; body: Buffer | string; nonce: string; now: number }): Promise<Headers> {
  return sign({ identity: o.identity, message: { status: o.status }, headers: o.headers ?? {}, body: o.body, nonce: o.nonce, now: o.now, components: RESPONSE_COMPONENTS });
}

export interface Verified<K> {
  key: K;
  keyId: string;
  nonce: string;
  createdMs: number;
}

/**
 * Checks a signed message and returns who signed it. Refusals: `signature_invalid` (missing,
 * malformed, not covering what this protocol requires, or not made by the key), `unknown_key`,
 * `signature_expired` (created outside the window), `digest_mismatch` (body altered).
 */
export async function verifySigned<K>(o: {
  message: { method: string; url: string } | { status: number };
  headers: Record<string, string | string[] | undefined>;
  /** null: no body; undefined: a body not read yet (its digest header must be covered; the bytes are checked later). */
  body: Buffer | null | undefined;
  now: number;
  lookup: (keyId: string) => Promise<{ key: K; publicKey: KeyObject } | null>;
}): Promise<Verified<K>> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const invalid = (why: string) => new AppError('signature_invalid', why);
  let input: ReturnType<typeof parseDictionary>;
  try {
    input = parseDictionary(headers['signature-input'] ?? '');
    if (parseDictionary(headers.signature ?? '').size !== 1) throw new Error('signatures');
  } catch {
    throw invalid('the message needs exactly one Signature and Signature-Input (RFC 9421)');
  }
  if (input.size !== 1) throw invalid('the message needs exactly one Signature and Signature-Input (RFC 9421)');
  const [, member] = [...input.entries()][0]!;
  const params = member[1];
  const keyId = params.get('keyid');
  const nonce = params.get('nonce');
  const created = params.get('created');
  if (typeof keyId !== 'string' || typeof nonce !== 'string' || typeof created !== 'number' || params.get('alg') !== 'ed25519') {
    throw invalid('the signature must carry keyid, nonce, created and alg="ed25519"');
  }
  if (nonce.length < 16 || nonce.length > 128) throw invalid('the nonce must be 16 to 128 characters');
  const covered = Array.isArray(member[0]) ? member[0].map((item) => String(item[0])) : [];
  const required = [...('status' in o.message ? RESPONSE_COMPONENTS : REQUEST_COMPONENTS), ...(o.body === undefined || (o.body && o.body.length > 0) ? ['content-digest'] : [])];
  for (const c of required) if (!covered.includes(c)) throw invalid(`the signature must cover ${c}`);
  // The window first: a stale signature is refused alike whether its key id is a peer's or not.
  const createdMs = created * 1000;
  if (Math.abs(o.now - createdMs) > SIGNATURE_WINDOW_MS) throw new AppError('signature_expired', `the signature was created outside the ${SIGNATURE_WINDOW_MS / 1000} s window`);
  const found = await o.lookup(keyId);
  if (!found) throw new AppError('unknown_key', 'no connected peer has this key');
  let ok: boolean | null;
  try {
    ok = await httpbis.verifyMessage(
      {
        keyLookup: async () => ({ id: keyId, algs: ['ed25519'], verify: createVerifier(found.publicKey, 'ed25519') }),
        // The window above is checked against this server's clock; the library's own check (on the
        // process clock) only gets the same window plus a tolerance, so it never disagrees first.
        tolerance: SIGNATURE_WINDOW_MS / 1000 + 60,
        notAfter: Math.floor(Date.now() / 1000) + SIGNATURE_WINDOW_MS / 1000 + 60,
      },
      { ...o.message, headers } as never,
    );
  } catch {
    ok = false;
  }
  if (ok !== true) throw invalid(NOT_VERIFIED);
  if (o.body !== undefined && (covered.includes('content-digest') || (o.body && o.body.length > 0))) {
    if (!digestMatches(headers['content-digest'], o.body ?? Buffer.alloc(0))) throw new AppError('digest_mismatch', 'the body does not match its Content-Digest');
  }
  return { key: found.key, keyId, nonce, createdMs };
}
