/**
 * Blobs in an S3-compatible bucket (AWS S3, MinIO, Garage, R2, …). Streams of unknown length are
 * spooled to a temp file first, so PutObject always sends a known Content-Length (no multipart:
 * @aws-sdk/lib-storage is not a dependency; PutObject takes up to 5 GB).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { resolveRange } from './byte-range.ts';
import { BlobError } from './errors.ts';
import { validateKey, validatePrefix } from './keys.ts';
import { isFileSource, spoolToFile } from './spool.ts';
import type { BlobSource, BlobStore } from './types.ts';

export interface S3StoreOptions {
  bucket: string;
  region?: string;
  /** For S3-compatible services, e.g. http://127.0.0.1:9000. */
  endpoint?: string;
  /** Path-style URLs (endpoint/bucket/key), which most self-hosted services need. */
  forcePathStyle?: boolean;
  /** Omit to use the AWS SDK's default chain (environment, instance role, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Where streams are spooled before upload (default: the OS temp folder). */
  tmpDir?: string;
}

const DEFAULT_TYPE = 'application/octet-stream';

export function createS3Store(options: S3StoreOptions): BlobStore {
  const { bucket } = options;
  const tmpDir = options.tmpDir ?? tmpdir();
  const s3 = new S3Client({
    region: options.region ?? 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    // Newer SDKs add CRC checksums (and aws-chunked bodies) to every upload by default, which
    // many S3-compatible services reject or store verbatim; send them only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const head = async (key: string) => {
    try {
      const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: validateKey(key) }));
      return { size: Number(r.ContentLength ?? 0), contentType: r.ContentType ?? DEFAULT_TYPE };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };

  const upload = async (key: string, body: BlobSource, contentType: string, length: number) => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body instanceof Uint8Array ? body : isFileSource(body) ? createReadStream(body.file) : body,
        ContentLength: length,
        ContentType: contentType,
      }),
    );
  };

  return {
    kind: 's3',

    async put(key, body, { contentType }) {
      validateKey(key);
      if (body instanceof Uint8Array) {
        await upload(key, body, contentType, body.byteLength);
        return { size: body.byteLength, contentType };
      }
      if (isFileSource(body)) {
        const { size } = await stat(body.file);
        await upload(key, body, contentType, size);
        return { size, contentType };
      }
      const tmp = path.join(tmpDir, `mmd-s3-${randomUUID()}`);
      try {
        const size = await spoolToFile(body, tmp);
        await upload(key, { file: tmp }, contentType, size);
        return { size, contentType };
      } finally {
        await rm(tmp, { force: true });
      }
    },

    async get(key, range) {
      validateKey(key);
      // Validate bounds here so both stores refuse the same ranges; S3 checks them against the size.
      if (range) resolveRange(Number.MAX_SAFE_INTEGER, range);
      const wanted = range && (range.start !== undefined || range.end !== undefined);
      try {
        const r = await s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            Range: wanted ? `bytes=${range.start ?? 0}-${range.end ?? ''}` : undefined,
          }),
        );
        const total = /\/(\d+)$/.exec(r.ContentRange ?? '');
        const size = total ? Number(total[1]) : Number(r.ContentLength ?? 0);
        const served = /^bytes (\d+)-(\d+)\//.exec(r.ContentRange ?? '');
        const start = served ? Number(served[1]) : 0;
        const end = served ? Number(served[2]) : size - 1;
        return { body: r.Body as Readable, size, contentType: r.ContentType ?? DEFAULT_TYPE, start, end };
      } catch (err) {
        const status = statusOf(err);
        if (status === 404) throw new BlobError('not_found', `blob ${key} not found`);
        if (status === 416) throw new BlobError('range_not_satisfiable', `range is outside blob ${key}`);
        throw err;
      }
    },

    stat: head,

    async exists(key) {
      return (await head(key)) !== undefined;
    },

    async delete(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: validateKey(key) }));
    },

    async deletePrefix(prefix) {
      validatePrefix(prefix);
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys: 1000,
          }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length > 0) {
          const r = await s3.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          if (r.Errors && r.Errors.length > 0) {
            throw new Error(
              `could not delete ${r.Errors.length} blobs under ${prefix}: ${r.Errors[0]?.Message}`,
            );
          }
          deleted += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return deleted;
    },
  };
}

function statusOf(err: unknown): number | undefined {
  const e = err as { $metadata?: { httpStatusCode?: number }; name?: string };
  if (e?.name === 'NoSuchKey' || e?.name === 'NotFound') return 404;
  if (e?.name === 'InvalidRange') return 416;
  return e?.$metadata?.httpStatusCode;
}
