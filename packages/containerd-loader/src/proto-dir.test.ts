import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findProtoDir, PROTO_DIR_ENV } from './proto-dir.js';

describe('findProtoDir', () => {
  afterEach(() => {
    delete process.env[PROTO_DIR_ENV];
  });

  it("finds the package's proto/ from the sources", () => {
    expect(findProtoDir()).toBe(resolve(import.meta.dirname, '..', 'proto'));
  });

  it('takes an explicit directory or the environment variable as the only place to look', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'img-proto-'));
    expect(() => findProtoDir(empty)).toThrow(
      expect.objectContaining({ code: 'IMG_LOAD_PROTO_NOT_FOUND', message: expect.stringContaining(empty) }),
    );
    process.env[PROTO_DIR_ENV] = empty;
    expect(() => findProtoDir()).toThrow(/IMG_CONTAINERD_PROTO_DIR/);
    process.env[PROTO_DIR_ENV] = resolve(import.meta.dirname, '..', 'proto');
    expect(findProtoDir()).toBe(process.env[PROTO_DIR_ENV]);
  });
});
