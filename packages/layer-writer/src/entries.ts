import { LayerError } from './errors.js';
import { compileExcludes, parseTreeOwner } from './excludes.js';
import type { MetadataOverrides, ResolvedMetadata } from './metadata.js';
import { baseName, joinLayerPath, normalizeLayerPath, parentOf } from './paths.js';
import type { LayerEntry } from './spec.js';
import { checkSourceDirectory, type HostFile, statSourceFile, walkDirectory } from './walk.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** Default modes; see the README's determinism rules. */
export const DEFAULT_FILE_MODE = 0o644;
export const DEFAULT_EXECUTABLE_MODE = 0o755;
export const DEFAULT_DIRECTORY_MODE = 0o755;
export const DEFAULT_SYMLINK_MODE = 0o777;

export type PlannedSource =
  | { readonly kind: 'host'; readonly file: HostFile }
  | { readonly kind: 'bytes'; readonly data: Buffer };

/** One entry of the layer, decided: normalised path, type, source and metadata. */
export interface PlannedEntry {
  /** Normalised path without trailing '/'. */
  readonly path: string;
  readonly kind: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly source?: PlannedSource;
  readonly target?: string;
  readonly meta: ResolvedMetadata;
  /** A `.wh.` marker: never deduplicated into a hardlink. */
  readonly whiteout: boolean;
}

/** An entry before metadata resolution, with where it came from (for error messages). */
export interface Draft {
  path: string;
  kind: PlannedEntry['kind'];
  source?: PlannedSource;
  target?: string;
  baseMode: number;
  /** Whether defaultMetadata.mode applies. */
  regular: boolean;
  whiteout: boolean;
  /** The spec entry it came from; see describeDraft. */
  origin: string;
  /** Found below a `directory` entry's source (`origin`): described with its own path too. */
  walked?: boolean;
  /** Ownership of the directory tree the entry came from (between defaultMetadata and fileMetadata). */
  owner?: MetadataOverrides;
}

/** Where a draft came from, for error messages (built only when needed: a walk gives thousands). */
export function describeDraft(d: Draft): string {
  return d.walked ? walkedOrigin(d.origin, d.path) : d.origin;
}

function walkedOrigin(origin: string, path: string): string {
  return `${origin} -> ${JSON.stringify(path)}`;
}

const directoryDraft = { baseMode: DEFAULT_DIRECTORY_MODE, regular: false, whiteout: false } as const;

function describe(entry: LayerEntry, index: number): string {
  return `entries[${index}] (${entry.type} ${JSON.stringify(entry.path)})`;
}

function checkName(path: string, origin: string): void {
  if (baseName(path).startsWith(WHITEOUT_PREFIX)) {
    throw new LayerError(
      'IMG_LAYER_INVALID_PATH',
      `${origin}: ${JSON.stringify(path)}: names starting with ".wh." are reserved for whiteouts`,
    );
  }
}

