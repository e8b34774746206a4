/**
 * Blob storage. `createBlobStore` picks the implementation once, from plain config: local disk
 * for embedded MMD, or an S3-compatible bucket.
 */
import { createLocalDiskStore } from './local-disk-store.ts';
import { createS3Store, type S3StoreOptions } from './s3-store.ts';
import type { BlobStore } from './types.ts';

export {
  type ContentAddressedOptions,
  type ContentAddressedResult,
  putContentAddressed,
} from './content-addressed.ts';
export { BlobError, type BlobErrorCode, isBlobError } from './errors.ts';
export { validateKey, validatePrefix } from './keys.ts';
export { createLocalDiskStore, type LocalDiskStoreOptions } from './local-disk-store.ts';
export { createS3Store, type S3StoreOptions } from './s3-store.ts';
export type * from './types.ts';

export type BlobStoreConfig = { kind: 'local'; root: string } | ({ kind: 's3' } & S3StoreOptions);

export function createBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.kind) {
    case 'local':
      return createLocalDiskStore({ root: config.root });
    case 's3': {
      const { kind: _kind, ...options } = config;
      return createS3Store(options);
    }
    default:
      throw new Error(`unknown blob store kind ${(config as { kind: string }).kind}`);
  }
}
