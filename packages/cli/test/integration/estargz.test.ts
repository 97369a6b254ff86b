// eStargz through the CLI and real consumers: `img layer --estargz`, `img estargz verify|ls|extract`,
// `img build` with "estargz": true unpacked by umoci and run by containerd, and Debian's ctr-remote
// converting one of our images in a real containerd, whose layers our reader must verify.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openEstargz, TOC_DIGEST_ANNOTATION } from '@img/estargz';
import {
  ciRequires,
  requireTool,
  run,
  startContainerd,
  type TestContainerd,
  useTempDir,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { img, imgOk } from '../helpers.js';

const tmp = useTempDir('img-cli-estargz-');
const oracle = requireTool('estargz-oracle');
const umoci = ciRequires('umoci');
const containerd = ciRequires('containerd', 'ctr', 'ctr-remote', 'runc', 'busybox', { root: true });
const MiB = 1024 * 1024;

function pseudoRandom(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (i >> 10) % 3 === 0 ? x >>> 24 : 0x41 + ((x >>> 16) % 20);
  }
  return out;
}

const FILES: Record<string, Buffer> = {
  'app/server.js': Buffer.from('require("http").createServer().listen(8080);\n'),
  'app/big.dat': pseudoRandom(9 * MiB, 5),
  'app/empty': Buffer.alloc(0),
  'app/conf/settings.json': Buffer.from('{"a":1}\n'),
  'app/conf/copy.json': Buffer.from('{"a":1}\n'),
};

let src: string;
beforeAll(async () => {
  src = tmp.join('src');
  for (const [path, data] of Object.entries(FILES)) {
    await mkdir(join(src, path, '..'), { recursive: true });
    await writeFile(join(src, path), data);
  }
});

async function layer(name: string, ...flags: string[]) {
  const blob = tmp.join(`${name}.tgz`);
  const meta = tmp.join(`${name}.json`);
  const r = await img('layer', blob, '--add-dir', `/=${src}`, '--metadata', meta, ...flags);
  return { blob, meta, r };
}

