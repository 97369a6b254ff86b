import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_TIMEOUT_MS, resolveOptions } from './options.js';
import { DEFAULT_RETRY } from './retry.js';

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      instanceName: '',
      timeoutMs: DEFAULT_TIMEOUT_MS,
      maxBatchBytes: DEFAULT_MAX_BATCH_BYTES,
      retry: DEFAULT_RETRY,
    });
    expect(o.credentialHelper).toBeUndefined();
    expect(resolveOptions({ credentialHelper: '/bin/helper' }).credentialHelper?.helper).toBe('/bin/helper');
  });

  it.each([
    [{ instanceName: 'a//b' }, /instanceName "a\/\/b"/],
    [{ instanceName: 'x/blobs' }, /reserved segment/],
    [{ instanceName: '../x' }, /relative/],
    [{ headers: { 'bad header': 'x' } }, /header name "bad header"/],
    [{ timeoutMs: 0 }, /timeoutMs must be a positive integer/],
    [{ retry: { attempts: 0 } }, /retry.attempts/],
    [{ tlsClientKey: '/k' }, /go together/],
  ])('refuses %j before any I/O', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(
      expect.objectContaining({ code: 'IMG_INVALID_OPTIONS', message: expect.stringMatching(message) }),
    );
  });
});
