/**
 * MMD's configuration: one schema, read once from `MMD_*` environment variables and an optional
 * JSON file (`MMD_CONFIG_FILE`), every invalid setting reported together, then frozen.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  host: Type.String({ minLength: 1, default: '0.0.0.0' }),
  dataDir: Type.String({ minLength: 1, default: './data' }),
  /** postgres://… selects PostgreSQL; empty means SQLite at `${dataDir}/mmd.sqlite`. */
  databaseUrl: Type.String({ default: '' }),
  /** PostgreSQL schema holding MMD's tables (created if missing); lets several MMDs share a database. */
  databaseSchema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'public' }),
  /**
   * PostgreSQL: how long a request waits for a connection (the database unreachable, or every
   * pooled connection busy) before it is answered 503 `unavailable`.
   */
  databaseConnectTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
  /**
   * PostgreSQL: the longest one statement may run (statement_timeout; migrations are exempt), and,
   * 5 s later, how long the server waits for an answer on a connection that went silent. 0: no limit.
   */
  databaseStatementTimeoutMs: Type.Integer({ minimum: 0, default: 60_000 }),
  /**
   * redis://… (or rediss://) turns on what several MMD processes need to act as one: live delivery
   * across API processes, shared rate limits and typing, jobs on BullMQ. Empty: one process.
   */
  redisUrl: Type.String({ default: '', pattern: '^(rediss?://\\S+)?$' }),
  /**
   * Whom to believe about the client's address (X-Forwarded-For): `false` (nobody: the peer is the
   * client), `true` (anyone: only behind a proxy that overwrites the header), a number of proxy
   * hops, or a comma-separated list of your proxies' addresses and CIDR ranges. See docs/security.md.
   */
  trustProxy: Type.String({ default: 'false' }),
  logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  /** `auto`: readable lines (pino-pretty) when stdout is a terminal, JSON lines otherwise. */
  logFormat: Type.Enum(['auto', 'json', 'pretty'], { default: 'auto' }),
  /**
   * Bearer token Prometheus must present at GET /metrics (at least 32 characters). Empty: metrics
   * are served only to this machine's loopback address, never through a proxy (docs/security.md).
   */
  metricsToken: Type.String({ default: '' }),
  /** Largest JSON body accepted, in bytes. Messages are at most 4,096 characters. */
  bodyLimit: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 64 * 1024 }),
  /** SQLite durability: FULL fsyncs every commit, so an acknowledged write survives power loss too. */
  sqliteSynchronous: Type.Enum(['full', 'normal'], { default: 'full' }),
  /**
   * How much the JavaScript heap may grow past its live size before V8 collects it, in percent
   * (see main.ts boundHeapGrowth); 0 leaves V8's own policy, which trades memory for fewer collections.
   */
  heapGrowingPercent: Type.Integer({ minimum: 0, maximum: 1000, default: 30 }),
  /** Failed-or-not login attempts allowed per handle and address in one window. */
  loginRateLimit: Type.Integer({ minimum: 1, default: 10 }),
  /**
   * Login attempts allowed per address in one window, whatever the handles: trying one password
   * on many handles costs the server an Argon2 hash each, so it is capped too.
   */
  loginAddressRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  /** A device token unused for this many days stops working (`session_expired`): sign in again. */
  deviceIdleDays: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  /** Accounts one address may create per window. */
  signupRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  rateLimitWindowMs: Type.Integer({ minimum: 1000, default: 60_000 }),
  /** Per account and window (rateLimitWindowMs), see http/business-limits.ts: segment counts. */
  businessCountRateLimit: Type.Integer({ minimum: 1, default: 60 }),
  /** Contact list pages and single contacts. */
  businessReadRateLimit: Type.Integer({ minimum: 1, default: 600 }),
  /** Inbox notes and replies. */
  inboxWriteRateLimit: Type.Integer({ minimum: 1, default: 120 }),
  /** An import's error-report CSV. */
  importReportRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  /** Argon2id cost. The defaults follow OWASP's minimum (19 MiB, 2 passes). */
  argon2MemoryKib: Type.Integer({ minimum: 1024, default: 19_456 }),
  argon2Iterations: Type.Integer({ minimum: 1, default: 2 }),
  /**
   * Hash-only protection (POST /v1/safety/protect) is anonymous, so every limit is on the server's
   * side: requests per address per window, signals (hashed images + videos) per request, per
   * address per UTC day and for everyone together per UTC day.
   */
  protectRequestsPerWindow: Type.Integer({ minimum: 1, default: 10 }),
  protectMaxSignalsPerSubmission: Type.Integer({ minimum: 1, maximum: 25, default: 20 }),
  protectMaxSignalsPerAddressPerDay: Type.Integer({ minimum: 1, default: 60 }),
  protectMaxSignalsPerDay: Type.Integer({ minimum: 1, default: 5000 }),
  /**
   * The case page (reference + key: view, share, withdraw) per address per window. It polls every
   * few seconds while a shared case can change, so the default leaves room for a few open tabs.
   */
  casePageRequestsPerWindow: Type.Integer({ minimum: 1, default: 90 }),
  /**
   * Off (default): nothing a protection case matches is removed or blocked before a moderator
   * confirms the case. On: an item that matches a case AND a bank marked trusted is blocked
   * (new upload) or removed (already shared) at once, the trusted source standing in for the
   * moderator; everything else still waits.
   */
  protectTrustedAutoAction: Type.Boolean({ default: false }),
  /**
   * Friction on what spreads too fast (messaging/spread-velocity.ts). A picture's or video's
   * near-duplicate cluster is at a tier when the new chats it reached in the last minute, or in
   * the last hour, reach that tier's threshold (0 turns a threshold off): 1 labels it "spreading
   * fast"; 2 asks the sharer to confirm; 3 also lets each person take it to one new chat per
   * cooldown; 4 holds every new share for review and alerts the safety team.
   */
  /**
   * Forward limits (messaging/forward-limits.ts), as WhatsApp's: chats one message or picture may
   * reach per person per minute, and once it was forwarded many times (5 hops); 0 turns one off.
   */
  spreadForwardChatsPerMinute: Type.Integer({ minimum: 0, maximum: 1000, default: 5 }),
  spreadManyTimesChatsPerMinute: Type.Integer({ minimum: 0, maximum: 1000, default: 1 }),
  spreadFastChatsPerMinute: Type.Integer({ minimum: 0, default: 10 }),
  spreadFastChatsPerHour: Type.Integer({ minimum: 0, default: 60 }),
  spreadConfirmChatsPerMinute: Type.Integer({ minimum: 0, default: 20 }),
  spreadConfirmChatsPerHour: Type.Integer({ minimum: 0, default: 150 }),
  spreadCooldownChatsPerMinute: Type.Integer({ minimum: 0, default: 40 }),
  spreadCooldownChatsPerHour: Type.Integer({ minimum: 0, default: 300 }),
  spreadHoldChatsPerMinute: Type.Integer({ minimum: 0, default: 100 }),
  spreadHoldChatsPerHour: Type.Integer({ minimum: 0, default: 1000 }),
  /** At the cooldown tier (and for accounts rate-limited by the safety team): seconds between new chats per person and picture. */
  spreadCooldownSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
  /** Inbound WebSocket frames allowed per connection per second before it is closed. */
  wsFramesPerSecond: Type.Integer({ minimum: 1, default: 50 }),
  /** How long a callback button tap waits for the bot's answer, and how long the bot may answer (ms). */
  interactiveCallbackWaitMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 15_000 }),
  /** A poll's votes within this window become one `poll.updated` event with the latest counts (ms). */
  pollCoalesceMs: Type.Integer({ minimum: 10, maximum: 10_000, default: 250 }),
  /**
   * Telegram path: how long sendPhoto and friends wait for the upload to be processed before
   * answering (Telegram answers at once; a webhook handler waiting on its own send must not time out).
   */
  telegramMediaWaitMs: Type.Integer({ minimum: 0, maximum: 120_000, default: 5_000 }),

  // HTTP connections. Node's own defaults let a client hold a connection open for ever by sending
  // a body one byte at a time; these cut slow headers, trickling bodies and idle sockets.
  /** Time allowed for a request's headers to arrive. */
  httpHeadersTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Time allowed for a whole request (headers and body) to arrive; larger files go by tus, in chunks. */
  httpRequestTimeoutMs: Type.Integer({ minimum: 100, default: 120_000 }),
  /** A request body must deliver at least httpBodyMinBytesPerSecond over each window this long, or it is cut. */
  httpBodyTimeoutMs: Type.Integer({ minimum: 100, default: 15_000 }),
  httpBodyMinBytesPerSecond: Type.Integer({ minimum: 0, default: 1024 }),
  /** An idle keep-alive connection is closed after this long. */
  httpKeepAliveTimeoutMs: Type.Integer({ minimum: 100, default: 5_000 }),
  /** A socket with no traffic at all for this long is closed (above the 60 s long-poll; WebSockets are exempt). */
  httpIdleTimeoutMs: Type.Integer({ minimum: 100, default: 120_000 }),

  // Media. Limits default to what phones produce; larger than 100 MB needs resumable (tus) upload.
  mediaMaxImageBytes: Type.Integer({ minimum: 1, default: 30 * 1024 * 1024 }),
  mediaMaxImagePixels: Type.Integer({ minimum: 1, default: 100_000_000 }),
  mediaMaxVideoBytes: Type.Integer({ minimum: 1, default: 2 * 1024 * 1024 * 1024 }),
  mediaMaxVideoSeconds: Type.Integer({ minimum: 1, default: 3 * 60 * 60 }),
  mediaMaxAudioBytes: Type.Integer({ minimum: 1, default: 500 * 1024 * 1024 }),
  mediaMaxDocumentBytes: Type.Integer({ minimum: 1, default: 2 * 1024 * 1024 * 1024 }),
  mediaMaxSingleUploadBytes: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024 }),
  /**
   * How long signed media URLs work. Short, because a copied link works for anyone until then;
   * clients ask for the item again before it runs out (the web app does so at four fifths).
   */
  mediaUrlTtlSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 600 }),
  /** Keep the uploaded original (never served to others). Off by default: less to leak. */
  mediaKeepOriginals: Type.Boolean({ default: false }),
  /**
   * Content credentials (C2PA) are read from originals up to this size; larger files keep only the
   * XMP digital source type. Manifests are untrusted input: the parser also stops after
   * mediaProvenanceTimeoutMs. Remote manifests are never fetched.
   */
  mediaProvenanceMaxBytes: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }),
  mediaProvenanceTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
  /**
   * Pixels decoded at once by this process's media jobs (images count their pixels, videos eight
   * frames); a job waits for its share. The default lets one picture at the pixel limit run alone.
   */
  mediaDecodePixelBudget: Type.Integer({ minimum: 1, default: 100_000_000 }),
  /** Uploads one account may make per window (single, multipart and tus alike). */
  mediaUploadRateLimit: Type.Integer({ minimum: 1, default: 200 }),
  mediaUploadRateWindowMs: Type.Integer({ minimum: 1000, default: 60 * 60 * 1000 }),
  /** Items one account may have waiting or processing at once; more uploads wait for those to finish. */
  mediaMaxProcessingPerAccount: Type.Integer({ minimum: 1, default: 20 }),
  /** Template previews one account may ask for per window (rateLimitWindowMs), per business it acts for. */
  templatePreviewsPerWindow: Type.Integer({ minimum: 1, default: 30 }),
  /** New personalised renders (each a stored media item) one business's previews may make per hour; cached ones are free. */
  templatePreviewRendersPerHour: Type.Integer({ minimum: 1, default: 60 }),
  /** Message searches one account may run per window (rateLimitWindowMs); past it, 429 rate_limited. The web app searches as people type (after a 300 ms pause): 120 a minute leaves room for that. Chat gallery pages are counted apart, with the same limit. */
  searchRateLimit: Type.Integer({ minimum: 1, default: 120 }),
  /** Largest profile photo upload (bytes); it is processed while the person waits. */
  profilePhotoMaxBytes: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
  /** Largest profile photo in pixels, checked before decoding. */
  profilePhotoMaxPixels: Type.Integer({ minimum: 1, default: 40_000_000 }),
  /** Display name / about changes one account may make per hour (each writes an event per chat it is in). */
  profileEditsPerHour: Type.Integer({ minimum: 1, default: 30 }),
  /** Profile photo changes one account may make per hour. */
  profilePhotoChangesPerHour: Type.Integer({ minimum: 1, default: 10 }),
  /**
   * How often each API process re-asserts who is online on it (presence); someone is shown offline
   * 3 beats after the last one, so a killed process's people go offline within 3 beats.
   */
  presenceHeartbeatMs: Type.Integer({ minimum: 100, default: 30_000 }),
  /** People searches (GET /v1/people) one account may run per window (rateLimitWindowMs). */
  peopleSearchRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  /** Invite-link previews and joins (GET /v1/invites/{token}, POST …/join) one caller may make per window (rateLimitWindowMs), each. */
  inviteRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  /** Budget adaptations one account may request per window (rateLimitWindowMs). */
  mediaAdaptRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  /** Adapted copies kept per item; the least recently made is evicted past this. */
  mediaAdaptCopiesPerItem: Type.Integer({ minimum: 1, default: 6 }),
  /** A resumable (tus) upload not finished within this long is deleted with its bytes. */
  mediaResumableExpiryMs: Type.Integer({ minimum: 1000, default: 24 * 60 * 60 * 1000 }),
  /** PATCHes (pieces) one resumable upload may arrive in (the SDK sends 8 MiB pieces: 8 GiB at 1,024). */
  mediaResumableMaxParts: Type.Integer({ minimum: 1, maximum: 100_000, default: 1024 }),
  /** How often expired resumable uploads are swept. */
  mediaResumableSweepMs: Type.Integer({ minimum: 100, default: 60 * 60 * 1000 }),
  /** HMAC key for signed URLs; empty means one generated once and kept in the database. */
  signingSecret: Type.String({ default: '' }),
  /**
   * What this process does: `api` serves HTTP and WebSocket, `worker` runs background jobs (media
   * processing). Embedded MMD runs both; a scaled-out deployment runs several of each.
   */
  roles: Type.String({ pattern: '^(api|worker)(,(api|worker))*$', default: 'api,worker' }),
  /** Background jobs run at once in this process; 0 means one per core. */
  workerConcurrency: Type.Integer({ minimum: 0, default: 0 }),
  /**
   * Where background jobs live: `database` (MMD's own database, the default: nothing else to run)
   * or `bullmq` (BullMQ on MMD_REDIS_URL, for a cluster: workers take jobs from Redis without
   * polling the database). With `bullmq` each kind of work (media and automation, link previews,
   * webhooks, template renders, imports, campaigns, federation) is a BullMQ queue of its own, and
   * every enqueue is first written to the database (an outbox), so none that was acknowledged is
   * lost. Redis should persist (appendonly) once it holds jobs: docs/operations.md.
   */
  queue: Type.Enum(['database', 'bullmq'], { default: 'database' }),
  /** A job whose worker stops heartbeating (crashed) is retried by another after this long. */
  jobLeaseMs: Type.Integer({ minimum: 1000, default: 30_000 }),
  /**
   * Outbound HTTP to user-chosen URLs (webhooks, Telegram's setWebhook, files fetched by URL) may
   * reach private, loopback and link-local addresses. Off by default (SSRF); for receivers on the
   * operator's own network, and for tests. Cloud metadata addresses stay refused.
   */
  outboundAllowPrivate: Type.Boolean({ default: false }),
  /**
   * The https origin people reach this server at (https://mmd.example.com). Tracked links in
   * template messages (url and call buttons) point there; empty: url buttons carry their URL
   * untracked and call buttons copy the number.
   */
  publicUrl: Type.String({ default: '', pattern: '^(https://[^/?#\\s]+)?$' }),
  /** Deadline for one outbound request (DNS, connect, headers and body together). */
  outboundTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /**
   * Web Push: also accept `http://` subscription endpoints on this machine's loopback address
   * (127.0.0.1, ::1, localhost) and push to them. Only for tests and development with a local
   * push service stand-in; browsers' real push services are all https on public addresses.
   */
  pushAllowLoopback: Type.Boolean({ default: false }),
  /**
   * VAPID `sub` claim: how a push service reaches the operator (mailto: or https:). Empty: the
   * public URL when set, else mailto:postmaster@localhost.
   */
  pushSubject: Type.String({ default: '', pattern: '^((mailto:|https://)\\S+)?$' }),
  /** Pushes sent at once in this process (each waits on a push service). */
  pushConcurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
  /** Subscription registrations one account may make per rateLimitWindowMs. */
  pushSubscribeRateLimit: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
  /** Link previews: the server reads the page of the first link in a message (messaging/link-previews.ts). */
  linkPreviews: Type.Boolean({ default: true }),
  /** Page fetches for link previews per sender per minute (a URL's page is cached a day: those are free). */
  linkPreviewsPerMinute: Type.Integer({ minimum: 0, maximum: 10_000, default: 20 }),
  /** Link previews made at once in this process (each waits on someone else's web server). */
  linkPreviewConcurrency: Type.Integer({ minimum: 1, maximum: 256, default: 4 }),
  /**
   * Federation: how often each connected peer is asked for messages this instance may have missed
   * (pull catch-up; pushes arrive at once). 0: only at start and when an operator asks.
   */
  federationPullIntervalMs: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 300_000 }),
  /** HMA-compatible exchange: FetchHashes requests per consumer (and address) a minute. */
  federationHmaFetchesPerMinute: Type.Integer({ minimum: 1, maximum: 100_000, default: 120 }),
  /** Webhook deliveries running at once in this process, over all receivers. */
  webhookConcurrency: Type.Integer({ minimum: 1, maximum: 1000, default: 32 }),
  /**
   * Campaign sender lanes per run (parallel jobs on the campaign queue, sharing the run's
   * throttle); the campaign worker runs this many jobs at once per process, apart from media work.
   */
  campaignLanes: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  campaignConcurrency: Type.Integer({ minimum: 1, maximum: 256, default: 4 }),
  /**
   * Recipients a sender lane claims at once (capped by the throttle's tokens). Their messages are
   * written in one transaction: 500 holds the write lock for about a tenth of a second.
   */
  campaignBatchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
  /** A claimed recipient is taken over by another lane after this long (a lane killed mid-batch). */
  campaignClaimMs: Type.Integer({ minimum: 1000, default: 60_000 }),
  /** Requests in flight to one receiver at once (per process): a slow receiver only slows itself. */
  webhookPerReceiverConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  /** First retry delay of a failed delivery; doubles per attempt (with jitter) up to webhookRetryMaxDelayMs. */
  webhookRetryBaseMs: Type.Integer({ minimum: 10, default: 1_000 }),
  webhookRetryMaxDelayMs: Type.Integer({ minimum: 10, default: 60 * 60 * 1000 }),
  /** A delivery still failing this long after it was created is given up (status `failed`; replay re-sends it). */
  webhookRetryWindowMs: Type.Integer({ minimum: 100, default: 24 * 60 * 60 * 1000 }),
  /** A webhook failing without a single success for this long (and at least 5 attempts) is disabled; its owner is told. */
  webhookDisableAfterMs: Type.Integer({ minimum: 100, default: 24 * 60 * 60 * 1000 }),
  /** Webhooks one account may have. */
  webhookMaxPerAccount: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  /** Automation answers at most this many messages per conversation per automationReplyWindowMs (a chatty contact or a loop stops there). */
  automationRepliesPerWindow: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  automationReplyWindowMs: Type.Integer({ minimum: 1000, default: 10 * 60 * 1000 }),
  /** Bots one person may own. */
  botMaxPerOwner: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  /** Largest contact import file (CSV/JSON), spooled to dataDir/imports while its job runs. */
  importMaxBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024 * 1024 }),
  /** Rows an import writes per transaction: a crash resumes after the last committed batch. */
  importBatchRows: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  /** Bytes all businesses' import files may take on disk together (an upload still streaming counts at importMaxBytes). */
  importSpoolBudgetBytes: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 * 1024 }),
  /** Days an import's per-row error report (which quotes handles and values from the file) is kept after the import ends. */
  importReportDays: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  /** Pause after each import batch, so a long import leaves the database to live traffic between batches (SQLite has one writer). */
  importBatchPauseMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
  /** Imports running at once in this process (their own queue: media and messages never wait behind one). */
  importConcurrency: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
  /** Imports one business may have queued or running at once. */
  importMaxPending: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  /** Where blobs live: `local` under dataDir/blobs, or an S3-compatible bucket. */
  blobStore: Type.Enum(['local', 's3'], { default: 'local' }),
  s3Endpoint: Type.String({ default: '' }),
  s3Region: Type.String({ default: 'us-east-1' }),
  s3Bucket: Type.String({ default: '' }),
  s3AccessKeyId: Type.String({ default: '' }),
  s3SecretAccessKey: Type.String({ default: '' }),
  s3ForcePathStyle: Type.Boolean({ default: true }),
});

