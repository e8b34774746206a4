/**
 * Resumable uploads with the tus protocol (`/v1/uploads`), for large videos and documents and
 * flaky connections. Each upload belongs to the account that created it; when the last byte
 * arrives it becomes a media item like any other, and the response carries `MMD-Media-Id`.
 *
 * The same limits as single-request uploads: every PATCH streams through the upload gate (type
 * sniffed from the first bytes, that type's size limit applied to the bytes and to the declared
 * Upload-Length), creations count towards the account's upload rate, and an upload left
 * unfinished expires and is swept with its bytes.
 */
import { open, rm } from 'node:fs/promises';
import { Server } from '@tus/server';
import type { FastifyPluginAsync } from 'fastify';
import type { Accounts, Principal } from '../accounts/index.ts';
import { AppError } from '../errors.ts';
import { type Media, parseAiDisclosure } from './service.ts';
import type { BlobStore } from '../platform/blobs/index.ts';
import type { Database } from '../platform/db/index.ts';
import { type Limits, createMemoryLimits } from '../platform/limits/index.ts';
import { SharedUploadStore } from './tus-store.ts';
import { GATE_HEAD_BYTES, limitFor, tooLarge } from './upload-gate.ts';

export interface TusDeps {
  accounts: Accounts;
  media: Media;
  db: Database;
  /** Where an upload's parts live (S3 in a cluster). */
  blobs: BlobStore;
  /** Local spool files only: a PATCH on its way to the blob store, a finished upload being ingested. */
  tmpDir: string;
  maxSize: number;
  /** Unfinished uploads older than this are refused and swept. */
  expiryMs: number;
  /** Pieces one upload may arrive in (see SharedUploadStoreDeps.maxParts). */
  maxParts: number;
  /** How often the sweep runs. */
  sweepMs: number;
  /** Creations per account per window (the same number as single uploads). */
  createLimit: { max: number; windowMs: number };
  /** Where creations are counted (default: this process's memory). */
  limits?: Limits;
  clock: () => number;
  log: { error(o: object, m: string): void; info(o: object, m: string): void };
}

const refuse = (status_code: number, code: string, detail: string, headers?: Record<string, string>) => ({
  status_code,
  body: JSON.stringify({
    type: `https://mmd.dev/problems/${code}`,
    title: code,
    status: status_code,
    code,
    detail,
  }),
  ...(headers ? { headers } : {}),
});
const fromAppError = (err: AppError) => refuse(err.status, err.code, err.message, err.extra.headers);

async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function createResumableUploads(deps: TusDeps): {
  routes: FastifyPluginAsync;
  sweepExpired(): Promise<unknown>;
} {
  const principals = new WeakMap<Request, Principal>();
  const limits = deps.media.limits;
  const datastore = new SharedUploadStore({
    db: deps.db,
    blobs: deps.blobs,
    tmpDir: deps.tmpDir,
    expiryMs: deps.expiryMs,
    limits,
    maxSize: deps.maxSize,
    maxParts: deps.maxParts,
    clock: deps.clock,
    refusal: fromAppError,
  });
  const creations = (deps.limits ?? createMemoryLimits()).limiter({ name: 'tus-create', ...deps.createLimit, clock: deps.clock });

  const tus = new Server({
    path: '/v1/uploads',
    datastore,
    maxSize: deps.maxSize,
    respectForwardedHeaders: false,
    async onIncomingRequest(req, uploadId) {
      const header = req.headers.get('authorization') ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const principal = token ? await deps.accounts.authenticate(token) : null;
      if (!principal) throw refuse(401, 'unauthenticated', 'send a bearer token in the Authorization header');
      if (!principal.scopes.has('messages:write'))
        throw refuse(403, 'insufficient_scope', 'uploading needs the "messages:write" scope');
      principals.set(req, principal);
      if (req.method !== 'POST' && uploadId) {
        const upload = await datastore.getUpload(uploadId).catch(() => null);
        // Someone else's upload looks exactly like a missing one.
        if (!upload || upload.metadata?.owner !== principal.accountId)
          throw refuse(404, 'not_found', 'upload not found');
      }
    },
    async onUploadCreate(req, upload) {
      const principal = principals.get(req)!;
      let wait: number;
      try {
        // A bad disclosure is refused now, not after the whole file has arrived.
        parseAiDisclosure(upload.metadata?.ai);
        await deps.media.admit(principal);
        wait = await creations.hit(principal.accountId);
      } catch (err) {
        if (err instanceof AppError) throw fromAppError(err);
        throw err;
      }
      if (wait > 0) {
        const seconds = String(Math.ceil(wait / 1000));
        throw refuse(429, 'rate_limited', `too many resumable uploads started; retry in ${seconds} s`, {
          'Retry-After': seconds,
        });
      }
      return { metadata: { ...upload.metadata, owner: principal.accountId } };
    },
    async onUploadFinish(req, upload) {
      const principal = principals.get(req)!;
      let file: string | null = null;
      try {
        file = await datastore.assemble(upload.id);
        // The gate saw every byte; this re-check covers an upload whose head arrived in slivers.
        const limit = limitFor(await readHead(file, GATE_HEAD_BYTES), limits, deps.maxSize);
        if (upload.offset > limit) throw tooLarge(limit);
        const created = await deps.media.uploadFromFile(principal, file, upload.metadata?.filename ?? null, parseAiDisclosure(upload.metadata?.ai));
        return { headers: { 'MMD-Media-Id': created.id, 'Access-Control-Expose-Headers': 'MMD-Media-Id' } };
      } catch (err) {
        if (err instanceof AppError) throw fromAppError(err);
        deps.log.error({ err }, 'finishing a resumable upload failed');
        throw refuse(500, 'internal_error', 'the upload could not be stored; try again');
      } finally {
        if (file) await rm(file, { force: true });
        await datastore.remove(upload.id).catch(() => {});
      }
    },
  });

  // Abandoned uploads: swept on a timer, so their bytes do not fill the disk.
  let sweeping: Promise<unknown> | null = null;
  const sweepExpired = () => {
    sweeping ??= datastore
      .deleteExpired()
      .then((count) => {
        if (count > 0) deps.log.info({ count }, 'expired resumable uploads deleted');
      })
      .catch((err) => deps.log.error({ err }, 'sweeping expired resumable uploads failed'))
      .finally(() => {
        sweeping = null;
      });
    return sweeping;
  };

  const routes: FastifyPluginAsync = async (app) => {
    // tus reads the body itself; Fastify must leave the stream alone.
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    const handle = async (
      request: { raw: import('node:http').IncomingMessage },
      reply: { hijack(): void; raw: import('node:http').ServerResponse },
    ) => {
      reply.hijack();
      await tus.handle(request.raw, reply.raw);
    };
    for (const url of ['/v1/uploads', '/v1/uploads/*']) {
      app.route({
        method: ['POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS'],
        url,
        schema: { hide: true, 'x-mmd-scope': 'messages:write' },
        handler: handle,
      });
    }

    let timer: NodeJS.Timeout | null = null;
    app.addHook('onReady', async () => {
      timer = setInterval(() => void sweepExpired(), deps.sweepMs);
      timer.unref();
    });
    app.addHook('onClose', async () => {
      if (timer) clearInterval(timer);
      await sweeping;
    });
  };

  return { routes, sweepExpired };
}
