import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
import { sha256Digest } from './digest.js';

describe('canonicalJson', () => {
  it('reproduces rules_img golden config and manifest digests (Go encoding/json order)', () => {
    const config = {
      os: 'linux',
      rootfs: { diff_ids: [], type: 'layers' },
      config: {},
      architecture: 'amd64',
    };
    const bytes = canonicalJsonBytes(config, 'config');
    expect(bytes.toString()).toBe(
      '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}',
    );
    expect(bytes.length).toBe(90);
    expect(sha256Digest(bytes)).toBe(
      'sha256:dc570f145a7f2862c9ef3c30b8d6ae2feaceb0d364e4b2e08e67ae18815427d9',
    );
    const manifest = {
      layers: [],
      config: {
        size: 90,
        digest: sha256Digest(bytes),
        mediaType: 'application/vnd.oci.image.config.v1+json',
      },
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      schemaVersion: 2,
    };
    expect(sha256Digest(canonicalJsonBytes(manifest, 'manifest'))).toBe(
      'sha256:c5c3090c78a69c23565353b874b43eda3ad7c4cfcb855e839f3908ac5a11a9e6',
    );
  });

  it('sorts map keys, keeps struct order, drops undefined, escapes like Go', () => {
    const json = canonicalJson(
      {
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { z: '1', a: '<&>' }, Env: ['B=1', 'A=2'], User: undefined },
        rootfs: { type: 'layers', diff_ids: [] },
        zzz: 1,
        aaa: 2,
      },
      'config',
    );
    expect(json).toBe(
      '{"architecture":"amd64","os":"linux","config":{"Env":["B=1","A=2"],"Labels":{"a":"\\u003c\\u0026\\u003e","z":"1"}},"rootfs":{"type":"layers","diff_ids":[]},"aaa":2,"zzz":1}',
    );
  });

  it('orders descriptor fields like specs-go, including nested platform', () => {
    const json = canonicalJson(
      {
        platform: { variant: 'v8', os: 'linux', architecture: 'arm64' },
        size: 3,
        annotations: { b: '2', a: '1' },
        digest: 'sha256:x',
        mediaType: 'm',
      },
      'descriptor',
    );
    expect(json).toBe(
      '{"mediaType":"m","digest":"sha256:x","size":3,"annotations":{"a":"1","b":"2"},"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}',
    );
  });

  it('rejects values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a: not a finite number/);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(/function/);
  });
});
