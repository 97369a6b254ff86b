import { describe, expect, it } from 'vitest';
import { isRegistryBase, registryBaseReference } from './base-reference.js';

describe('isRegistryBase', () => {
  it('tells registry references from layout paths as Docker tells registries from paths', () => {
    for (const ref of [
      'docker.io/library/alpine:3.19',
      'localhost:5000/base:1',
      '127.0.0.1:5000/a/b@sha256:' + 'a'.repeat(64),
      'localhost/x',
      'docker://alpine:3.19',
    ]) {
      expect(isRegistryBase(ref), ref).toBe(true);
    }
    for (const path of [
      'base',
      'out/layout',
      './x.y/z',
      '../base.d/layout',
      '/abs/reg.io/x',
      'oci:reg.io/x',
      'oci-archive:a.b/c.tar',
    ]) {
      expect(isRegistryBase(path), path).toBe(false);
    }
    expect(registryBaseReference('docker://alpine:3.19')).toBe('alpine:3.19');
  });
});
