/**
 * MmdClient: every MMD API call as a typed method. The CLI, the web app and the end-to-end tests
 * all talk to the server through it, so the API is exercised the way users exercise it.
 */
import type {
  Account,
  AccountKind,
  ApiKey,
  ApiScope,
  Conversation,
  ConversationKind,
  CreateAccountReply,
  CreateApiKeyReply,
  CreateSessionReply,
  Device,
  HistoryReply,
  MediaItem,
  Member,
  Message,
  Problem,
  Receipts,
  UpdatesReply,
  UploadReply,
  AddSignalsBody,
  AddSignalsReply,
  AuditList,
  Bank,
  BankFormat,
  BankList,
  CreateBankBody,
  CreateReportBody,
  DecisionBody,
  DecisionReply,
  ImportReply,
  MatchReply,
  ProtectBody,
  ProtectCase,
  Report,
  Review,
  ReviewList,
  Takedown,
  TakedownBody,
  TakedownList,
  TakedownRecord,
} from '@mmd/contracts';
import { MmdError } from './errors.ts';
import { uploadResumable } from './upload-tus.ts';
import { cancelled, uploadWithXhr } from './upload-xhr.ts';
import { type Stream, type StreamOptions, type WebSocketFactory, openStream } from './stream.ts';

export interface ClientOptions {
  /** e.g. http://localhost:8080 */
  baseUrl: string;
  /** A device token or API key. */
  token?: string;
  fetch?: typeof fetch;
  /** How to open a WebSocket; defaults to the global WebSocket, else the `ws` package. */
  webSocket?: WebSocketFactory;
}

