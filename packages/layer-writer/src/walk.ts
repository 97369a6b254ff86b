import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerError } from './errors.js';

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
 * symlinks; sockets, FIFOs and devices are rejected (IMG_LAYER_UNSUPPORTED_FILE_TYPE).
 */
export async function walkDirectory(root: string, what: string): Promise<HostNode[]> {
  const out: HostNode[] = [];
  async function visit(dir: string, rel: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw missing(what, dir, err);
    }
    const subdirs: Array<[string, string]> = [];
    await Promise.all(
      names.map(async (name) => {
        const full = join(dir, name);
        const childRel = rel === '' ? name : `${rel}/${name}`;
        let st: BigIntStats;
        try {
          st = await lstat(full, { bigint: true });
        } catch (err) {
          throw missing(what, full, err);
        }
        if (st.isFile()) out.push({ kind: 'file', rel: childRel, file: hostFile(full, st) });
        else if (st.isSymbolicLink())
          out.push({ kind: 'symlink', rel: childRel, target: await readlink(full) });
        else if (st.isDirectory()) {
          out.push({ kind: 'directory', rel: childRel });
          subdirs.push([full, childRel]);
        } else {
          throw new LayerError(
            'IMG_LAYER_UNSUPPORTED_FILE_TYPE',
            `${what}: ${full} is not a regular file, directory or symlink`,
          );
        }
      }),
    );
    for (const [full, childRel] of subdirs) await visit(full, childRel);
  }
  await visit(root, '');
  return out;
}
