import { ImgError } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { codeForStatus, parseErrorBody, RegistryError } from './errors.js';

describe('RegistryError', () => {
  it('is an ImgError with a code, name, cause and the distribution details', () => {
    const cause = new Error('low level');
    const err = new RegistryError('IMG_REGISTRY_NOT_FOUND', 'GET manifest r.io/a: HTTP 404', {
      registry: 'r.io',
      repository: 'a',
      status: 404,
      method: 'GET',
      url: 'https://r.io/v2/a/manifests/x',
      diagnostics: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
      cause,
    });
    expect(err).toBeInstanceOf(ImgError);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({
      name: 'RegistryError',
      code: 'IMG_REGISTRY_NOT_FOUND',
      distributionCode: 'MANIFEST_UNKNOWN',
      retryable: false,
      cause,
    });
  });

  it('maps statuses to codes and parses error bodies', () => {
    expect([401, 403, 404, 500].map(codeForStatus)).toEqual([
      'IMG_REGISTRY_UNAUTHORIZED',
      'IMG_REGISTRY_DENIED',
      'IMG_REGISTRY_NOT_FOUND',
      'IMG_REGISTRY_HTTP_ERROR',
    ]);
    expect(
      parseErrorBody('{"errors":[{"code":"DENIED","message":"no","detail":{"x":1}},{"nocode":1}]}'),
    ).toEqual([{ code: 'DENIED', message: 'no', detail: { x: 1 } }]);
    expect(parseErrorBody('<html>')).toEqual([]);
  });
});
