import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findProtoDir, PROTO_DIR_ENV } from './proto-dir.js';

describe('findProtoDir', () => {
  const saved = process.env[PROTO_DIR_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[PROTO_DIR_ENV];
    else process.env[PROTO_DIR_ENV] = saved;
  });

  it('finds the package protos from src/', () => {
    delete process.env[PROTO_DIR_ENV];
    expect(findProtoDir()).toBe(resolve(import.meta.dirname, '..', 'protos'));
  });

  it('an explicit directory or $IMG_REAPI_PROTO_DIR is authoritative: no silent fallback', () => {
    expect(() => findProtoDir('/nonexistent')).toThrow(
      expect.objectContaining({
        code: 'IMG_REMOTE_CACHE_PROTO_NOT_FOUND',
        message: expect.stringContaining('/nonexistent'),
      }),
    );
    process.env[PROTO_DIR_ENV] = '/also-missing';
    expect(() => findProtoDir()).toThrow(/looked in \/also-missing\)/);
  });
});
