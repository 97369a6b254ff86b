import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'DEFAULT_MAX_BATCH_BYTES',
      'DEFAULT_MAX_READ_BYTES',
      'DEFAULT_RETRY',
      'DEFAULT_TIMEOUT_MS',
      'DEFAULT_WRITE_CHUNK_BYTES',
      'PROTO_DIR_ENV',
      'RPC_CHANNEL',
      'RemoteCache',
      'RemoteCacheError',
      'casBlobSource',
      'connectRemoteCache',
      'findProtoDir',
      'formatBytestreamUri',
      'parseBytestreamUri',
      'parseEndpoint',
    ]);
    expect(api.DEFAULT_TIMEOUT_MS).toBe(60_000);
    expect(api.DEFAULT_MAX_BATCH_BYTES).toBe(4 * 1024 * 1024);
    expect(api.DEFAULT_WRITE_CHUNK_BYTES).toBe(1024 * 1024);
    expect(api.DEFAULT_MAX_READ_BYTES).toBe(64 * 1024 * 1024);
    expect(api.DEFAULT_RETRY).toEqual({ attempts: 6, initialDelayMs: 100, maxDelayMs: 5_000 });
    expect(api.RPC_CHANNEL).toBe('img:remote-cache:rpc');
    expect(api.PROTO_DIR_ENV).toBe('IMG_REAPI_PROTO_DIR');
  });

  it('types: casBlobSource returns the shared BlobSource shape', () => {
    expectTypeOf(api.casBlobSource).returns.toEqualTypeOf<api.BlobSource>();
    expectTypeOf<api.BlobSource['open']>()
      .parameter(0)
      .toEqualTypeOf<api.OpenBlobSourceOptions | undefined>();
    expectTypeOf<api.RemoteCacheErrorCode>().toEqualTypeOf<
      | 'IMG_INVALID_OPTIONS'
      | 'IMG_REMOTE_CACHE_INVALID_ENDPOINT'
      | 'IMG_REMOTE_CACHE_INVALID_URI'
      | 'IMG_REMOTE_CACHE_UNSUPPORTED'
      | 'IMG_REMOTE_CACHE_NOT_FOUND'
      | 'IMG_REMOTE_CACHE_RPC'
      | 'IMG_REMOTE_CACHE_PROTO_NOT_FOUND'
    >();
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.BlobOpener,
  api.BlobRef,
  api.BlobSource,
  api.BytestreamBlob,
  api.CallOptions,
  api.OpenBlobOptions,
  api.OpenBlobSourceOptions,
  api.ReadBlobOptions,
  api.RemoteCacheCapabilities,
  api.RemoteCacheEndpoint,
  api.RemoteCacheErrorCode,
  api.RemoteCacheOptions,
  api.RetryOptions,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
