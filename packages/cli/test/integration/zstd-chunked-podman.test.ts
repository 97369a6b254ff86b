// zstd:chunked layers pulled by a real podman (Debian's 4.3, overlay storage with partial pulls on):
// both layouts give a container that sees the right files; the stargz-snapshotter layout, which this
// podman's containers/storage reads, is pulled partially (file by file through the TOC).
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imgOk } from '../helpers.js';

const needs = ciRequires('podman', 'runc', 'busybox', { root: true });
const tmp = useTempDir('cli-zstd-chunked-podman-');
// Podman raises nofile/nproc by default, which needs CAP_SYS_RESOURCE; these limits fit any host.
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

describe.skipIf(needs.skip)('zstd:chunked layers in podman', () => {
  let registry: TestRegistry;
  let env: NodeJS.ProcessEnv;
  const big = Buffer.alloc(3 * 1024 * 1024);

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    let x = 1;
    for (let i = 0; i < big.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      big[i] = (i >> 12) % 2 === 0 ? 0x61 + ((x >>> 24) % 4) : x >>> 24;
    }
    const data = tmp.join('data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'big.bin'), big);
    for (let i = 0; i < 20; i++) await writeFile(join(data, `f${i}.txt`), `file ${i}\n`);
    const storageConf = tmp.join('storage.conf');
    await writeFile(
      storageConf,
      [
        '[storage]',
        'driver = "overlay"',
        `runroot = "${tmp.join('run')}"`,
        `graphroot = "${tmp.join('root')}"`,
        '[storage.options.pull_options]',
        'enable_partial_images = "true"',
        'use_hard_links = "false"',
        'ostree_repos = ""',
        '',
      ].join('\n'),
    );
    env = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf };
  });

  afterAll(async () => {
    if (needs.skip) return;
    await run('podman', ['system', 'reset', '--force'], { env, allowFailure: true });
    await registry?.stop();
  });

  for (const layout of ['stargz-snapshotter', 'containers-storage'] as const) {
    it(`pulls and runs an image with a ${layout} zstd:chunked layer`, async () => {
      const spec = tmp.join(`${layout}.json`);
      await writeFile(
        spec,
        JSON.stringify({
          platform: 'linux/amd64',
          layers: [
            { files: { '/bin/busybox': needs.paths.busybox! }, compress: 'zstd' },
            {
              directories: { '/data': tmp.join('data') },
              compress: 'zstd',
              estargz: true,
              zstdChunked: layout,
            },
          ],
          config: {
            entrypoint: [
              '/bin/busybox',
              'sh',
              '-c',
              'cat /data/f3.txt; /bin/busybox sha256sum /data/big.bin',
            ],
            // Both layouts decompress to the same tar: a label keeps the two image IDs apart.
            labels: { 'org.example.layout': layout },
          },
        }),
      );
      const ref = `${registry.url}/zstd-chunked/${layout}:1`;
      await imgOk('build', spec, '--push', ref, '--insecure');
      const pull = await run('podman', ['pull', '--log-level=debug', '--tls-verify=false', ref], { env });
      if (layout === 'stargz-snapshotter') expect(pull.stderr).toMatch(/Retrieved partial blob sha256:/);
      const out = await run('podman', ['run', '--rm', ...ULIMITS, '--network=none', ref], { env });
      const sha = createHash('sha256').update(big).digest('hex');
      expect(out.stdout.trim().split('\n')).toEqual(['file 3', `${sha}  /data/big.bin`]);
    });
  }
});
