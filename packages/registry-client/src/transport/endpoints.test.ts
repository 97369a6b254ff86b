import { describe, expect, it } from 'vitest';
import { Endpoints, registryScheme, resolveLocation, withQuery } from './endpoints.js';

describe('endpoints', () => {
  it('uses plain HTTP for loopback and insecure registries only', () => {
    expect(registryScheme('localhost:5000', [])).toBe('http');
    expect(registryScheme('127.0.0.1:5000', [])).toBe('http');
    expect(registryScheme('[::1]:5000', [])).toBe('http');
    expect(registryScheme('registry.local:5000', [])).toBe('https');
    expect(registryScheme('registry.local:5000', ['registry.local:5000'])).toBe('http');
    expect(registryScheme('registry.local:5000', ['registry.local'])).toBe('http');
    expect(registryScheme('other.local', ['registry.local'])).toBe('https');
    expect(registryScheme('ghcr.io', true)).toBe('http');
  });

  it('builds API URLs', () => {
    const e = new Endpoints('index.docker.io', []);
    expect(e.manifest('library/ubuntu', 'latest').href).toBe(
      'https://index.docker.io/v2/library/ubuntu/manifests/latest',
    );
    expect(e.uploads('a/b', { digest: `sha256:${'0'.repeat(64)}` as never, from: 'c/d' }).search).toBe(
      `?mount=sha256%3A${'0'.repeat(64)}&from=c%2Fd`,
    );
  });

  it('resolves Location relative to the request, keeping its query', () => {
    const req = new URL('http://r:5000/v2/a/blobs/uploads/');
    expect(resolveLocation('/v2/a/blobs/uploads/u?_state=x%3D', req, 'POST').href).toBe(
      'http://r:5000/v2/a/blobs/uploads/u?_state=x%3D',
    );
    expect(resolveLocation('u2?_state=y', req, 'POST').href).toBe(
      'http://r:5000/v2/a/blobs/uploads/u2?_state=y',
    );
    expect(resolveLocation('https://s3.example/up?sig=1', req, 'POST').href).toBe(
      'https://s3.example/up?sig=1',
    );
    expect(() => resolveLocation(undefined, req, 'POST blob upload')).toThrow(
      expect.objectContaining({
        code: 'IMG_REGISTRY_INVALID_RESPONSE',
        message: expect.stringContaining('POST blob upload'),
      }),
    );
    expect(withQuery(new URL('http://r/u?_state=a+b%3D'), 'digest', 'sha256:1').href).toBe(
      'http://r/u?_state=a+b%3D&digest=sha256%3A1',
    );
  });
});
