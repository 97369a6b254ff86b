import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: removing or renaming a public export must be a deliberate change.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'CACHE_DIR_ENV',
        'CHANNELS',
        'DEFAULT_CHUNK_SIZE',
        'DEFAULT_CONNECT_TIMEOUT_MS',
        'DEFAULT_DEADLINE_MS',
        'DEFAULT_HELPER_TIMEOUT_MS',
        'DEFAULT_IDLE_TIMEOUT_MS',
        'DEFAULT_JOBS',
        'DEFAULT_MAX_CONFIG_BYTES',
        'DEFAULT_MAX_MANIFEST_BYTES',
        'DEFAULT_RETRY',
        'DEFAULT_TAG',
        'DEFAULT_USER_AGENT',
        'DOCKER_HUB_AUTH_KEY',
        'DOCKER_HUB_REGISTRY',
        'DockerKeychain',
        'FileBlobLocations',
        'MAX_BLOBS_PER_REGISTRY',
        'MAX_REPOSITORIES_PER_BLOB',
        'RegistryClient',
        'RegistryError',
        'authFilePaths',
        'checkPushImage',
        'defaultCacheDir',
        'formatReference',
        'isDockerHub',
        'normalizeRegistry',
        'parseReference',
        'parseWwwAuthenticate',
        'redactUrl',
        'sameRegistry',
      ].sort(),
    );
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.BlobLocations,
  api.BlobOutcome,
  api.BlobToPush,
  api.Challenge,
  api.Credential,
  api.CredentialProvider,
  api.KeychainOptions,
  api.LayerSink,
  api.ParseReferenceOptions,
  api.PullOptions,
  api.PullResult,
  api.PushOptions,
  api.PushPlan,
  api.PushResult,
  api.PushSummary,
  api.RawDocument,
  api.Reference,
  api.RegistryClientOptions,
  api.RegistryDiagnostic,
  api.RegistryErrorCode,
  api.RequestOptions,
  api.ResolvedCredential,
  api.RetryOptions,
  api.TimeoutOptions,
  api.UploadMode,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