export class MmdClient {
  readonly baseUrl: string;
  token: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly webSocket: WebSocketFactory | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.webSocket = options.webSocket;
  }

  /** A client for the same server with another token. */
  as(token: string): MmdClient {
    return new MmdClient({ baseUrl: this.baseUrl, token, fetch: this.fetchImpl, webSocket: this.webSocket });
  }

  /** Low-level call: JSON in, JSON out, MmdError on any non-2xx answer. */
  async request<T>(method: string, path: string, body?: unknown, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: init.signal });
    } catch (err) {
      throw new MmdError(0, null, `cannot reach ${this.baseUrl}: ${(err as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // Not problem+json (a proxy's error page, say): keep the status.
      }
      throw new MmdError(response.status, problem, `HTTP ${response.status}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // Accounts and devices
  createAccount(input: { handle: string; password: string; kind?: AccountKind; device_name?: string }) {
    return this.request<CreateAccountReply>('POST', '/v1/accounts', input);
  }
  login(input: { handle: string; password: string; device_name?: string }) {
    return this.request<CreateSessionReply>('POST', '/v1/sessions', input);
  }
  me() {
    return this.request<Account>('GET', '/v1/me');
  }
  async devices() {
    return (await this.request<{ devices: Device[] }>('GET', '/v1/devices')).devices;
  }
  revokeDevice(id: string) {
    return this.request<void>('DELETE', `/v1/devices/${enc(id)}`);
  }
  createApiKey(input: { name: string; scopes: ApiScope[] }) {
    return this.request<CreateApiKeyReply>('POST', '/v1/api-keys', input);
  }
  async apiKeys() {
    return (await this.request<{ api_keys: ApiKey[] }>('GET', '/v1/api-keys')).api_keys;
  }
  revokeApiKey(id: string) {
    return this.request<void>('DELETE', `/v1/api-keys/${enc(id)}`);
  }

  // Conversations
  createConversation(input: { kind: ConversationKind; members?: string[]; title?: string; handle?: string }) {
    return this.request<Conversation>('POST', '/v1/conversations', input);
  }
  /** Opens (or returns the existing) direct chat with a handle. */
  openDirect(handle: string) {
    return this.createConversation({ kind: 'direct', members: [handle] });
  }
  async conversations() {
    return (await this.request<{ conversations: Conversation[] }>('GET', '/v1/conversations')).conversations;
  }
  conversation(id: string) {
    return this.request<Conversation>('GET', `/v1/conversations/${enc(id)}`);
  }
  findChannel(handle: string) {
    return this.request<Conversation>('GET', `/v1/channels/${enc(handle.replace(/^@/, ''))}`);
  }
  join(conversationId: string) {
    return this.request<Conversation>('POST', `/v1/conversations/${enc(conversationId)}/join`);
  }
  members(conversationId: string, options: { after?: string; limit?: number } = {}) {
    return this.request<{ members: Member[]; next: string | null }>('GET', `/v1/conversations/${enc(conversationId)}/members${query(options)}`);
  }
  addMember(conversationId: string, handle: string) {
    return this.request<Member>('POST', `/v1/conversations/${enc(conversationId)}/members`, { handle });
  }
  removeMember(conversationId: string, accountId: string) {
    return this.request<void>('DELETE', `/v1/conversations/${enc(conversationId)}/members/${enc(accountId)}`);
  }
  setRole(conversationId: string, accountId: string, role: 'admin' | 'member') {
    return this.request<void>('PATCH', `/v1/conversations/${enc(conversationId)}/members/${enc(accountId)}`, { role });
  }

  // Messages
  send(conversationId: string, input: { text?: string; reply_to?: string; forward_of?: string; idempotency_key?: string; media?: string[] }) {
    return this.request<Message>('POST', `/v1/conversations/${enc(conversationId)}/messages`, input);
  }
  history(conversationId: string, options: { after?: number; before?: number; limit?: number } = {}) {
    return this.request<HistoryReply>('GET', `/v1/conversations/${enc(conversationId)}/messages${query(options)}`);
  }
  message(id: string) {
    return this.request<Message>('GET', `/v1/messages/${enc(id)}`);
  }
  edit(id: string, text: string) {
    return this.request<Message>('PATCH', `/v1/messages/${enc(id)}`, { text });
  }
  deleteMessage(id: string) {
    return this.request<void>('DELETE', `/v1/messages/${enc(id)}`);
  }
  react(id: string, emoji: string) {
    return this.request<Message>('PUT', `/v1/messages/${enc(id)}/reactions`, { emoji });
  }
  unreact(id: string, emoji: string) {
    return this.request<Message>('DELETE', `/v1/messages/${enc(id)}/reactions/${enc(emoji)}`);
  }
  markRead(conversationId: string, upToSeq: number) {
    return this.request<{ read_seq: number }>('POST', `/v1/conversations/${enc(conversationId)}/read`, { up_to_seq: upToSeq });
  }
  receipts(messageId: string) {
    return this.request<Receipts>('GET', `/v1/messages/${enc(messageId)}/receipts`);
  }

  // Media
  /**
   * Uploads a file in one request (raw body); use resumable uploads (tus, /v1/uploads) for large files.
   * With `onProgress`, browsers upload through XMLHttpRequest (the only API with upload progress) and
   * report bytes sent; elsewhere (Node) the body goes through fetch and no progress is reported.
   * Aborting `signal` rejects with an MmdError (status 0) saying the upload was cancelled.
   */
  async upload(
    data: Uint8Array | Blob,
    options: {
      filename?: string;
      contentType?: string;
      /** Bytes sent so far of the total; browsers only (XMLHttpRequest). */
      onProgress?: (sent: number, total: number) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<UploadReply> {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/octet-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const path = `/v1/media${options.filename ? `?filename=${encodeURIComponent(options.filename)}` : ''}`;
    if (options.onProgress && typeof XMLHttpRequest !== 'undefined') {
      return uploadWithXhr<UploadReply>({ url: `${this.baseUrl}${path}`, headers, body: data, onProgress: options.onProgress, signal: options.signal, baseUrl: this.baseUrl });
    }
    if (options.signal?.aborted) throw cancelled();
    try {
      const response = await this.raw(path, { method: 'POST', headers, body: data as BodyInit, signal: options.signal });
      return (await response.json()) as UploadReply;
    } catch (err) {
      if (options.signal?.aborted) throw cancelled();
      throw err;
    }
  }
  /**
   * Resumable upload (tus): chunked, resumes after a dropped connection, for files above the
   * single-request limit (100 MB by default) up to the per-type limits (2 GB video/documents).
   */
  uploadResumable(
    data: Uint8Array | Blob,
    options: { filename?: string; contentType?: string; onProgress?: (sent: number, total: number) => void; signal?: AbortSignal; chunkSize?: number } = {},
  ): Promise<UploadReply> {
    return uploadResumable(data, { ...options, baseUrl: this.baseUrl, headers: this.auth() });
  }
  media(id: string) {
    return this.request<MediaItem>('GET', `/v1/media/${enc(id)}`);
  }
  /** Polls until the item is ready or failed (processing takes seconds for video). */
  async waitForMedia(id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<MediaItem> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const item = await this.media(id);
      if (item.status !== 'processing') return item;
      if (Date.now() > deadline) throw new MmdError(0, null, `media ${id} still processing after ${options.timeoutMs ?? 120_000} ms`);
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
    }
  }
  /** The item adapted to at most `maxBytes` in one of the accepted MIME types. */
  async adapt(id: string, options: { maxBytes: number; accept?: string[] }): Promise<{ bytes: Uint8Array; mime: string }> {
    const accept = options.accept ? `&accept=${encodeURIComponent(options.accept.join(','))}` : '';
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const response = await this.raw(`/v1/media/${enc(id)}/adapt?max_bytes=${options.maxBytes}${accept}`, { headers });
    return { bytes: new Uint8Array(await response.arrayBuffer()), mime: response.headers.get('content-type') ?? 'application/octet-stream' };
  }
  /** Fetches a (signed) media URL from a MediaItem, relative to the server. */
  fetchFile(url: string, init: RequestInit = {}): Promise<Response> {
    return this.fetchImpl(new URL(url, this.baseUrl).toString(), init);
  }

  /** A request whose non-2xx answer becomes an MmdError; the caller reads the body. */
  private async raw(path: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    } catch (err) {
      throw new MmdError(0, null, `cannot reach ${this.baseUrl}: ${(err as Error).message}`);
    }
    if (!response.ok) {
      const text = await response.text();
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // not problem+json
      }
      throw new MmdError(response.status, problem, `HTTP ${response.status}`);
    }
    return response;
  }

  // Sync
  /** Events after `cursor`; with `timeout` (seconds) waits for one when none is ready. */
  updates(options: { cursor?: number; timeout?: number; limit?: number } = {}, signal?: AbortSignal) {
    return this.request<UpdatesReply>('GET', `/v1/updates${query(options)}`, undefined, { signal });
  }
  /** The newest cursor: read it before loading lists, then `stream({ cursor })` misses nothing. */
  async updatesState(): Promise<number> {
    return (await this.request<{ cursor: number }>('GET', '/v1/updates/state')).cursor;
  }
  ack(cursor: number) {
    return this.request<void>('POST', '/v1/updates/ack', { cursor });
  }

  /** Follows every conversation live over one WebSocket, resuming from `cursor`. */
  stream(options: StreamOptions): Stream {
    const token = this.token;
    if (!token) throw new MmdError(401, null, 'stream needs a token');
    const wsBase = this.baseUrl.replace(/^http/, 'ws');
    const factory = this.webSocket ?? defaultWebSocketFactory();
    return openStream({ ...options, connect: factory, url: (cursor) => `${wsBase}/v1/stream?cursor=${cursor}&token=${encodeURIComponent(token)}` });
  }

  // Trust and safety. Reports: any member. Protection: anyone, no token. The rest: moderators.
  /** Reports a message you can read. */
  report(input: CreateReportBody) {
    return this.request<Report>('POST', '/v1/reports', input);
  }
  createBank(input: CreateBankBody) {
    return this.request<Bank>('POST', '/v1/safety/banks', input);
  }
  async banks() {
    return (await this.request<BankList>('GET', '/v1/safety/banks')).banks;
  }
  bank(id: string) {
    return this.request<Bank>('GET', `/v1/safety/banks/${enc(id)}`);
  }
  /** Adds pasted hashes; the reply names the sweep job that looks for existing copies. */
  addSignals(bankId: string, hashes: AddSignalsBody['hashes']) {
    return this.request<AddSignalsReply>('POST', `/v1/safety/banks/${enc(bankId)}/signals`, { hashes });
  }
  /** Adds a file's hashes (the server hashes it and keeps only the hashes). */
  async addSignalsFromFile(bankId: string, data: Uint8Array | Blob, options: { filename?: string; label?: string } = {}) {
    const form = new FormData();
    if (options.label) form.append('label', options.label);
    form.append('file', data instanceof Blob ? data : new Blob([data as BlobPart]), options.filename ?? 'file');
    return (await (await this.raw(`/v1/safety/banks/${enc(bankId)}/signals/file`, { method: 'POST', headers: this.auth(), body: form })).json()) as AddSignalsReply;
  }
  /** Imports a bank file: `hma` text, `te` (ThreatExchange) or `json` (MMD). */
  async importBank(bankId: string, file: string | Uint8Array, format: BankFormat) {
    const contentType = format === 'hma' ? 'text/plain; charset=utf-8' : 'application/json';
    const response = await this.raw(`/v1/safety/banks/${enc(bankId)}/import?format=${format}`, { method: 'POST', headers: { ...this.auth(), 'content-type': contentType }, body: file as BodyInit });
    return (await response.json()) as ImportReply;
  }
  /** A bank as a file, with the name the server suggests; `skipped` counts signals the format cannot carry (vPDQ in te). */
  async exportBank(bankId: string, format: BankFormat): Promise<{ body: string; contentType: string; filename: string; skipped: number }> {
    const response = await this.raw(`/v1/safety/banks/${enc(bankId)}/export?format=${format}`, { headers: this.auth() });
    const filename = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `bank.${format}`;
    return { body: await response.text(), contentType: response.headers.get('content-type') ?? '', filename, skipped: Number(response.headers.get('x-mmd-skipped') ?? 0) };
  }
  /** Checks a file against every bank. */
  async matchFile(data: Uint8Array | Blob, options: { filename?: string } = {}) {
    const form = new FormData();
    form.append('file', data instanceof Blob ? data : new Blob([data as BlobPart]), options.filename ?? 'file');
    return (await (await this.raw('/v1/safety/match', { method: 'POST', headers: this.auth(), body: form })).json()) as MatchReply;
  }
  reviews(options: { status?: 'open' | 'escalated' | 'closed'; limit?: number; before?: number } = {}) {
    return this.request<ReviewList>('GET', `/v1/safety/reviews${query(options)}`);
  }
  review(id: string) {
    return this.request<Review>('GET', `/v1/safety/reviews/${enc(id)}`);
  }
  /** The blurred preview (JPEG bytes) of an item under review. */
  async reviewPreview(reviewId: string, mediaId: string): Promise<Uint8Array> {
    const response = await this.raw(`/v1/safety/reviews/${enc(reviewId)}/media/${enc(mediaId)}/preview`, { headers: this.auth() });
    return new Uint8Array(await response.arrayBuffer());
  }
  /** The real preview; the server audits every reveal. */
  async revealMedia(reviewId: string, mediaId: string): Promise<Uint8Array> {
    const response = await this.raw(`/v1/safety/reviews/${enc(reviewId)}/media/${enc(mediaId)}/reveal`, { method: 'POST', headers: this.auth() });
    return new Uint8Array(await response.arrayBuffer());
  }
  decideReview(id: string, body: DecisionBody) {
    return this.request<DecisionReply>('POST', `/v1/safety/reviews/${enc(id)}/decision`, body);
  }
  /** Runs a takedown to the end; while it runs, `takedowns()` and `takedownStatus()` show its progress. */
  takedown(body: TakedownBody) {
    return this.request<Takedown>('POST', '/v1/safety/takedowns', body);
  }
  /** Takedowns newest first, with their progress; page back with `before: next_before`. */
  takedowns(options: { status?: TakedownRecord['status']; before?: number; limit?: number } = {}) {
    return this.request<TakedownList>('GET', `/v1/safety/takedowns${query(options)}`);
  }
  takedownStatus(id: string) {
    return this.request<TakedownRecord>('GET', `/v1/safety/takedowns/${enc(id)}`);
  }
  /** The audit log, newest first; `actor` is an account id or `@handle`. */
  audit(options: { action?: string; actor?: string; since?: number; until?: number; before?: number; limit?: number } = {}) {
    return this.request<AuditList>('GET', `/v1/safety/audit${query(options)}`);
  }
  /** Submits hashes computed on this device (see @mmd/phash); returns the case reference. */
  protect(body: ProtectBody) {
    return this.request<ProtectCase>('POST', '/v1/safety/protect', body);
  }
  protectStatus(reference: string) {
    return this.request<ProtectCase>('GET', `/v1/safety/protect/${enc(reference)}`);
  }

  private auth(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }
}

