export { DEFAULT_HELPER_TIMEOUT_MS } from './auth/bazel-credential-helper.js';
export type { Credential, CredentialProvider, ResolvedCredential } from './auth/credentials.js';
export { authFilePaths } from './auth/docker-config.js';
export type { KeychainOptions } from './auth/keychain.js';
export { DockerKeychain } from './auth/keychain.js';
export type { RequestOptions } from './client.js';
export { RegistryClient } from './client.js';
export { CHANNELS } from './diagnostics.js';
export type { RegistryDiagnostic, RegistryErrorCode } from './errors.js';
export { RegistryError } from './errors.js';
export type { RegistryClientOptions, UploadMode } from './options.js';
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_JOBS,
  DEFAULT_MAX_CONFIG_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_USER_AGENT,
} from './options.js';
export type { RawDocument } from './pull/manifest.js';
export type { LayerSink, PullOptions, PullResult } from './pull/pull-image.js';
export type { BlobLocations } from './push/blob-locations.js';
export {
  CACHE_DIR_ENV,
  defaultCacheDir,
  FileBlobLocations,
  MAX_BLOBS_PER_REGISTRY,
  MAX_REPOSITORIES_PER_BLOB,
} from './push/blob-locations.js';
export type { BlobToPush, PushPlan } from './push/check-image.js';
export { checkPushImage } from './push/check-image.js';
export type { BlobOutcome, PushSummary } from './push/progress.js';
export type { PushOptions, PushResult } from './push/push-image.js';
export { redactUrl } from './redact.js';
export type { ParseReferenceOptions, Reference } from './reference.js';
export {
  DEFAULT_TAG,
  DOCKER_HUB_AUTH_KEY,
  DOCKER_HUB_REGISTRY,
  formatReference,
  isDockerHub,
  normalizeRegistry,
  parseReference,
  sameRegistry,
} from './reference.js';
export type { RetryOptions } from './transport/retry.js';
export { DEFAULT_RETRY } from './transport/retry.js';
export type { TimeoutOptions } from './transport/timeouts.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
} from './transport/timeouts.js';
export type { Challenge } from './transport/www-authenticate.js';
export { parseWwwAuthenticate } from './transport/www-authenticate.js';
