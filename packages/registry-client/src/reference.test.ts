import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, sameRegistry, toReference } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['ubuntu', { registry: 'index.docker.io', repository: 'library/ubuntu', tag: 'latest' }],
    ['ubuntu:22.04', { registry: 'index.docker.io', repository: 'library/ubuntu', tag: '22.04' }],
    [
      'docker.io/library/ubuntu',
      { registry: 'index.docker.io', repository: 'library/ubuntu', tag: 'latest' },
    ],
    [
      'registry-1.docker.io/nvidia/cuda:12.4.1-base',
      { registry: 'index.docker.io', repository: 'nvidia/cuda', tag: '12.4.1-base' },
    ],
    ['bitnami/redis', { registry: 'index.docker.io', repository: 'bitnami/redis', tag: 'latest' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['localhost:5000/a/b/c:v1', { registry: 'localhost:5000', repository: 'a/b/c', tag: 'v1' }],
    [`127.0.0.1:5000/app@${D}`, { registry: '127.0.0.1:5000', repository: 'app', digest: D }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    [`gcr.io/proj/img:tag@${D}`, { registry: 'gcr.io', repository: 'proj/img', tag: 'tag', digest: D }],
    ['ghcr.io/o/r__x/y-z.w:v_1.2-3', { registry: 'ghcr.io', repository: 'o/r__x/y-z.w', tag: 'v_1.2-3' }],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it('leaves the tag out for push targets when asked', () => {
    expect(parseReference('127.0.0.1:5000/app', { defaultTag: false })).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'app',
    });
  });

  it.each([
    ['', /empty/],
    ['UPPER/case', /bad repository/],
    ['reg.io/app:bad tag', /bad tag/],
    ['reg.io/app@sha256:abc', /bad digest/],
    [`reg.io/app:${'x'.repeat(129)}`, /bad tag/],
    ['reg.io//app', /bad repository/],
    ['bad_host.io:99999999/app', /bad registry/],
  ])('rejects %j', (text, why) => {
    expect(() => parseReference(text)).toThrow(
      expect.objectContaining({
        code: 'IMG_REGISTRY_INVALID_REFERENCE',
        message: expect.stringMatching(why),
      }),
    );
  });

  it('formats back', () => {
    expect(formatReference(parseReference(`127.0.0.1:5000/app:v1@${D}`))).toBe(`127.0.0.1:5000/app:v1@${D}`);
    expect(formatReference(parseReference('ubuntu'))).toBe('index.docker.io/library/ubuntu:latest');
  });

  it('validates and normalises parsed references too', () => {
    expect(toReference({ registry: 'docker.io', repository: 'library/x' }).registry).toBe('index.docker.io');
    expect(() => toReference({ registry: 'r.io', repository: 'Bad' })).toThrow(/bad repository/);
  });

  it('compares registries after Docker Hub normalisation', () => {
    expect(sameRegistry('docker.io', 'index.docker.io')).toBe(true);
    expect(sameRegistry('127.0.0.1:5000', '127.0.0.1:5001')).toBe(false);
  });
});
