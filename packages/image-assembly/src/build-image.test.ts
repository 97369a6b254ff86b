import {
  canonicalJsonBytes,
  type ImageConfig,
  type LayerMetadata,
  type Manifest,
  MediaType,
  sha256Digest,
} from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import type { BaseImage } from './base-image.js';
import { buildImage } from './build-image.js';
import { buildIndex } from './build-index.js';

const layer = (s: string): LayerMetadata => ({
  diff_id: sha256Digest(`tar:${s}`),
  mediaType: MediaType.OciLayerGzip,
  digest: sha256Digest(`gz:${s}`),
  size: 10,
});

function makeBase(): BaseImage {
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2020-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/bin', 'LANG=C'], Cmd: ['bash'], Labels: { a: '1' }, User: 'nobody' },
    rootfs: { type: 'layers', diff_ids: [sha256Digest('b1'), sha256Digest('b2')] },
    history: [
      { created_by: 'ADD rootfs' },
      { created_by: 'ENV x', empty_layer: true },
      { created_by: 'RUN apt-get' },
    ],
  };
  const configBytes = canonicalJsonBytes(config, 'config');
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: {
      mediaType: MediaType.DockerConfig,
      digest: sha256Digest(configBytes),
      size: configBytes.length,
    },
    layers: [
      { mediaType: MediaType.DockerLayerGzip, digest: sha256Digest('g1'), size: 5 },
      { mediaType: MediaType.DockerLayerGzip, digest: sha256Digest('g2'), size: 6 },
    ],
  };
  const bytes = canonicalJsonBytes(manifest, 'manifest');
  return {
    manifest,
    config,
    descriptor: { mediaType: MediaType.DockerManifest, digest: sha256Digest(bytes), size: bytes.length },
    name: 'registry.example/library/ubuntu:24.04',
    locations: [{ registry: 'registry.example', repository: 'library/ubuntu' }],
  };
}

describe('buildImage', () => {
  it('assembles a scratch image with one history entry per layer, no created', () => {
    const img = buildImage({
      platform: { os: 'linux', architecture: 'arm64' },
      layers: [layer('a'), layer('b')],
    });
    expect(img.config.created).toBeUndefined();
    expect(img.config.variant).toBe('v8');
    expect(img.config.rootfs.diff_ids).toEqual([layer('a').diff_id, layer('b').diff_id]);
    expect(img.config.history).toEqual([
      { created: '1970-01-01T00:00:00Z', created_by: 'img' },
      { created: '1970-01-01T00:00:00Z', created_by: 'img' },
    ]);
    expect(img.manifest.config.digest).toBe(sha256Digest(img.configBytes));
    expect(img.descriptor.digest).toBe(sha256Digest(img.manifestBytes));
    expect(img.descriptor.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(img.manifest.annotations).toBeUndefined();
  });

  it('inherits from a base: env in place, entrypoint clears cmd, labels merged, base annotations', () => {
    const base = makeBase();
    const img = buildImage({
      platform: { os: 'linux', architecture: 'amd64' },
      base,
      layers: [layer('app')],
      env: { LANG: 'C.UTF-8', APP: '1' },
      entrypoint: ['/app'],
      labels: { b: '2' },
      annotations: { 'org.opencontainers.image.title': 't' },
      created: '2024-05-01T00:00:00Z',
    });
    const c = img.config.config!;
    expect(c.Env).toEqual(['PATH=/usr/bin', 'LANG=C.UTF-8', 'APP=1']);
    expect(c.Entrypoint).toEqual(['/app']);
    expect(c.Cmd).toBeUndefined();
    expect(c.User).toBe('nobody');
    expect(c.Labels).toEqual({ a: '1', b: '2' });
    expect(img.config.created).toBe('2024-05-01T00:00:00Z');
    expect(img.manifest.layers.map((l) => l.mediaType)).toEqual([
      MediaType.OciLayerGzip,
      MediaType.OciLayerGzip,
      MediaType.OciLayerGzip,
    ]);
    expect(img.manifest.layers[0]!.digest).toBe(base.manifest.layers[0]!.digest);
    expect(img.config.rootfs.diff_ids).toHaveLength(3);
    expect(img.config.history).toHaveLength(4);
    expect(img.config.history![1]).toMatchObject({ created_by: 'ENV x', empty_layer: true });
    expect(img.layers[0]!.sources).toEqual(base.locations);
    expect(img.manifest.annotations).toEqual({
      'org.opencontainers.image.base.digest': base.descriptor.digest,
      'org.opencontainers.image.base.name': 'registry.example/library/ubuntu:24.04',
      'org.opencontainers.image.title': 't',
    });
  });

  it('keeps inherited cmd when entrypoint and cmd are both set, and applies a config fragment', () => {
    const img = buildImage({
      platform: { os: 'linux', architecture: 'amd64' },
      base: makeBase(),
      layers: [],
      configFragment: {
        config: { Env: ['PATH=/bin'], ExposedPorts: { '8080/tcp': {} }, Healthcheck: { Test: ['NONE'] } },
      },
      entrypoint: ['/e'],
      cmd: ['--x'],
      exposedPorts: ['9090'],
    });
    const c = img.config.config!;
    expect(c.Env).toEqual(['PATH=/bin', 'LANG=C']);
    expect(c.Cmd).toEqual(['--x']);
    expect(c.ExposedPorts).toEqual({ '8080/tcp': {}, '9090/tcp': {} });
    expect(c.Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('rejects a base of another platform and bad settings, naming them', () => {
    expect(() =>
      buildImage({ platform: { os: 'linux', architecture: 'arm64' }, base: makeBase(), layers: [] }),
    ).toThrow(/base image registry.example\/library\/ubuntu:24.04 is linux\/amd64, not linux\/arm64\/v8/);
    expect(() =>
      buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [], exposedPorts: ['http'] }),
    ).toThrow(/exposedPorts: invalid port "http"/);
    expect(() =>
      buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [], env: { 'A=B': 'x' } }),
    ).toThrow(/env: invalid variable name "A=B"/);
  });

  it('is deterministic', () => {
    const o = {
      platform: { os: 'linux', architecture: 'amd64' },
      layers: [layer('a')],
      env: { B: '1', A: '2' },
    };
    expect(buildImage(o).manifestBytes.equals(buildImage(o).manifestBytes)).toBe(true);
  });
});

describe('buildIndex', () => {
  it('builds an OCI index and refuses duplicate or missing platforms', () => {
    const a = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [layer('a')] });
    const b = buildImage({ platform: { os: 'linux', architecture: 'arm64' }, layers: [layer('a')] });
    const ix = buildIndex([a.descriptor, b.descriptor]);
    expect(ix.index.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    expect(ix.descriptor.digest).toBe(sha256Digest(ix.indexBytes));
    expect(() => buildIndex([a.descriptor, a.descriptor])).toThrow(
      /platform linux\/amd64 is already used by manifests\[0\]/,
    );
    const { platform: _p, ...noPlatform } = a.descriptor;
    expect(() => buildIndex([noPlatform])).toThrow(/manifests\[0\].*no platform/);
  });
});
