import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ciRequires,
  run,
  startContainerd,
  type TestContainerd,
  useTempDir,
  writeTinyOciLayout,
} from '../src/index.js';

const needs = ciRequires('containerd', 'ctr', 'runc', 'tar', { root: true });
const work = useTempDir('containerd-test-');

describe.skipIf(needs.skip)('startContainerd', () => {
  let containerd: TestContainerd;
  beforeAll(async () => {
    containerd = await startContainerd();
  });
  afterAll(() => containerd?.stop());

  it('answers ctr version on a socket under its temp dir', async () => {
    expect(containerd.address.startsWith(containerd.dir)).toBe(true);
    const { stdout } = await containerd.ctr(['version']);
    expect(stdout).toMatch(/Server:\s*\n\s*Version:/);
  });

  it('stores content and imports an OCI layout into a fresh namespace', async () => {
    const layout = await writeTinyOciLayout(work.join('layout'), { tag: 'v1' });
    const archive = work.join('layout.tar');
    await run('tar', ['-C', layout.dir, '-cf', archive, '.']);
    const ns = containerd.newNamespace();
    expect(ns).not.toBe(containerd.namespace);
    await containerd.ctr(['images', 'import', '--index-name', 'example.test/tiny:v1', archive], {
      namespace: ns,
    });
    const images = await containerd.ctr(['images', 'ls', '-q'], { namespace: ns });
    expect(images.stdout.split('\n')).toContain('example.test/tiny:v1');
    const content = await containerd.ctr(['content', 'ls', '-q'], { namespace: ns });
    expect(content.stdout).toContain(layout.layer.digest);
    const other = await containerd.ctr(['images', 'ls', '-q']);
    expect(other.stdout).not.toContain('example.test/tiny:v1');
  });

  it('stop() ends containerd and removes its directory', async () => {
    const extra = await startContainerd();
    expect(existsSync(extra.address)).toBe(true);
    await extra.stop();
    expect(existsSync(extra.dir)).toBe(false);
    expect(() => process.kill(extra.pid, 0)).toThrow();
  });
});