describe('img layer --estargz and img estargz', () => {
  it('writes a verifiable eStargz layer with prioritized files; verify, ls and extract read it', async () => {
    const list = tmp.join('prio.txt');
    await writeFile(list, '# hot path first\n/app/server.js\n\napp/conf/settings.json\n');
    const { blob, meta, r } = await layer('prio', '--estargz', '--prioritized-files', list);
    expect(r.code, r.stderr).toBe(0);
    const metadata = JSON.parse(await readFile(meta, 'utf8'));
    const toc = metadata.annotations[TOC_DIGEST_ANNOTATION];
    expect(toc).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(metadata.annotations['io.containers.estargz.uncompressed-size']).toBe(
      String(metadata.uncompressed_size),
    );
    expect(metadata.digest).toBe(
      `sha256:${createHash('sha256')
        .update(await readFile(blob))
        .digest('hex')}`,
    );

    const verify = await imgOk('estargz', 'verify', blob, '--metadata', meta);
    expect(verify.stdout).toMatch(
      new RegExp(`^OK .*: estargz, TOC ${toc}, \\d+ entries, 4 files, 6 chunks, \\d+ bytes verified$`),
    );
    expect((await imgOk('estargz', 'verify', blob, '--toc-digest', toc)).stdout).toMatch(/^OK /);

    const ls = (await imgOk('estargz', 'ls', blob)).stdout.split('\n');
    expect(ls.map((l) => l.split(/\s+/)[4])).toEqual([
      'app',
      'app/server.js',
      'app/conf',
      'app/conf/settings.json',
      '.prefetch.landmark',
      'app/big.dat',
      'app/conf/copy.json',
      'app/empty',
    ]);
    expect(ls[5]).toMatch(/^reg\s+0644 0:0\s+9437184 app\/big\.dat \(3 chunks\)$/);
    expect(ls[6]).toMatch(/^hardlink .* app\/conf\/copy\.json -> app\/conf\/settings\.json$/);
    const json = JSON.parse((await imgOk('estargz', 'ls', blob, '--json')).stdout);
    expect(json).toMatchObject({ format: 'estargz', tocDigest: toc });

    const out = tmp.join('big.out');
    await imgOk('estargz', 'extract', blob, 'app/big.dat', '--output', out);
    expect((await readFile(out)).equals(FILES['app/big.dat']!)).toBe(true);

    if (oracle) await run(oracle, ['verify', blob, toc]);
  });

  it('writes zstd:chunked with --format zstd --estargz', async () => {
    const { blob, meta, r } = await layer(
      'zstd',
      '--estargz',
      '--format',
      'zstd',
      '--estargz-chunk-size',
      String(2 * MiB),
    );
    expect(r.code, r.stderr).toBe(0);
    const metadata = JSON.parse(await readFile(meta, 'utf8'));
    expect(metadata.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect((await imgOk('estargz', 'verify', blob, '--metadata', meta)).stdout).toMatch(
      /zstd:chunked, .* 8 chunks/,
    );
    // Default layout: containers/storage's (podman, CRI-O), rebuilt by tar-split to our diff_id.
    expect(metadata.annotations['io.github.containers.zstd-chunked.tarsplit-position']).toMatch(
      /^\d+:\d+:\d+$/,
    );
    if (oracle) {
      const seen = JSON.parse((await run(oracle, ['zstdchunked', blob])).stdout);
      expect(seen.diffId).toBe(metadata.diff_id);
    }

    // --zstd-chunked stargz-snapshotter: the layout its zstdchunked package reads.
    const sn = await layer(
      'zstd-sn',
      '--estargz',
      '--format',
      'zstd',
      '--zstd-chunked',
      'stargz-snapshotter',
    );
    expect(sn.r.code, sn.r.stderr).toBe(0);
    const snMeta = JSON.parse(await readFile(sn.meta, 'utf8'));
    expect(snMeta.annotations['io.containers.zstd-chunked.manifest-position']).toMatch(/^\d+:\d+:\d+:1$/);
    await imgOk('estargz', 'verify', sn.blob, '--metadata', sn.meta);
    if (oracle)
      await run(oracle, ['verify', '-zstdchunked', sn.blob, snMeta.annotations[TOC_DIGEST_ANNOTATION]]);
    const bad = await layer('zstd-bad', '--estargz', '--format', 'zstd', '--zstd-chunked', 'brotli');
    expect(bad.r.stderr).toContain(
      '--zstd-chunked "brotli": expected one of containers-storage, stargz-snapshotter',
    );
  });

  it('fails with one clear line on bad input and leaves nothing behind', async () => {
    const { blob, meta } = await layer('good', '--estargz');
    const toc = JSON.parse(await readFile(meta, 'utf8')).annotations[TOC_DIGEST_ANNOTATION];
    const bytes = await readFile(blob);

    const truncated = tmp.join('truncated.tgz');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 30));
    const t = await img('estargz', 'verify', truncated, '--toc-digest', toc);
    expect([t.code, t.stderr]).toEqual([
      1,
      `img: ${truncated}: not an eStargz or zstd:chunked blob: no eStargz footer in its last 72 bytes (truncated, or a plain layer?)`,
    ]);

    const wrong = `sha256:${'1'.repeat(64)}`;
    const w = await img('estargz', 'verify', blob, '--toc-digest', wrong);
    expect([w.code, w.stderr]).toEqual([1, `img: ${blob}: TOC digest is ${toc}, expected ${wrong}`]);

    const reader = await openEstargz(blob);
    const chunk = reader.lookup('app/big.dat')!.chunks[2]!;
    const corrupt = Buffer.from(bytes);
    for (let i = 0; i < 64; i++) corrupt[chunk.offset + 100 + i]! ^= 0xa5;
    await writeFile(tmp.join('corrupt.tgz'), corrupt);
    const c = await img('estargz', 'verify', tmp.join('corrupt.tgz'), '--toc-digest', toc);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^img: .*corrupt\.tgz: "app\/big\.dat" .*(corrupt compressed data|have digest)/);
    expect(c.stderr.split('\n')).toHaveLength(1);

    const usage = await img('estargz', 'verify', blob);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--toc-digest .* is required/);

    const list = tmp.join('missing.txt');
    await writeFile(list, 'app/server.js\napp/nope.js\n');
    const outDir = tmp.join('nothing');
    await mkdir(outDir);
    const m = await img(
      'layer',
      join(outDir, 'l.tgz'),
      '--add-dir',
      `/=${src}`,
      '--metadata',
      join(outDir, 'l.json'),
      '--estargz',
      '--prioritized-files',
      list,
    );
    expect([m.code, m.stderr]).toEqual([1, `img: ${list}[1]: "app/nope.js" is not in the layer`]);
    expect(await readdir(outDir)).toEqual([]);

    const noFlag = await img(
      'layer',
      join(outDir, 'l.tgz'),
      '--add-dir',
      `/=${src}`,
      '--metadata',
      join(outDir, 'l.json'),
      '--prioritized-files',
      list,
    );
    expect([noFlag.code, noFlag.stderr]).toEqual([
      2,
      'img: --prioritized-files, --estargz-chunk-size and --zstd-chunked need --estargz',
    ]);
    const none = await img(
      'layer',
      join(outDir, 'l.tgz'),
      '--add-dir',
      `/=${src}`,
      '--metadata',
      join(outDir, 'l.json'),
      '--estargz',
      '--format',
      'none',
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/eStargz layers are gzip/);
    expect(await readdir(outDir)).toEqual([]);
  });
});

