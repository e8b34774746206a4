/**
 * Outbound HTTP that a user can aim (webhooks, Telegram's setWebhook, a photo "by URL", the
 * assistant's endpoint). A URL chosen by a stranger must not reach the server's own network: the
 * host is resolved here, every address is checked against the private, loopback, link-local,
 * multicast and reserved ranges, and the connection goes to the checked address itself (the
 * lookup is pinned), so a DNS answer that changes between the check and the connect (rebinding)
 * changes nothing. Redirects are not followed unless asked, and then each hop is checked again.
 * Every request has one deadline (DNS, connect, headers and body together) and a response size cap.
 *
 * `allowPrivate` (config `outboundAllowPrivate`, `MMD_OUTBOUND_ALLOW_PRIVATE=true`) lifts the
 * address check for operators whose receivers live on their own network (and for tests, which use
 * loopback). Cloud metadata addresses stay refused even then: nothing legitimate lives there.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export type OutboundErrorCode =
  | 'invalid_url'
  | 'blocked_address'
  | 'dns_failed'
  | 'timeout'
  | 'response_too_large'
  | 'connection_failed'
  | 'too_many_redirects';

/** Why an outbound request did not get an answer. `code` is stable; `message` is for logs. */
export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Deadline for the whole exchange (default 10 s). */
  timeoutMs?: number;
  /** Largest response body read; more fails with `response_too_large` (default 1 MiB). */
  maxResponseBytes?: number;
  /**
   * Keep the first `maxResponseBytes` of a larger answer instead of failing (the connection is
   * closed there): for reading the head of a web page, whose metadata comes first.
   */
  truncate?: boolean;
  /** Redirects followed, each re-checked (default 0: a 3xx is returned as it is). */
  maxRedirects?: number;
  /** Allow private and loopback targets (the operator's setting). */
  allowPrivate?: boolean;
  signal?: AbortSignal;
  /** Resolves a host name (default: the system resolver); tests pass their own to act as DNS. */
  lookup?: HostLookup;
}

export type HostLookup = (host: string) => Promise<LookupAddress[]>;

const systemLookup: HostLookup = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, result) => (err ? reject(new OutboundError('dns_failed', `could not resolve ${host}: ${err.code ?? err.message}`)) : resolve(result)));
  });

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered (differs from the request's after followed redirects). */
  url: string;
  /** The address actually connected to. */
  address: string;
  latencyMs: number;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64: would reach any IPv4 address, private ones included
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local (also AWS's metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

// Refused even when private targets are allowed: instance credentials live there.
const metadata = new BlockList();
metadata.addAddress('169.254.169.254', 'ipv4');
metadata.addAddress('169.254.170.2', 'ipv4');
metadata.addAddress('100.100.100.200', 'ipv4');
metadata.addAddress('fd00:ec2::254', 'ipv6');

/** IPv4 written inside IPv6 (::ffff:10.0.0.1, ::10.0.0.1): judged as the IPv4 address it is. */
function embeddedIpv4(address: string): string | null {
  const m = /^::(?:ffff(?::0{1,4})?:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const hi = Number.parseInt(hex[1]!, 16);
    const lo = Number.parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/**
 * Whether `address` (an IP literal) may be connected to. Private, loopback, link-local, multicast
 * and reserved ranges are refused unless `allowPrivate`; metadata addresses always.
 */
export function addressAllowed(address: string, allowPrivate = false): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  const [addr, type] = v4 ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
  if (metadata.check(addr, type)) return false;
  if (allowPrivate) return true;
  return !blocked.check(addr, type);
}

/** Parses and checks a URL's form (http or https, a host, no credentials); throws `invalid_url`. */
export function parseOutboundUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('invalid_url', 'not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundError('invalid_url', 'only http and https URLs are allowed');
  if (!url.hostname) throw new OutboundError('invalid_url', 'the URL has no host');
  if (url.username || url.password) throw new OutboundError('invalid_url', 'credentials in the URL are not allowed');
  return url;
}

function hostOf(url: URL): string {
  // new URL keeps IPv6 literals in brackets.
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Resolves `url`'s host and checks every address it has (one bad address fails the lot: the
 * resolver could hand out either). Returns the address to connect to.
 */
export async function resolveOutbound(url: URL, allowPrivate = false, lookup: HostLookup = systemLookup): Promise<{ address: string; family: number }> {
  const host = hostOf(url);
  const literal = isIP(host);
  if (literal) {
    if (!addressAllowed(host, allowPrivate)) throw new OutboundError('blocked_address', `${host} is a private or reserved address`);
    return { address: host, family: literal };
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    if (!allowPrivate) throw new OutboundError('blocked_address', `${host} is a private or reserved address`);
  }
  const addresses = await lookup(host);
  if (addresses.length === 0) throw new OutboundError('dns_failed', `${host} has no addresses`);
  for (const a of addresses) {
    if (!addressAllowed(a.address, allowPrivate)) throw new OutboundError('blocked_address', `${host} resolves to a private or reserved address`);
  }
  return addresses[0]!;
}

/** Checks that a URL could be fetched now (form and addresses): for validating a URL a user gives. */
export async function checkOutboundUrl(raw: string, options: { allowPrivate?: boolean } = {}): Promise<URL> {
  const url = parseOutboundUrl(raw);
  await resolveOutbound(url, options.allowPrivate);
  return url;
}

// Keep-alive pools: a socket is checked when it is made, and a connected socket cannot be rebound.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 30_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 30_000 }),
};

/**
 * Sends one request to a user-chosen URL safely (see the file's comment). Resolves with any HTTP
 * status, 3xx included unless `maxRedirects` allows following; rejects with an OutboundError when
 * there is no answer in time, the target is refused, or the answer is larger than allowed.
 */
export async function outboundFetch(request: OutboundRequest): Promise<OutboundResponse> {
  const started = performance.now();
  const timeoutMs = request.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  let url = parseOutboundUrl(request.url);
  let method = request.method ?? (request.body === undefined ? 'GET' : 'POST');
  let body = request.body;
  let headers = { ...request.headers };
  for (let hop = 0; ; hop++) {
    const answer = await once({ url, method, headers, body, signal, timeoutMs, maxResponseBytes: request.maxResponseBytes ?? 1024 * 1024, truncate: request.truncate ?? false, allowPrivate: request.allowPrivate ?? false, lookup: request.lookup ?? systemLookup });
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status < 400 && location && (request.maxRedirects ?? 0) > 0) {
      if (hop >= (request.maxRedirects ?? 0)) throw new OutboundError('too_many_redirects', `more than ${request.maxRedirects} redirects`);
      const next = parseOutboundUrl(new URL(location, url).toString());
      // 303 (and, as browsers do, 301/302 after a POST) turn into a GET without a body.
      if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
      }
      // Credentials for one host are not sent to another.
      if (next.host !== url.host) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization' && k.toLowerCase() !== 'cookie'));
      url = next;
      continue;
    }
    return { ...answer, url: url.toString(), latencyMs: Math.round(performance.now() - started) };
  }
}