function enc(s: string) {
  return encodeURIComponent(s);
}

function query(options: Record<string, string | number | undefined>) {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined) as [string, string | number][];
  return entries.length ? `?${entries.map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')}` : '';
}

let wsModule: Promise<typeof import('ws')> | null = null;
function defaultWebSocketFactory(): WebSocketFactory {
  const Native = (globalThis as { WebSocket?: new (url: string) => WebSocketLikeCtor }).WebSocket;
  if (Native) return (url) => new Native(url) as unknown as ReturnType<WebSocketFactory>;
  // Node 20 has no global WebSocket: load `ws` lazily so browsers never bundle it.
  wsModule ??= import('ws');
  return (url) => lazySocket(url, wsModule!);
}
type WebSocketLikeCtor = unknown;

/** A WebSocketLike that queues listeners until the `ws` module has loaded. */
function lazySocket(url: string, mod: Promise<typeof import('ws')>): ReturnType<WebSocketFactory> {
  const listeners: [string, (e: { data?: unknown; code?: number; reason?: string }) => void][] = [];
  let real: import('ws').WebSocket | null = null;
  let closeRequested: [number | undefined, string | undefined] | null = null;
  mod.then(({ WebSocket }) => {
    real = new WebSocket(url);
    for (const [type, fn] of listeners) real.addEventListener(type as 'message', fn as never);
    if (closeRequested) real.close(...closeRequested);
  });
  return {
    get readyState() {
      return real ? real.readyState : 0;
    },
    send(data) {
      real?.send(data);
    },
    close(code, reason) {
      if (real) real.close(code, reason);
      else closeRequested = [code, reason];
    },
    addEventListener(type, fn) {
      listeners.push([type, fn]);
      real?.addEventListener(type as 'message', fn as never);
    },
  };
}