export type Config = Readonly<Static<typeof ConfigSchema>>;

/** Environment variable name for each config key: port → MMD_PORT, dataDir → MMD_DATA_DIR. */
function envName(key: string): string {
  return `MMD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Parses configuration from the environment (and the file it names). Throws a ConfigError that
 * lists every bad or unknown setting at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  const keys = Object.keys(ConfigSchema.properties);
  const file = env.MMD_CONFIG_FILE;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`MMD_CONFIG_FILE ${file}: must hold a JSON object`);
      } else {
        for (const [k, v] of Object.entries(parsed)) {
          if (keys.includes(k)) raw[k] = v;
          else problems.push(`MMD_CONFIG_FILE ${file}: unknown key "${k}"`);
        }
      }
    } catch (err) {
      problems.push(`MMD_CONFIG_FILE ${file}: ${(err as Error).message}`);
    }
  }
  // The CLI's own settings (MMD_SERVER, MMD_TOKEN, MMD_CONFIG_DIR) and the test suite's live in the
  // same environment; they are not server settings but not mistakes either.
  const known = new Set([...keys.map(envName), 'MMD_CONFIG_FILE', 'MMD_SERVER', 'MMD_TOKEN', 'MMD_CONFIG_DIR', 'MMD_TEST_POSTGRES_URL', 'MMD_TEST_REDIS_URL']);
  for (const name of Object.keys(env)) {
    if (name.startsWith('MMD_') && !known.has(name)) problems.push(`${name}: not a setting MMD knows`);
  }
  for (const key of keys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, overrides);
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const key = error.instancePath.replace(/^\//, '');
    problems.push(`${key ? envName(key) : 'config'}: ${error.message} (got ${JSON.stringify((converted as Record<string, unknown>)[key])})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = converted as Static<typeof ConfigSchema>;
  const databaseUrl = config.databaseUrl;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError([`MMD_DATABASE_URL: must start with postgres:// (leave it empty for SQLite)`]);
  }
  if (config.metricsToken && config.metricsToken.length < 32) throw new ConfigError(['MMD_METRICS_TOKEN: at least 32 characters (e.g. `openssl rand -hex 24`), or empty for loopback-only metrics']);
  trustProxyOption(config.trustProxy);
  if (config.blobStore === 's3' && !config.s3Bucket) throw new ConfigError(['MMD_S3_BUCKET: required when MMD_BLOB_STORE=s3']);
  if (config.queue === 'bullmq' && !config.redisUrl) throw new ConfigError(['MMD_QUEUE: bullmq needs MMD_REDIS_URL']);
  return Object.freeze({ ...config, dataDir: path.resolve(config.dataDir) });
}

/**
 * MMD_TRUST_PROXY as Fastify's `trustProxy`: a boolean, a hop count, or a list of addresses and
 * CIDR ranges (checked here, so a typo is a config error, not a proxy trusted by accident).
 */
export function trustProxyOption(value: string): boolean | string | ((address: string, hop: number) => boolean) {
  const v = value.trim();
  if (v === 'false' || v === '') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) {
    // A hop count: the nearest `hops` addresses in X-Forwarded-For are proxies (as Express does).
    const hops = Number(v);
    return (_address, hop) => hop < hops;
  }
  const entries = v.split(',').map((e) => e.trim());
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!family || !bitsOk || extra !== undefined) {
      throw new ConfigError([`MMD_TRUST_PROXY: "${entry}" is not an address or CIDR range (expected false, true, a hop count or a comma-separated list like 10.0.0.0/8,::1)`]);
    }
  }
  return entries.join(',');
}
