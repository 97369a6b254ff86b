import { describe, expect, it } from 'vitest';
import { normalizeImageName, parseImageName } from './image-name.js';

describe('normalizeImageName', () => {
  it('qualifies names as Docker does', () => {
    expect(normalizeImageName('app')).toBe('docker.io/library/app:latest');
    expect(normalizeImageName('app:dev')).toBe('docker.io/library/app:dev');
    expect(normalizeImageName('team/app:dev')).toBe('docker.io/team/app:dev');
    expect(normalizeImageName('localhost/app:1')).toBe('localhost/app:1');
    expect(normalizeImageName('localhost:5000/a/b:1.2')).toBe('localhost:5000/a/b:1.2');
    expect(normalizeImageName('registry.example/x')).toBe('registry.example/x:latest');
    expect(normalizeImageName(`ghcr.io/o/app@sha256:${'a'.repeat(64)}`)).toBe(
      `ghcr.io/o/app@sha256:${'a'.repeat(64)}`,
    );
  });

  it('rejects what no runtime accepts, naming the value', () => {
    expect(() => normalizeImageName('App:1')).toThrow(/"App:1": path components must be lowercase/);
    expect(() => normalizeImageName('app:')).toThrow(/invalid tag ""/);
    expect(() => normalizeImageName('app@sha256:12')).toThrow(/invalid digest/);
    expect(() => parseImageName('a b', '--tag')).toThrow(/^--tag "a b"/);
  });
});
