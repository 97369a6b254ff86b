import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports the documented values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'CredentialHelperError',
      'DEFAULT_CREDENTIAL_CACHE_MS',
      'DEFAULT_HELPER_TIMEOUT_MS',
      'createCredentialHelper',
      'getCredentialHeaders',
      'runHelper',
    ]);
    expect(api.DEFAULT_HELPER_TIMEOUT_MS).toBe(10_000);
    expect(api.DEFAULT_CREDENTIAL_CACHE_MS).toBe(1_800_000);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.CredentialHeaders,
  api.CredentialHelper,
  api.CredentialHelperErrorCode,
  api.CredentialHelperOptions,
  api.GetCredentialHeadersOptions,
  api.HeaderMap,
  api.HelperOutput,
  api.RunHelperOptions,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
