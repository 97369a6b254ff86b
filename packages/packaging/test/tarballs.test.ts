import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciRequires } from '@img/test-utils';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, publishedPackages, REPO_ROOT, tarballFiles, type WorkspacePackage } from './tarballs.js';

const tools = ciRequires('pnpm');
let dir = '';
const packed: Array<{ pkg: WorkspacePackage; tgz: string; files: Map<string, Buffer> }> = [];

describe.skipIf(tools.skip)('what each published package ships (pnpm pack)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'img-packaging-'));
    for (const pkg of await publishedPackages()) {
      const tgz = await pack(pkg, dir);
      packed.push({ pkg, tgz, files: await tarballFiles(tgz) });
    }
  }, 300_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('packs every published package', () => {
    expect(packed.map((p) => p.pkg.name).sort()).toEqual([
      '@img/atomic-write',
      '@img/cas-registry',
      '@img/cli',
      '@img/containerd-loader',
      '@img/credential-helper',
      '@img/estargz',
      '@img/image-assembly',
      '@img/layer-writer',
      '@img/oci-layout',
      '@img/oci-spec',
      '@img/registry-client',
      '@img/remote-cache',
    ]);
  });

  it('passes publint (strict: warnings are errors)', async () => {
    const problems: string[] = [];
    for (const { pkg, tgz } of packed) {
      const data = await readFile(tgz);
      const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
      const result = await publint({ pack: { tarball }, strict: true, level: 'suggestion' });
      for (const m of result.messages)
        problems.push(`${pkg.name}: ${formatMessage(m, result.pkg) ?? m.code}`);
    }
    expect(problems).toEqual([]);
  });

  it('ships the Apache-2.0 LICENSE, a repository url and no workspace: ranges', async () => {
    const license = await readFile(join(REPO_ROOT, 'LICENSE'));
    for (const { pkg, files } of packed) {
      expect(files.get('LICENSE')?.equals(license), `${pkg.name} LICENSE`).toBe(true);
      const manifest = JSON.parse(files.get('package.json')!.toString('utf8'));
      expect(manifest.license, pkg.name).toBe('Apache-2.0');
      expect(manifest.repository?.url, pkg.name).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
      expect(manifest.repository?.directory, pkg.name).toBe(`packages/${pkg.dir.split('/').pop()}`);
      expect(JSON.stringify(manifest), pkg.name).not.toContain('workspace:');
    }
  });

  it('ships source maps only with their sources embedded', () => {
    let maps = 0;
    for (const { pkg, files } of packed) {
      for (const [name, data] of files) {
        if (!name.endsWith('.map')) continue;
        maps++;
        const map = JSON.parse(data.toString('utf8')) as { sources: string[]; sourcesContent?: unknown[] };
        const missing = map.sources.filter(
          (s, i) => typeof map.sourcesContent?.[i] !== 'string' && !files.has(join(name, '..', s)),
        );
        expect(missing, `${pkg.name} ${name}`).toEqual([]);
      }
    }
    expect(maps).toBeGreaterThan(0);
  });

  it('the CLI ships one bundle, its protos and the spec and deploy request schemas, and needs no dependency', () => {
    const cli = packed.find((p) => p.pkg.name === '@img/cli')!;
    const manifest = JSON.parse(cli.files.get('package.json')!.toString('utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ img: './dist/bin.cjs' });
    const names = [...cli.files.keys()];
    // containerd's protos (img load) in dist/proto, REAPI's (img registry serve --reapi-endpoint) in dist/protos
    expect(names.filter((n) => !/^dist\/protos?\//.test(n)).sort()).toEqual([
      'LICENSE',
      'README.md',
      'deploy-request.schema.json',
      'dist/bin.cjs',
      'image-spec.schema.json',
      'package.json',
    ]);
    expect(names.some((n) => n.endsWith('/content/v1/content.proto'))).toBe(true);
    expect(names).toContain('dist/protos/build/bazel/remote/execution/v2/remote_execution.proto');
  });
});