/** Every path under `root` with type, mode, size, content digest or link target. */
async function treeOf(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const rel of (await readdir(root, { recursive: true })).map(String).sort()) {
    const path = join(root, rel);
    const st = await lstat(path);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.set(rel, `link ${await readlink(path)}`);
    else if (st.isDirectory()) out.set(rel, `dir ${mode}`);
    else
      out.set(
        rel,
        `file ${mode} ${st.nlink} ${st.size} ${createHash('sha256')
          .update(await readFile(path))
          .digest('hex')}`,
      );
  }
  return out;
}

async function writeSpec(name: string, estargz: boolean): Promise<string> {
  const spec = {
    platform: 'linux/amd64',
    layers: [
      {
        files: { '/bin/busybox': '/bin/busybox' },
        symlinks: { '/bin/sh': 'busybox', '/bin/cat': 'busybox' },
        metadata: { '/bin/busybox': { mode: '0755' } },
        ...(estargz ? { estargz: true } : {}),
      },
      { directories: { '/': src }, ...(estargz ? { estargz: true } : {}) },
    ],
    config: { cmd: ['/bin/sh', '-c', 'cat /app/conf/settings.json'] },
  };
  const path = tmp.join(`${name}.json`);
  await writeFile(path, JSON.stringify(spec));
  return path;
}

