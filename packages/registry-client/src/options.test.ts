import { describe, expect, it } from 'vitest';
import { DockerKeychain } from './auth/keychain.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_JOBS, resolveOptions } from './options.js';
import { DEFAULT_RETRY } from './transport/retry.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
} from './transport/timeouts.js';

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({ jobs: DEFAULT_JOBS, uploadMode: 'stream', chunkSize: DEFAULT_CHUNK_SIZE });
    expect(o.transport.retry).toEqual(DEFAULT_RETRY);
    expect(o.transport.connections).toBe(DEFAULT_JOBS);
    expect(o.transport.keychain).toBeInstanceOf(DockerKeychain);
    expect(o.transport.timeouts).toEqual({
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
      deadlineMs: DEFAULT_DEADLINE_MS,
    });
    expect(resolveOptions({ deadlineMs: 0 }).deadlineMs).toBe(0);
  });

  it.each([
    [{ jobs: 0 }, /jobs/],
    [{ jobs: 1.5 }, /jobs/],
    [{ chunkSize: -1 }, /chunkSize/],
    [{ uploadMode: 'monolithic' as never }, /uploadMode/],
    [{ retry: { retries: -1 } }, /retry.retries/],
    [{ auth: {}, credentialProvider: { resolve: async () => undefined } }, /either/],
    [{ insecure: 'yes' as never }, /insecure/],
    [{ connectTimeoutMs: 0 }, /connectTimeoutMs/],
    [{ idleTimeoutMs: 2 ** 31 }, /idleTimeoutMs/],
    [{ deadlineMs: -1 }, /deadlineMs/],
  ])('rejects %j before any I/O', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(
      expect.objectContaining({
        code: 'IMG_REGISTRY_INVALID_OPTIONS',
        message: expect.stringMatching(message),
      }),
    );
  });
});