/** Expand one spec entry into drafts (a source directory gives one per node below it). */
export async function expand(
  entry: LayerEntry,
  index: number,
  add: (d: Draft) => Promise<void>,
): Promise<void> {
  const origin = describe(entry, index);
  if (typeof entry !== 'object' || entry === null) {
    throw new LayerError('IMG_LAYER_INVALID_OPTION', `entries[${index}]: expected an object`);
  }
  const path = normalizeLayerPath(entry.path, `${origin}.path`);
  const needPath = () => {
    if (path === '') throw new LayerError('IMG_LAYER_INVALID_PATH', `${origin}: path must not be the root`);
  };
  switch (entry.type) {
    case 'file': {
      needPath();
      checkName(path, origin);
      const file = await statSourceFile(entry.source, origin);
      const baseMode = file.executable ? DEFAULT_EXECUTABLE_MODE : DEFAULT_FILE_MODE;
      await add({
        path,
        kind: 'file',
        source: { kind: 'host', file },
        baseMode,
        regular: true,
        whiteout: false,
        origin,
      });
      return;
    }
    case 'content': {
      needPath();
      checkName(path, origin);
      if (typeof entry.content !== 'string' && !(entry.content instanceof Uint8Array)) {
        throw new LayerError('IMG_LAYER_INVALID_OPTION', `${origin}.content: expected a string or bytes`);
      }
      const data =
        typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : Buffer.from(entry.content);
      await add({
        path,
        kind: 'file',
        source: { kind: 'bytes', data },
        baseMode: DEFAULT_FILE_MODE,
        regular: true,
        whiteout: false,
        origin,
      });
      return;
    }
    case 'symlink': {
      needPath();
      checkName(path, origin);
      if (typeof entry.target !== 'string' || entry.target === '' || entry.target.includes('\0')) {
        throw new LayerError(
          'IMG_LAYER_INVALID_PATH',
          `${origin}.target: invalid symlink target ${JSON.stringify(entry.target)}`,
        );
      }
      await add({
        path,
        kind: 'symlink',
        target: entry.target,
        baseMode: DEFAULT_SYMLINK_MODE,
        regular: false,
        whiteout: false,
        origin,
      });
      return;
    }
    case 'directory': {
      const owner = parseTreeOwner(entry.owner, `${origin}.owner`);
      const tree = owner ? { owner } : {};
      const exclude = compileExcludes(entry.excludes, `${origin}.excludes`);
      if (exclude && entry.source === undefined) {
        throw new LayerError('IMG_LAYER_INVALID_OPTION', `${origin}.excludes: needs a source directory`);
      }
      if (path !== '') {
        checkName(path, origin);
        await add({ path, kind: 'directory', ...directoryDraft, origin, ...tree });
      } else if (entry.source === undefined) {
        throw new LayerError(
          'IMG_LAYER_INVALID_PATH',
          `${origin}: an empty directory entry cannot be the root`,
        );
      }
      if (entry.source === undefined) return;
      await checkSourceDirectory(entry.source, origin);
      await walkDirectory(
        entry.source,
        origin,
        async (node) => {
          const child = joinLayerPath(path, node.rel);
          if (baseName(child).startsWith(WHITEOUT_PREFIX)) checkName(child, walkedOrigin(origin, child));
          if (node.kind === 'file') {
            const baseMode = node.file.executable ? DEFAULT_EXECUTABLE_MODE : DEFAULT_FILE_MODE;
            await add({
              path: child,
              kind: 'file',
              source: { kind: 'host', file: node.file },
              baseMode,
              regular: true,
              whiteout: false,
              origin,
              walked: true,
              ...tree,
            });
          } else if (node.kind === 'symlink') {
            await add({
              path: child,
              kind: 'symlink',
              target: node.target,
              baseMode: DEFAULT_SYMLINK_MODE,
              regular: false,
              whiteout: false,
              origin,
              walked: true,
              ...tree,
            });
          } else {
            await add({ path: child, kind: 'directory', ...directoryDraft, origin, walked: true, ...tree });
          }
        },
        exclude,
      );
      return;
    }
    case 'whiteout': {
      needPath();
      checkName(path, origin);
      const marker = joinLayerPath(parentOf(path), `${WHITEOUT_PREFIX}${baseName(path)}`);
      await add({
        path: marker,
        kind: 'file',
        source: { kind: 'bytes', data: Buffer.alloc(0) },
        baseMode: DEFAULT_FILE_MODE,
        regular: false,
        whiteout: true,
        origin,
      });
      return;
    }
    case 'opaque': {
      const marker = joinLayerPath(path, OPAQUE_WHITEOUT);
      await add({
        path: marker,
        kind: 'file',
        source: { kind: 'bytes', data: Buffer.alloc(0) },
        baseMode: DEFAULT_FILE_MODE,
        regular: false,
        whiteout: true,
        origin,
      });
      return;
    }
    default:
      throw new LayerError(
        'IMG_LAYER_INVALID_OPTION',
        `entries[${index}]: unknown entry type ${JSON.stringify((entry as { type: unknown }).type)}`,
      );
  }
}
