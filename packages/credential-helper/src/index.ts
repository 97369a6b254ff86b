export type { CredentialHelper, CredentialHelperOptions, HeaderMap } from './credential-helper.js';
export { createCredentialHelper, DEFAULT_CREDENTIAL_CACHE_MS } from './credential-helper.js';
export type { CredentialHelperErrorCode } from './errors.js';
export { CredentialHelperError } from './errors.js';
export type { CredentialHeaders, GetCredentialHeadersOptions } from './get-headers.js';
export { getCredentialHeaders } from './get-headers.js';
export type { HelperOutput, RunHelperOptions } from './run-helper.js';
export { DEFAULT_HELPER_TIMEOUT_MS, runHelper } from './run-helper.js';
