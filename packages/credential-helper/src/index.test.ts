import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  CredentialHeaders,
  CredentialHelper,
  CredentialHelperErrorCode,
  CredentialHelperOptions,
  GetCredentialHeadersOptions,
  HeaderMap,
  HelperOutput,
  RunHelperOptions,
} from './index.js';
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
  CredentialHeaders,
  CredentialHelper,
  CredentialHelperErrorCode,
  CredentialHelperOptions,
  GetCredentialHeadersOptions,
  HeaderMap,
  HelperOutput,
  RunHelperOptions,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
