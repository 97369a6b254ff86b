// Fixtures and tool wrappers for this package's tests (not exported from index.ts).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type LayerSpec, writeLayerToFile } from '@img/layer-writer';
import type { LayerMetadata } from '@img/oci-spec';
import { requireTool, run } from '@img/test-utils';
import { type EstargzLayerOptions, TOC_DIGEST_ANNOTATION, writeEstargzLayerToFile } from '../src/index.js';

/** The Go reference oracle (scripts/build-estargz-oracle.sh); undefined locally when not built. */
export const ORACLE = requireTool('estargz-oracle');

export const MiB = 1024 * 1024;
export const SOURCE_DATE_EPOCH = 1_700_000_000;

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Deterministic bytes, half compressible text and half noise, so deflate has real work to do. */
export function pseudoRandom(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (i >> 12) % 2 === 0 ? 0x61 + (x % 6) : x & 0xff;
  }
  return out;
}

export const LONG_DIR = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
export const LONG_NAME = `${'n'.repeat(150)}.txt`;

/** Host files of the fixture tree, by path in the image, with their content. */
export interface FixtureTree {
  readonly root: string;
  readonly files: ReadonlyMap<string, Buffer>;
  readonly spec: LayerSpec;
}

/**
 * A tree with every case the format cares about: empty files, a 10 MiB file (three 4 MiB chunks),
 * symlinks (relative and absolute), hardlinks (same inode and same content), nested directories,
 * long and non-ASCII names, xattrs, an owner with names.
 */
export async function fixtureTree(dir: string): Promise<FixtureTree> {
  const root = join(dir, 'tree');
  const files = new Map<string, Buffer>([
    ['empty.txt', Buffer.alloc(0)],
    ['sub/empty-too', Buffer.alloc(0)],
    ['big.bin', pseudoRandom(10 * MiB, 7)],
    ['app/main.js', Buffer.from('console.log("hello <world> & friends");\n')],
    ['app/lib/util.js', pseudoRandom(300_000, 3)],
    ['app/copy-of-util.js', pseudoRandom(300_000, 3)],
    ['bin/tool', Buffer.from('#!/bin/sh\necho tool\n')],
    ['xattr.txt', Buffer.from('has xattrs\n')],
    ['owned.txt', Buffer.from('owned by app\n')],
    [`${LONG_DIR}/${LONG_NAME}`, Buffer.from('long name\n')],
    ['ünïcödé/日本語.txt', Buffer.from('unicode\n')],
    ['odd name & <chars>.txt', Buffer.from('escaped in JSON\n')],
  ]);
  for (const [path, data] of files) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), data, { mode: path === 'bin/tool' ? 0o755 : 0o644 });
  }
  await link(join(root, 'bin/tool'), join(root, 'bin/tool-hardlink'));
  files.set('bin/tool-hardlink', files.get('bin/tool')!);
  await symlink('../app/main.js', join(root, 'bin/main-link'));
  await symlink('/etc/os-release', join(root, 'abs-link'));
  await mkdir(join(root, 'empty-dir'));
  const spec: LayerSpec = {
    entries: [{ type: 'directory', path: '/', source: root }],
    fileMetadata: {
      'xattr.txt': {
        paxRecords: { 'SCHILY.xattr.user.comment': 'hello <xattr>', 'SCHILY.xattr.user.ünï': 'ü' },
      },
      'owned.txt': { uid: 1000, gid: 1001, uname: 'app', gname: 'appgroup' },
    },
  };
  return { root, files, spec };
}

/** Write our eStargz blob; returns its path, metadata and TOC digest. */
export async function writeOurs(
  spec: LayerSpec,
  path: string,
  options: EstargzLayerOptions = {},
): Promise<{ path: string; metadata: LayerMetadata; tocDigest: string }> {
  const metadata = await writeEstargzLayerToFile(spec, path, {
    sourceDateEpoch: SOURCE_DATE_EPOCH,
    ...options,
  });
  return { path, metadata, tocDigest: metadata.annotations![TOC_DIGEST_ANNOTATION]! };
}

/** The same layer as a plain tar (layer-writer), the input for the reference builder. */
export async function writePlainTar(spec: LayerSpec, path: string): Promise<string> {
  await writeLayerToFile(spec, path, { compression: 'none', sourceDateEpoch: SOURCE_DATE_EPOCH });
  return path;
}

export interface OracleFile {
  name: string;
  type: string;
  size?: number;
  mode: number;
  linkName?: string;
  digest?: string;
  chunks?: number;
  xattrs?: Record<string, string>;
}

export interface OracleVerify {
  tocDigest: string;
  files: OracleFile[];
  chunks: number;
}

/** `estargz-oracle verify`: the reference reader's VerifyTOC plus a read of every chunk. */
export async function oracleVerify(
  blob: string,
  tocDigest: string,
  flags: string[] = [],
): Promise<OracleVerify> {
  const r = await run(ORACLE!, ['verify', ...flags, blob, tocDigest]);
  return JSON.parse(r.stdout) as OracleVerify;
}

export interface OracleZstdChunked {
  diffId: string;
  files: number;
  manifestChecksum: string;
  manifestPosition: string;
  tarSplitChecksum: string;
  tarSplitPosition: string;
}

/**
 * `estargz-oracle zstdchunked`: a containers/storage zstd:chunked blob read back as containers/storage
 * reads it, every file fetched from its frames, the tar rebuilt by tar-split (CRC-64 checked).
 */
export async function oracleZstdChunked(blob: string): Promise<OracleZstdChunked> {
  const r = await run(ORACLE!, ['zstdchunked', blob]);
  return JSON.parse(r.stdout) as OracleZstdChunked;
}

/** `estargz-oracle verify` expected to fail; returns its error output. */
export async function oracleRejects(blob: string, tocDigest: string, flags: string[] = []): Promise<string> {
  const r = await run(ORACLE!, ['verify', ...flags, blob, tocDigest], { allowFailure: true });
  if (r.code === 0) throw new Error(`the reference verifier accepted ${blob}`);
  return r.stderr;
}

export interface OracleBuild {
  tocDigest: string;
  diffId: string;
  annotations: Record<string, string>;
}

/** `estargz-oracle build`: estargz.Build of a plain tar. */
export async function oracleBuild(tar: string, out: string, flags: string[] = []): Promise<OracleBuild> {
  const r = await run(ORACLE!, ['build', ...flags, tar, out]);
  return JSON.parse(r.stdout) as OracleBuild;
}

/** Decompress a whole blob with the system tool (`gzip -dc` / `zstd -dc`): the layer's tar stream. */
export async function systemDecompress(blob: string, format: 'gzip' | 'zstd' = 'gzip'): Promise<Buffer> {
  return (await run(format, ['-dc', blob])).stdoutBytes;
}

/** Decompress zstd frames in memory with the system tool (Node 20's zlib has no zstd). */
export function unzstd(data: Uint8Array): Buffer {
  return execFileSync('zstd', ['-dcq'], { input: data, maxBuffer: 1 << 28 });
}

/** Entry names of an uncompressed tar in archive order (GNU tar). */
export async function tarNames(tarPath: string): Promise<string[]> {
  return (await run('tar', ['-tf', tarPath])).stdout.split('\n').filter((l) => l !== '');
}

/** gunzip everything from `offset` to `end` of a blob (Node zlib, all members). */
export function gunzipRange(blob: Buffer, offset: number, end = blob.length): Buffer {
  return gunzipSync(blob.subarray(offset, end));
}