describe.skipIf(umoci.skip)('img build with "estargz": true', () => {
  it('umoci unpacks the same tree as the gzip image, plus the TOC and landmark files', async () => {
    const trees: Map<string, string>[] = [];
    for (const estargz of [false, true]) {
      const name = estargz ? 'esgz' : 'gzip';
      const layout = tmp.join(`layout-${name}`);
      await imgOk('build', await writeSpec(`spec-${name}`, estargz), '--output', `oci:${layout}`);
      await imgOk('validate', `oci:${layout}`);
      const bundle = tmp.join(`bundle-${name}`);
      await run('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
      trees.push(await treeOf(join(bundle, 'rootfs')));
    }
    const [plain, esgz] = trees as [Map<string, string>, Map<string, string>];
    const extra = [...esgz.keys()].filter((k) => !plain.has(k)).sort();
    // Plain extraction of eStargz layers (any runtime without the snapshotter) creates these files.
    expect(extra).toEqual(['.no.prefetch.landmark', 'stargz.index.json']);
    for (const k of extra) esgz.delete(k);
    expect(esgz).toEqual(plain);
    expect(plain.get('app/conf/copy.json')).toMatch(/^file 644 2 /);
  });
});

describe.skipIf(containerd.skip)('containerd and ctr-remote', () => {
  let ctrd: TestContainerd;
  beforeAll(async () => {
    ctrd = await startContainerd();
  });
  afterAll(() => ctrd?.stop());

  async function importImage(ns: string, name: string, estargz: boolean): Promise<void> {
    const archive = tmp.join(`${name}.tar`);
    await imgOk('build', await writeSpec(`ctr-${name}`, estargz), '--output', `oci-archive:${archive}`);
    await ctrd.ctr(['images', 'import', '--index-name', `example.test/${name}:1`, archive], {
      namespace: ns,
    });
  }

  async function targetOf(ns: string, ref: string): Promise<string> {
    const ls = await ctrd.ctr(['images', 'ls'], { namespace: ns });
    const line = ls.stdout.split('\n').find((l) => l.startsWith(`${ref} `));
    return /(sha256:[0-9a-f]{64})/.exec(line ?? '')![1]!;
  }

  it('imports (unpacking against our diff_ids) and runs an image whose layers are our eStargz', async () => {
    const ns = ctrd.newNamespace('esgz-run');
    await importImage(ns, 'esgz-run', true);
    const check = await ctrd.ctr(['images', 'check'], { namespace: ns });
    expect(check.stdout).toMatch(/example\.test\/esgz-run:1 .* complete/);
    const r = await ctrd.ctr(['run', '--rm', 'example.test/esgz-run:1', `esgz-${ns}`], { namespace: ns });
    expect(r.stdout.trim()).toBe('{"a":1}');
  });

  it('ctr-remote converts our image to eStargz; our reader lists and verifies every layer', async () => {
    const ns = ctrd.newNamespace('esgz-convert');
    await importImage(ns, 'plain', false);
    await run(
      'ctr-remote',
      [
        ...ctrd.addressArgs(ns),
        'image',
        'convert',
        '--estargz',
        '--oci',
        'example.test/plain:1',
        'example.test/converted:1',
      ],
      {
        timeoutMs: 300_000,
      },
    );
    const get = async (digest: string) =>
      JSON.parse((await ctrd.ctr(['content', 'get', digest], { namespace: ns })).stdout);
    let manifest = await get(await targetOf(ns, 'example.test/converted:1'));
    // An imported layout is kept as its index (--index-name); the converted image is an index too.
    if (manifest.manifests) manifest = await get(manifest.manifests[0].digest);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.layers).toHaveLength(2);
    for (const [i, desc] of manifest.layers.entries()) {
      const toc = desc.annotations?.[TOC_DIGEST_ANNOTATION];
      expect(toc, `layer ${i}`).toMatch(/^sha256:/);
      const blob = tmp.join(`converted-${i}.tgz`);
      await writeFile(blob, (await ctrd.ctr(['content', 'get', desc.digest], { namespace: ns })).stdoutBytes);
      const verify = await imgOk('estargz', 'verify', blob, '--toc-digest', toc);
      expect(verify.stdout).toMatch(/^OK .*: estargz, /);
      const ls = (await imgOk('estargz', 'ls', blob)).stdout;
      expect(ls).toMatch(/\.no\.prefetch\.landmark/);
      if (i === 1) {
        const reader = await openEstargz(blob);
        for (const [path, data] of Object.entries(FILES))
          expect((await reader.readFile(path)).equals(data), path).toBe(true);
        expect(reader.lookup('app/big.dat')!.chunks.length).toBe(3);
      }
    }
  });
});
