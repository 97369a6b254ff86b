import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'BesError',
      'DEFAULT_PUSH_RETRY',
      'DEFAULT_UPLOAD_GRACE_MS',
      'PROTO_DIR_ENV',
      'PUSH_CHANNEL',
      'PUSH_REQUEST_SUFFIX',
      'PUSH_TARGET_KIND',
      'PushQueue',
      'PushTargetTracker',
      'STREAM_CHANNEL',
      'casPushCommitter',
      'findProtoDir',
      'isTransientPushError',
      'readCasImage',
      'startBesListener',
    ]);
    expect(api.DEFAULT_PUSH_RETRY).toEqual({ attempts: 4, initialDelayMs: 1_000, maxDelayMs: 60_000 });
    expect(api.DEFAULT_UPLOAD_GRACE_MS).toEqual([1_000, 2_000, 4_000]);
    expect(api.PUSH_CHANNEL).toBe('img:bes:push');
    expect(api.STREAM_CHANNEL).toBe('img:bes:stream');
    expect(api.PUSH_TARGET_KIND).toBe('image_push rule');
    expect(api.PUSH_REQUEST_SUFFIX).toBe('_bes_request.json');
    expect(api.PROTO_DIR_ENV).toBe('IMG_BES_PROTO_DIR');
  });

  it('types: the committer contract and the error codes', () => {
    expectTypeOf(api.casPushCommitter).returns.toEqualTypeOf<api.PushCommitter>();
    expectTypeOf<api.BesErrorCode>().toEqualTypeOf<
      | 'IMG_INVALID_OPTIONS'
      | 'IMG_BES_PROTO_NOT_FOUND'
      | 'IMG_BES_LISTEN'
      | 'IMG_BES_PUSH_REQUEST'
      | 'IMG_BES_BLOB_UNAVAILABLE'
    >();
    expect(new api.BesError('IMG_BES_LISTEN', 'x')).toMatchObject({
      code: 'IMG_BES_LISTEN',
      name: 'BesError',
    });
  });

  it('finds the vendored protos, or names where it looked', () => {
    expect(api.findProtoDir()).toMatch(/protos$/);
    expect(() => api.findProtoDir('/nonexistent')).toThrow(
      expect.objectContaining({
        code: 'IMG_BES_PROTO_NOT_FOUND',
        message: expect.stringContaining('/nonexistent'),
      }),
    );
  });
});
