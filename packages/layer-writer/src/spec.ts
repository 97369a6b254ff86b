import type { FileMetadata } from './metadata.js';

/** A regular file copied from the host (symlinks on the host are followed). */
export interface FileEntry {
  readonly type: 'file';
  /** Path in the image, e.g. `/app/server.js`. */
  readonly path: string;
  /** Host file to copy. */
  readonly source: string;
}

/**
 * A directory. With `source`, the host directory's contents are copied recursively (subdirectories,
 * regular files, symlinks kept as symlinks); without it, one empty directory entry. A `path` of `/`
 * with a source copies the contents into the image root.
 */
export interface DirectoryEntry {
  readonly type: 'directory';
  readonly path: string;
  readonly source?: string;
  /**
   * With `source`: gitignore-style patterns, matched against paths relative to `source`, of nodes to
   * leave out (`*.log`, `node_modules/`, `/build`, `!keep.log`). An excluded directory is not
   * descended into, so nothing below it can be re-included (as in git).
   */
  readonly excludes?: readonly string[];
  /**
   * Owner of this directory entry and of every node below it (from `source`); a path's own
   * `fileMetadata` still wins, and this wins over `defaultMetadata`.
   */
  readonly owner?: TreeOwner;
}

/** Ownership for a whole tree: any of uid, gid, uname, gname. */
export type TreeOwner = Pick<FileMetadata, 'uid' | 'gid' | 'uname' | 'gname'>;

/** A symlink; `target` is written verbatim (absolute targets allowed). */
export interface SymlinkEntry {
  readonly type: 'symlink';
  readonly path: string;
  readonly target: string;
}

/** A regular file with inline content (a string is written as UTF-8; '' gives an empty file). */
export interface ContentEntry {
  readonly type: 'content';
  readonly path: string;
  readonly content: string | Uint8Array;
}

/** Deletes `path` from lower layers: writes `<dir>/.wh.<basename>`. */
export interface WhiteoutEntry {
  readonly type: 'whiteout';
  readonly path: string;
}

/** Hides every lower-layer child of the directory `path`: writes `<path>/.wh..wh..opq`. */
export interface OpaqueEntry {
  readonly type: 'opaque';
  readonly path: string;
}

export type LayerEntry =
  | FileEntry
  | DirectoryEntry
  | SymlinkEntry
  | ContentEntry
  | WhiteoutEntry
  | OpaqueEntry;

/** What goes into a layer. */
export interface LayerSpec {
  readonly entries: readonly LayerEntry[];
  /**
   * Metadata for single entries, keyed by path in the image ('/app/run.sh', 'app/run.sh' and
   * 'app/run.sh/' are the same key). A key that matches no written entry is an error.
   */
  readonly fileMetadata?: Readonly<Record<string, FileMetadata>>;
  /** Metadata for every entry; its `mode` applies to regular files only. */
  readonly defaultMetadata?: FileMetadata;
  /** Write a 0755 entry for every missing parent directory. Default DEFAULT_CREATE_PARENT_DIRECTORIES. */
  readonly createParentDirectories?: boolean;
}

/**
 * Off by default: an entry for `/usr` would replace the base layer's `/usr` attributes; extractors
 * create missing parents themselves.
 */
export const DEFAULT_CREATE_PARENT_DIRECTORIES = false;