async function once(o: {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  signal: AbortSignal;
  timeoutMs: number;
  maxResponseBytes: number;
  truncate: boolean;
  allowPrivate: boolean;
  lookup: HostLookup;
}): Promise<Omit<OutboundResponse, 'url' | 'latencyMs'>> {
  const abortError = () => new OutboundError('timeout', `no complete answer within ${o.timeoutMs} ms`);
  if (o.signal.aborted) throw abortError();
  const resolved = await Promise.race([
    resolveOutbound(o.url, o.allowPrivate, o.lookup),
    new Promise<never>((_, reject) => o.signal.addEventListener('abort', () => reject(abortError()), { once: true })),
  ]);
  // The connection uses the checked address, whatever DNS says a moment later.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (err: null, addresses: LookupAddress[]) => void)(null, [resolved]);
    else callback(null, resolved.address, resolved.family);
  };
  const transport = o.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: OutboundError) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err);
    };
    const onAbort = () => fail(abortError());
    o.signal.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { 'user-agent': 'MMD-Outbound/1', ...o.headers };
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    const req = transport.request(
      o.url,
      { method: o.method, headers, lookup: pinned, agent: agents[o.url.protocol as 'http:' | 'https:'], servername: isIP(hostOf(o.url)) ? undefined : hostOf(o.url) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > o.maxResponseBytes && o.truncate) {
            chunks.push(chunk.subarray(0, chunk.length - (size - o.maxResponseBytes)));
            if (settled) return;
            settled = true;
            o.signal.removeEventListener('abort', onAbort);
            res.destroy();
            req.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), address: resolved.address });
            return;
          }
          if (size > o.maxResponseBytes) {
            res.destroy();
            fail(new OutboundError('response_too_large', `the answer is larger than ${o.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          o.signal.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), address: resolved.address });
        });
        res.on('error', () => fail(new OutboundError('connection_failed', 'the connection broke while reading the answer')));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => fail(new OutboundError('connection_failed', `${err.code ?? 'error'}: ${err.message}`)));
    if (o.body !== undefined) req.end(o.body);
    else req.end();
  });
}
