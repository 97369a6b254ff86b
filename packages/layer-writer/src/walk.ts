import type { BigIntStats } from 'node:fs';
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
    executable: (Number(st.mode) & 0o111) !== 0,
  };
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
 * Every node below `root` (not `root` itself), with `rel` paths joined by '/'. Symlinks are kept as
 * symlinks; sockets, FIFOs and devices are rejected (IMG_LAYER_UNSUPPORTED_FILE_TYPE). Uses synchronous
 * fs calls: for trees of many small files they are several times faster than promise-per-file calls.
 * Nodes `exclude` names are left out, and an excluded directory is not read at all.
 */
export async function walkDirectory(root: string, what: string, exclude?: ExcludeTest): Promise<HostNode[]> {
  const out: HostNode[] = [];
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
      const childRel = rel === '' ? name : `${rel}/${name}`;
      let st: BigIntStats;
      try {
        st = lstatSync(full, { bigint: true });
      } catch (err) {
        throw missing(what, full, err);
      }
      if (exclude?.(childRel, st.isDirectory())) continue;
      if (st.isFile()) out.push({ kind: 'file', rel: childRel, file: hostFile(full, st) });
      else if (st.isSymbolicLink()) out.push({ kind: 'symlink', rel: childRel, target: readlinkSync(full) });
      else if (st.isDirectory()) {
        out.push({ kind: 'directory', rel: childRel });
        stack.push([full, childRel]);
      } else {
        throw new LayerError(
          'IMG_LAYER_UNSUPPORTED_FILE_TYPE',
          `${what}: ${full} is not a regular file, directory or symlink`,
        );
      }
    }
  }
  return out;
}
