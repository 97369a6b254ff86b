import type { BigIntStats, Stats } from 'node:fs';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerError } from './errors.js';
import type { ExcludeTest } from './excludes.js';

/** Identity and size of a host file, captured once during planning. */
export interface HostFile {
  readonly path: string;
  readonly size: number;
  /** `dev:ino`; equal for two paths naming the same inode (same content). */
  readonly inode: string;
  /** More than one hard link: another path may name the same inode. */
  readonly linked: boolean;
  readonly executable: boolean;
}

export type HostNode =
  | { readonly kind: 'file'; readonly rel: string; readonly file: HostFile }
  | { readonly kind: 'directory'; readonly rel: string }
  | { readonly kind: 'symlink'; readonly rel: string; readonly target: string };

function hostFile(path: string, st: BigIntStats): HostFile {
  return {
    path,
    size: Number(st.size),
    inode: `${st.dev}:${st.ino}`,
    linked: st.nlink > 1n,
    executable: (Number(st.mode) & 0o111) !== 0,
  };
}

/**
 * A file found by walkDirectory, kept small because a walk gives tens of thousands that live until the
 * layer is written: its host path and inode key are built when asked for (once or twice per file),
 * from the directory's path (shared) and numeric device and inode numbers.
 */
class WalkedFile implements HostFile {
  readonly dir: string;
  readonly name: string;
  readonly size: number;
  readonly dev: number | bigint;
  readonly ino: number | bigint;
  readonly linked: boolean;
  readonly executable: boolean;

  constructor(dir: string, name: string, st: Stats | BigIntStats) {
    this.dir = dir;
    this.name = name;
    this.size = Number(st.size);
    this.dev = st.dev;
    this.ino = st.ino;
    this.linked = Number(st.nlink) > 1;
    this.executable = (Number(st.mode) & 0o111) !== 0;
  }

  get path(): string {
    return join(this.dir, this.name);
  }

  get inode(): string {
    return `${this.dev}:${this.ino}`;
  }
}

/** lstat without a BigInt per field, unless the device or inode number is too large for a double. */
function lstatExact(path: string): Stats | BigIntStats {
  const st = lstatSync(path);
  return Number.isSafeInteger(st.ino) && Number.isSafeInteger(st.dev)
    ? st
    : lstatSync(path, { bigint: true });
}

function missing(what: string, path: string, err: unknown): LayerError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new LayerError('IMG_LAYER_SOURCE_MISSING', `${what}: cannot read ${path} (${code})`, { cause: err });
}

/** Stat a `file` entry's source (following symlinks); it must be a regular file. */
export async function statSourceFile(path: string, what: string): Promise<HostFile> {
  let st: BigIntStats;
  try {
    st = await stat(path, { bigint: true });
  } catch (err) {
    throw missing(what, path, err);
  }
  if (!st.isFile()) {
    throw new LayerError('IMG_LAYER_UNSUPPORTED_FILE_TYPE', `${what}: ${path} is not a regular file`);
  }
  return hostFile(path, st);
}

/** Check that a `directory` entry's source is a directory (following symlinks). */
export async function checkSourceDirectory(path: string, what: string): Promise<void> {
  let st: BigIntStats;
  try {
    st = await stat(path, { bigint: true });
  } catch (err) {
    throw missing(what, path, err);
  }
  if (!st.isDirectory()) {
    throw new LayerError('IMG_LAYER_UNSUPPORTED_FILE_TYPE', `${what}: ${path} is not a directory`);
  }
}

/**
 * Visit every node below `root` (not `root` itself), depth first, with `rel` paths joined by '/'.
 * Symlinks are kept as symlinks; sockets, FIFOs and devices are rejected
 * (IMG_LAYER_UNSUPPORTED_FILE_TYPE). Uses synchronous fs calls: for trees of many small files they
 * are several times faster than promise-per-file calls. Nodes are handed over one at a time (not
 * collected), so a large tree leaves no second copy of itself behind. Nodes `exclude` names are left
 * out, and an excluded directory is not read at all.
 */
export async function walkDirectory(
  root: string,
  what: string,
  visit: (node: HostNode) => Promise<void>,
  exclude?: ExcludeTest,
): Promise<void> {
  const stack: Array<[dir: string, rel: string]> = [[root, '']];
  while (stack.length > 0) {
    const [dir, rel] = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw missing(what, dir, err);
    }
    for (const name of names) {
      const full = join(dir, name);
      // join() gives a flat string; a template literal would give a rope that V8 later flattens
      // into a second copy (both kept alive by the entry).
      const childRel = rel === '' ? name : [rel, name].join('/');
      let st: Stats | BigIntStats;
      try {
        st = lstatExact(full);
      } catch (err) {
        throw missing(what, full, err);
      }
      if (exclude?.(childRel, st.isDirectory())) continue;
      if (st.isFile()) await visit({ kind: 'file', rel: childRel, file: new WalkedFile(dir, name, st) });
      else if (st.isSymbolicLink())
        await visit({ kind: 'symlink', rel: childRel, target: readlinkSync(full) });
      else if (st.isDirectory()) {
        await visit({ kind: 'directory', rel: childRel });
        stack.push([full, childRel]);
      } else {
        throw new LayerError(
          'IMG_LAYER_UNSUPPORTED_FILE_TYPE',
          `${what}: ${full} is not a regular file, directory or symlink`,
        );
      }
    }
  }
}
