import { describe, expect, it } from 'vitest';
import { mergeConfig, mergePlatform } from './merge.js';

describe('per-platform config merge', () => {
  it('replaces keys and arrays, merges env and labels by name', () => {
    const shared = {
      entrypoint: ['/app'],
      cmd: ['serve'],
      env: { A: '1', B: '2' },
      labels: { team: 'x' },
      exposedPorts: ['80'],
      healthcheck: { test: 'true', interval: '5s' },
    };
    const own = {
      cmd: ['debug'],
      env: { B: '3', C: '4' },
      exposedPorts: ['81'],
      healthcheck: { test: 'false' },
    };
    expect(mergeConfig(shared, own)).toEqual({
      entrypoint: ['/app'],
      cmd: ['debug'],
      env: { A: '1', B: '3', C: '4' },
      labels: { team: 'x' },
      exposedPorts: ['81'],
      healthcheck: { test: 'false' },
    });
    expect(mergeConfig(undefined, own)).toBe(own);
    expect(mergeConfig(shared, undefined)).toBe(shared);
  });

  it('merges annotations by key and replaces layers and base', () => {
    const merged = mergePlatform(
      { base: 'a', layers: [1], annotations: { x: '1', y: '1' }, config: { user: 'u' } },
      { platform: 'linux/arm64', layers: [2], annotations: { y: '2' } },
    );
    expect(merged).toEqual({
      platform: 'linux/arm64',
      base: 'a',
      layers: [2],
      annotations: { x: '1', y: '2' },
      config: { user: 'u' },
    });
  });
});
