import ignore from 'ignore';
import { LayerError } from './errors.js';
import { type MetadataOverrides, parseFileMetadata } from './metadata.js';
import type { TreeOwner } from './spec.js';

/** Whether a node below a source directory is left out; `rel` is '/'-joined, relative to the source. */
export type ExcludeTest = (rel: string, isDirectory: boolean) => boolean;

/** Compile a directory entry's gitignore-style `excludes`; `field` names them in errors. */
export function compileExcludes(patterns: unknown, field: string): ExcludeTest | undefined {
  if (patterns === undefined) return undefined;
  if (!Array.isArray(patterns)) {
    throw new LayerError('IMG_LAYER_INVALID_OPTION', `${field}: expected an array of patterns`);
  }
  patterns.forEach((p, i) => {
    if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) {
      throw new LayerError(
        'IMG_LAYER_INVALID_OPTION',
        `${field}[${i}]: expected a non-empty gitignore-style pattern, got ${JSON.stringify(p)}`,
      );
    }
  });
  if (patterns.length === 0) return undefined;
  const matcher = ignore().add(patterns as string[]);
  return (rel, isDirectory) => matcher.ignores(isDirectory ? `${rel}/` : rel);
}

const OWNER_FIELDS = new Set(['uid', 'gid', 'uname', 'gname']);

/** Validate a directory entry's `owner`; `field` names it in errors. */
export function parseTreeOwner(owner: TreeOwner | undefined, field: string): MetadataOverrides | undefined {
  if (owner === undefined) return undefined;
  if (typeof owner === 'object' && owner !== null) {
    const extra = Object.keys(owner).find((k) => !OWNER_FIELDS.has(k));
    if (extra !== undefined) {
      throw new LayerError(
        'IMG_LAYER_INVALID_METADATA',
        `${field}: unknown field ${JSON.stringify(extra)} (an owner has uid, gid, uname, gname)`,
      );
    }
  }
  return parseFileMetadata(owner, field);
}
