/**
 * MMD's configuration: one schema, read once from `MMD_*` environment variables and an optional
 * JSON file (`MMD_CONFIG_FILE`), every invalid setting reported together, then frozen.
 */
import { readFileSync } from 'node:fs';
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
  logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  /** Largest JSON body accepted, in bytes. Messages are at most 4,096 characters. */
  bodyLimit: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 64 * 1024 }),
  /** SQLite durability: FULL fsyncs every commit, so an acknowledged write survives power loss too. */
  sqliteSynchronous: Type.Enum(['full', 'normal'], { default: 'full' }),
  /** Failed-or-not login attempts allowed per handle and address in one window. */
  loginRateLimit: Type.Integer({ minimum: 1, default: 10 }),
  /** Accounts one address may create per window. */
  signupRateLimit: Type.Integer({ minimum: 1, default: 30 }),
  rateLimitWindowMs: Type.Integer({ minimum: 1000, default: 60_000 }),
  /** Argon2id cost. The defaults follow OWASP's minimum (19 MiB, 2 passes). */
  argon2MemoryKib: Type.Integer({ minimum: 1024, default: 19_456 }),
  argon2Iterations: Type.Integer({ minimum: 1, default: 2 }),
  /** Inbound WebSocket frames allowed per connection per second before it is closed. */
  wsFramesPerSecond: Type.Integer({ minimum: 1, default: 50 }),

  // Media. Limits default to what phones produce; larger than 100 MB needs resumable (tus) upload.
  mediaMaxImageBytes: Type.Integer({ minimum: 1, default: 30 * 1024 * 1024 }),
  mediaMaxImagePixels: Type.Integer({ minimum: 1, default: 100_000_000 }),
  mediaMaxVideoBytes: Type.Integer({ minimum: 1, default: 2 * 1024 * 1024 * 1024 }),
  mediaMaxVideoSeconds: Type.Integer({ minimum: 1, default: 3 * 60 * 60 }),
  mediaMaxAudioBytes: Type.Integer({ minimum: 1, default: 500 * 1024 * 1024 }),
  mediaMaxDocumentBytes: Type.Integer({ minimum: 1, default: 2 * 1024 * 1024 * 1024 }),
  mediaMaxSingleUploadBytes: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024 }),
  /** How long signed media URLs work. */
  mediaUrlTtlSeconds: Type.Integer({ minimum: 10, default: 3600 }),
  /** Keep the uploaded original (never served to others). Off by default: less to leak. */
  mediaKeepOriginals: Type.Boolean({ default: false }),
  /** HMAC key for signed URLs; empty means one generated once and kept in the database. */
  signingSecret: Type.String({ default: '' }),
  /**
   * What this process does: `api` serves HTTP and WebSocket, `worker` runs background jobs (media
   * processing). Embedded MMD runs both; a scaled-out deployment runs several of each.
   */
  roles: Type.String({ pattern: '^(api|worker)(,(api|worker))*$', default: 'api,worker' }),
  /** Background jobs run at once in this process; 0 means one per core. */
  workerConcurrency: Type.Integer({ minimum: 0, default: 0 }),
  /** A job whose worker stops heartbeating (crashed) is retried by another after this long. */
  jobLeaseMs: Type.Integer({ minimum: 1000, default: 30_000 }),
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
  if (config.blobStore === 's3' && !config.s3Bucket) throw new ConfigError(['MMD_S3_BUCKET: required when MMD_BLOB_STORE=s3']);
  return Object.freeze({ ...config, dataDir: path.resolve(config.dataDir) });
}
