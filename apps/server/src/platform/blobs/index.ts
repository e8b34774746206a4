/**
 * Blob storage. `createBlobStore` picks the implementation once, from plain config: local disk
 * for embedded MMD, or an S3-compatible bucket.
 */
import { Readable } from 'node:stream';
import { createLocalDiskStore } from './local-disk-store.ts';
import type { S3StoreOptions } from './s3-store.ts';
import type { BlobStore } from './types.ts';

export {
  type ContentAddressedOptions,
  type ContentAddressedResult,
  putContentAddressed,
} from './content-addressed.ts';
export { BlobError, type BlobErrorCode, isBlobError } from './errors.ts';
export { validateKey, validatePrefix } from './keys.ts';
export { createLocalDiskStore, localBlobFiles, type LocalDiskStoreOptions } from './local-disk-store.ts';
export type { S3StoreOptions } from './s3-store.ts';
export type * from './types.ts';

export type BlobStoreConfig = { kind: 'local'; root: string } | ({ kind: 's3' } & S3StoreOptions);

export function createBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.kind) {
    case 'local':
      return createLocalDiskStore({ root: config.root });
    case 's3': {
      const { kind: _kind, ...options } = config;
      return lazyS3Store(options);
    }
    default:
      throw new Error(`unknown blob store kind ${(config as { kind: string }).kind}`);
  }
}

/**
 * The S3 store, its SDK imported only when S3 is configured: the AWS SDK costs ~23 MB of memory and
 * start-up time that an embedded MMD on local disk never needs. The import starts at once; calls
 * made before it finished wait for it (a stream handed over meanwhile keeps an error listener, so
 * a source failing early is reported by the put, not as an uncaught error).
 */
function lazyS3Store(options: S3StoreOptions): BlobStore {
  let resolved: BlobStore | null = null;
  const loading = import('./s3-store.ts').then((m) => (resolved = m.createS3Store(options)));
  loading.catch(() => {}); // reported by the first call that needs it
  return {
    kind: 's3',
    put(key, body, putOptions) {
      if (resolved) return resolved.put(key, body, putOptions);
      if (body instanceof Readable) body.on('error', () => {});
      return loading.then((store) => store.put(key, body, putOptions));
    },
    get: (key, range) => (resolved ? resolved.get(key, range) : loading.then((store) => store.get(key, range))),
    stat: (key) => (resolved ? resolved.stat(key) : loading.then((store) => store.stat(key))),
    exists: (key) => (resolved ? resolved.exists(key) : loading.then((store) => store.exists(key))),
    delete: (key) => (resolved ? resolved.delete(key) : loading.then((store) => store.delete(key))),
    deletePrefix: (prefix) => (resolved ? resolved.deletePrefix(prefix) : loading.then((store) => store.deletePrefix(prefix))),
  };
}
