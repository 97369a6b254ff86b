import { expect, expectTypeOf, it } from 'vitest';
import type {
  BlobDigest,
  BlobStat,
  BlobStore,
  CasBlobStoreOptions,
  CasRegistryErrorCode,
  DigestAlgorithm,
  FileAdoptingBlobStore,
  GarbageReport,
  KeepAliveOptions,
  KeepAliveReport,
  ListableBlobStore,
  OpenBlobOptions,
  RefreshableBlobStore,
  RegistryServer,
  RegistryServerOptions,
  RequestEvent,
  SizedBlob,
  StatBlobOptions,
  StoredBlob,
  WriteBlobOptions,
} from './index.js';
import * as api from './index.js';

it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'CasBlobStore',
    'CasRegistryError',
    'DEFAULT_HEADERS_TIMEOUT_MS',
    'DEFAULT_IDLE_TIMEOUT_MS',
    'DEFAULT_KEEPALIVE_INTERVAL_MS',
    'DEFAULT_KEEPALIVE_MAX_BLOBS',
    'DEFAULT_MAX_BLOB_BYTES',
    'DEFAULT_MAX_CONNECTIONS',
    'DEFAULT_MAX_MANIFEST_BYTES',
    'DEFAULT_MAX_PAGE_SIZE',
    'DEFAULT_MAX_TAGS_PER_PUSH',
    'DEFAULT_MAX_UPLOADS',
    'DEFAULT_UPLOAD_EXPIRY_MS',
    'DIGEST_ALGORITHMS',
    'FileBlobStore',
    'KEEPALIVE_CHANNEL',
    'REQUEST_CHANNEL',
    'parseBlobDigest',
    'startRegistryServer',
  ]);
});

it('pins the public types', () => {
  expectTypeOf<RegistryServerOptions['storage']>().toEqualTypeOf<string>();
  expectTypeOf<RegistryServer['address']>().toEqualTypeOf<string>();
  expectTypeOf<BlobStore['stat']>().parameters.toEqualTypeOf<[BlobDigest, StatBlobOptions?]>();
  expectTypeOf<StatBlobOptions['size']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<RefreshableBlobStore['refresh']>().returns.toEqualTypeOf<Promise<BlobDigest[]>>();
  expectTypeOf<SizedBlob>().toEqualTypeOf<{ readonly digest: BlobDigest; readonly size: number }>();
  expectTypeOf<api.CasBlobStore>().toMatchTypeOf<RefreshableBlobStore>();
  expectTypeOf<api.CasBlobStore>().toMatchTypeOf<ListableBlobStore>();
  expectTypeOf<api.CasBlobStore>().toMatchTypeOf<FileAdoptingBlobStore>();
  expectTypeOf<CasBlobStoreOptions['root']>().toEqualTypeOf<string>();
  expectTypeOf<KeepAliveOptions['maxBlobs']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<RegistryServerOptions['keepAlive']>().toEqualTypeOf<KeepAliveOptions | undefined>();
  expectTypeOf<KeepAliveReport['missing']>().toEqualTypeOf<readonly string[]>();
  expectTypeOf<RegistryServer['keepBlobsAlive']>().returns.toEqualTypeOf<Promise<KeepAliveReport>>();
  expectTypeOf<BlobStore['stat']>().returns.toEqualTypeOf<Promise<BlobStat | undefined>>();
  expectTypeOf<FileAdoptingBlobStore>().toMatchTypeOf<BlobStore>();
  expectTypeOf<ListableBlobStore['list']>().returns.toEqualTypeOf<AsyncIterable<StoredBlob>>();
  expectTypeOf<DigestAlgorithm>().toEqualTypeOf<'sha256' | 'sha512'>();
  expectTypeOf<OpenBlobOptions['offset']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<WriteBlobOptions['size']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<GarbageReport['blobsDeleted']>().toEqualTypeOf<number>();
  expectTypeOf<RequestEvent['status']>().toEqualTypeOf<number>();
  expectTypeOf<CasRegistryErrorCode>().toEqualTypeOf<
    | 'IMG_CASREG_INVALID_OPTION'
    | 'IMG_CASREG_BLOB_NOT_FOUND'
    | 'IMG_CASREG_DIGEST_MISMATCH'
    | 'IMG_CASREG_SIZE_MISMATCH'
    | 'IMG_CASREG_TOO_LARGE'
    | 'IMG_CASREG_LISTEN'
    | 'IMG_CASREG_UNAVAILABLE'
  >();
});

it('rejects bad options before any I/O, with a code', async () => {
  await expect(api.startRegistryServer({ storage: '' })).rejects.toMatchObject({
    code: 'IMG_CASREG_INVALID_OPTION',
    name: 'CasRegistryError',
  });
  await expect(
    api.startRegistryServer({ storage: '/nonexistent-never-created', port: 70000 }),
  ).rejects.toMatchObject({
    code: 'IMG_CASREG_INVALID_OPTION',
  });
});
