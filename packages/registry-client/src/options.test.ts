import { describe, expect, it } from 'vitest';
import { DockerKeychain } from './auth/keychain.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_JOBS, resolveOptions } from './options.js';
import { DEFAULT_RETRY } from './transport/retry.js';

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({ jobs: DEFAULT_JOBS, uploadMode: 'stream', chunkSize: DEFAULT_CHUNK_SIZE });
    expect(o.transport.retry).toEqual(DEFAULT_RETRY);
    expect(o.transport.connections).toBe(DEFAULT_JOBS);
    expect(o.transport.keychain).toBeInstanceOf(DockerKeychain);
  });

  it.each([
    [{ jobs: 0 }, /jobs/],
    [{ jobs: 1.5 }, /jobs/],
    [{ chunkSize: -1 }, /chunkSize/],
    [{ uploadMode: 'monolithic' as never }, /uploadMode/],
    [{ retry: { retries: -1 } }, /retry.retries/],
    [{ auth: {}, credentialProvider: { resolve: async () => undefined } }, /either/],
    [{ insecure: 'yes' as never }, /insecure/],
  ])('rejects %j before any I/O', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(
      expect.objectContaining({
        code: 'IMG_REGISTRY_INVALID_OPTIONS',
        message: expect.stringMatching(message),
      }),
    );
  });
});
