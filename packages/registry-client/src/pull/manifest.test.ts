import { MediaType } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import { manifestMediaType } from './manifest.js';

const json = (v: object) => Buffer.from(JSON.stringify(v));

describe('manifestMediaType', () => {
  it('dispatches on Content-Type, then the mediaType field, then the shape', () => {
    const index = json({ schemaVersion: 2, manifests: [] });
    expect(manifestMediaType(index, `${MediaType.DockerManifestList}; charset=utf-8`, 'x')).toBe(
      MediaType.DockerManifestList,
    );
    expect(
      manifestMediaType(
        json({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: {}, layers: [] }),
        'application/json',
        'x',
      ),
    ).toBe(MediaType.DockerManifest);
    expect(manifestMediaType(index, undefined, 'x')).toBe(MediaType.OciIndex);
    expect(manifestMediaType(json({ schemaVersion: 2, config: {}, layers: [] }), 'text/plain', 'x')).toBe(
      MediaType.OciManifest,
    );
  });

  it('refuses schema 1 and unknown documents', () => {
    expect(() =>
      manifestMediaType(json({ schemaVersion: 1 }), MediaType.DockerSchema1Signed, 'r/x:1'),
    ).toThrow(
      expect.objectContaining({
        code: 'IMG_REGISTRY_UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringContaining('r/x:1'),
      }),
    );
    expect(() => manifestMediaType(json({ hello: 1 }), 'application/json', 'x')).toThrow(
      expect.objectContaining({ code: 'IMG_REGISTRY_UNSUPPORTED_MEDIA_TYPE' }),
    );
  });
});
