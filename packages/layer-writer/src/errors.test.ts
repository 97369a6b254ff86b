import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImgError } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { LayerError } from './errors.js';
import { normalizeLayerPath } from './paths.js';
import type { LayerSpec } from './spec.js';
import { perTestCleanup, tempDir } from './test-helpers.js';
import { type WriteLayerOptions, writeLayer } from './write-layer.js';

const { defer } = perTestCleanup();

async function failure(spec: LayerSpec, options: WriteLayerOptions = {}): Promise<LayerError> {
  try {
    const { stream, metadata } = writeLayer(spec, options);
    stream.resume();
    await metadata;
  } catch (err) {
    expect(err).toBeInstanceOf(LayerError);
    expect(err).toBeInstanceOf(ImgError);
    return err as LayerError;
  }
  throw new Error('expected writeLayer to fail');
}

describe('path normalisation', () => {
  it('strips leading / and ./, resolves inner .., maps \\ to /', () => {
    expect(normalizeLayerPath('/usr/bin/')).toBe('usr/bin');
    expect(normalizeLayerPath('./etc//x')).toBe('etc/x');
    expect(normalizeLayerPath('a/../b')).toBe('b');
    expect(normalizeLayerPath('a\\b\\c')).toBe('a/b/c');
    expect(normalizeLayerPath('/')).toBe('');
  });
});

describe('rejections (each names the path or field)', () => {
  it.each(['../x', 'a/../../x', '/..', 'a\\..\\..\\x'])('path escaping the root: %s', async (path) => {
    const err = await failure({ entries: [{ type: 'content', path, content: '' }] });
    expect(err.code).toBe('IMG_LAYER_PATH_ESCAPES');
    expect(err.message).toContain(JSON.stringify(path));
  });

  it('NUL bytes in a path', async () => {
    const err = await failure({ entries: [{ type: 'content', path: 'a\0b', content: '' }] });
    expect(err.code).toBe('IMG_LAYER_INVALID_PATH');
    expect(err.message).toContain('entries[0]');
  });

  it('a missing source file or directory', async () => {
    const t = tempDir();
    defer(t.cleanup);
    const missing = join(t.dir, 'nope.txt');
    let err = await failure({ entries: [{ type: 'file', path: '/x', source: missing }] });
    expect(err.code).toBe('IMG_LAYER_SOURCE_MISSING');
    expect(err.message).toContain(missing);
    err = await failure({ entries: [{ type: 'directory', path: '/x', source: missing }] });
    expect(err.code).toBe('IMG_LAYER_SOURCE_MISSING');
    expect(err.message).toContain(missing);
  });

  it('duplicate paths with conflicting content or type', async () => {
    let err = await failure({
      entries: [
        { type: 'content', path: '/etc/x', content: 'a' },
        { type: 'content', path: 'etc/x', content: 'b' },
      ],
    });
    expect(err.code).toBe('IMG_LAYER_DUPLICATE_PATH');
    expect(err.message).toContain('"etc/x"');
    err = await failure({
      entries: [
        { type: 'directory', path: '/etc/x' },
        { type: 'symlink', path: '/etc/x', target: '/y' },
      ],
    });
    expect(err.code).toBe('IMG_LAYER_DUPLICATE_PATH');
  });

  it('an entry below a file', async () => {
    const err = await failure({
      entries: [
        { type: 'content', path: '/etc', content: 'a' },
        { type: 'content', path: '/etc/x', content: 'b' },
      ],
    });
    expect(err.code).toBe('IMG_LAYER_PATH_CONFLICT');
    expect(err.message).toContain('"etc/x"');
  });

  it('unknown compression and out-of-range levels, synchronously', () => {
    expect(() => writeLayer({ entries: [] }, { compression: 'brotli' as 'gzip' })).toThrow(
      expect.objectContaining({
        code: 'IMG_LAYER_UNKNOWN_COMPRESSION',
        message: expect.stringContaining('"brotli"'),
      }),
    );
    expect(() => writeLayer({ entries: [] }, { compression: 'zstd', level: 22 })).toThrow(
      expect.objectContaining({ code: 'IMG_LAYER_INVALID_LEVEL' }),
    );
  });

  it('fileMetadata keys that match no entry', async () => {
    const err = await failure({
      entries: [{ type: 'content', path: '/a', content: '' }],
      fileMetadata: { '/a': { mode: 0o600 }, '/usr/lib/typo': { mode: 0o600 } },
    });
    expect(err.code).toBe('IMG_LAYER_UNMATCHED_METADATA');
    expect(err.message).toContain('/usr/lib/typo');
  });

  it('invalid metadata values', async () => {
    for (const [meta, field] of [
      [{ mode: '0999' }, 'mode'],
      [{ mode: 0o17777 }, 'mode'],
      [{ mtime: 'yesterday' }, 'mtime'],
      [{ uid: -1 }, 'uid'],
      [{ paxRecords: { path: 'x' } }, 'path'],
      [{ colour: 'red' }, 'colour'],
    ] as const) {
      const err = await failure({
        entries: [{ type: 'content', path: '/a', content: '' }],
        fileMetadata: { '/a': meta as never },
      });
      expect(err.code).toBe('IMG_LAYER_INVALID_METADATA');
      expect(err.message).toContain('fileMetadata["/a"]');
      expect(err.message).toContain(field);
    }
  });

  it('names reserved for whiteouts, and unsupported host file types', async () => {
    let err = await failure({ entries: [{ type: 'content', path: '/etc/.wh.x', content: '' }] });
    expect(err.code).toBe('IMG_LAYER_INVALID_PATH');
    const t = tempDir();
    defer(t.cleanup);
    mkdirSync(join(t.dir, 'd'));
    writeFileSync(join(t.dir, 'f'), '');
    err = await failure({ entries: [{ type: 'file', path: '/x', source: join(t.dir, 'd') }] });
    expect(err.code).toBe('IMG_LAYER_UNSUPPORTED_FILE_TYPE');
    err = await failure({ entries: [{ type: 'directory', path: '/x', source: join(t.dir, 'f') }] });
    expect(err.code).toBe('IMG_LAYER_UNSUPPORTED_FILE_TYPE');
  });
});

describe('source files that change while the layer is written', () => {
  it('IMG_LAYER_SOURCE_CHANGED names the file when its size differs from the plan', async () => {
    const { TarWriter } = await import('./tar-writer.js');
    const t = tempDir();
    defer(t.cleanup);
    const small = join(t.dir, 'small');
    const large = join(t.dir, 'large');
    writeFileSync(small, 'abc');
    writeFileSync(large, Buffer.alloc(300 * 1024));
    const w = new TarWriter(() => {});
    const h = { mode: 0o644, uid: 0, gid: 0, mtime: 0, type: 'file' as const };
    await expect(w.writeFileEntry({ ...h, name: 's', size: 10 }, small)).rejects.toMatchObject({
      code: 'IMG_LAYER_SOURCE_CHANGED',
      message: expect.stringContaining(small),
    });
    await expect(w.writeFileEntry({ ...h, name: 'l', size: 400 * 1024 }, large)).rejects.toMatchObject({
      code: 'IMG_LAYER_SOURCE_CHANGED',
      message: expect.stringContaining(large),
    });
  });
});
