import { describe, expect, it } from 'vitest';
import { sha256Digest } from './digest.js';
import { SpecError } from './errors.js';
import { MediaType } from './media-types.js';
import type { ImageConfig, Manifest } from './types.js';
import {
  assertValid,
  configViolations,
  imageViolations,
  indexViolations,
  manifestViolations,
} from './validate.js';

const d = sha256Digest('x');
const manifest: Manifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: d, size: 1 },
  layers: [{ mediaType: MediaType.OciLayerGzip, digest: d, size: 1 }],
};
const config: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['A=1'] },
  rootfs: { type: 'layers', diff_ids: [d] },
  history: [{ created: '1970-01-01T00:00:00Z', created_by: 'img' }],
};

describe('validation', () => {
  it('accepts valid documents, including a manifest with no layers', () => {
    expect(manifestViolations(manifest)).toEqual([]);
    expect(manifestViolations({ ...manifest, layers: [] })).toEqual([]);
    expect(configViolations(config)).toEqual([]);
    expect(imageViolations(manifest, config)).toEqual([]);
  });

  it('reports schema violations with the field path', () => {
    const bad = { ...manifest, config: { ...manifest.config, digest: 'sha256:XYZ' } } as unknown as Manifest;
    expect(manifestViolations(bad).join('\n')).toMatch(/config/);
    expect(configViolations({ ...config, created: 'yesterday' }).join('\n')).toMatch(/created/);
  });

  it('catches what the schema misses', () => {
    expect(configViolations({ ...config, config: { Env: ['NOEQUALS'] } })).toContain(
      'config.Env[0]: "NOEQUALS" is not KEY=VALUE',
    );
    expect(imageViolations(manifest, { ...config, rootfs: { type: 'layers', diff_ids: [] } })[0]).toMatch(
      /0 diff_ids but the manifest has 1 layers/,
    );
    const mixed = { ...manifest, layers: [{ mediaType: MediaType.DockerLayerGzip, digest: d, size: 1 }] };
    expect(manifestViolations(mixed)[0]).toMatch(/mixes the docker family into a oci manifest/);
    expect(() => assertValid(manifestViolations(mixed), 'm.json')).toThrow(SpecError);
    try {
      assertValid(manifestViolations(mixed), 'm.json');
    } catch (e) {
      expect((e as SpecError).code).toBe('IMG_MIXED_MEDIA_TYPES');
      expect((e as SpecError).message).toMatch(/^m\.json: layers\[0\]/);
    }
  });

  it('requires platforms in Docker manifest lists', () => {
    const list = {
      schemaVersion: 2 as const,
      mediaType: MediaType.DockerManifestList,
      manifests: [{ mediaType: MediaType.DockerManifest, digest: d, size: 1 }],
    };
    expect(indexViolations(list)).toContain('manifests[0].platform: required in a Docker manifest list');
  });
});
