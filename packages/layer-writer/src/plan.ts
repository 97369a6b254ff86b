import { createHash } from 'node:crypto';
import { LayerError } from './errors.js';
import {
  type MetadataOverrides,
  parseFileMetadata,
  type ResolvedMetadata,
  resolveMetadata,
} from './metadata.js';
import { ancestorsOf, baseName, joinLayerPath, normalizeLayerPath, parentOf, pathSortKey } from './paths.js';
import { hashHostFile } from './source-io.js';
import { DEFAULT_CREATE_PARENT_DIRECTORIES, type LayerEntry, type LayerSpec } from './spec.js';
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

interface Draft {
  path: string;
  kind: PlannedEntry['kind'];
  source?: PlannedSource;
  target?: string;
  baseMode: number;
  /** Whether defaultMetadata.mode applies. */
  regular: boolean;
  whiteout: boolean;
  origin: string;
}

export interface PlanOptions {
  /** mtime for entries without one in their metadata. */
  readonly baseMtime: number;
}

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

async function sameContent(a: PlannedSource, b: PlannedSource): Promise<boolean> {
  if (a.kind === 'host' && b.kind === 'host') {
    if (a.file.inode === b.file.inode) return true;
    if (a.file.size !== b.file.size) return false;
  }
  const [ha, hb] = await Promise.all([hashSource(a), hashSource(b)]);
  return ha === hb;
}

/** sha256 (hex) of a planned file's content. */
export async function hashSource(source: PlannedSource): Promise<string> {
  if (source.kind === 'bytes') return createHash('sha256').update(source.data).digest('hex');
  return hashHostFile(source.file.path, source.file.size);
}

async function identical(a: Draft, b: Draft): Promise<boolean> {
  if (a.kind !== b.kind || a.whiteout !== b.whiteout) return false;
  if (a.kind === 'directory') return true;
  if (a.kind === 'symlink') return a.target === b.target;
  if (a.baseMode !== b.baseMode) return false;
  return sameContent(a.source!, b.source!);
}

async function expand(entry: LayerEntry, index: number, add: (d: Draft) => Promise<void>): Promise<void> {
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
      if (path !== '') {
        checkName(path, origin);
        await add({
          path,
          kind: 'directory',
          baseMode: DEFAULT_DIRECTORY_MODE,
          regular: false,
          whiteout: false,
          origin,
        });
      } else if (entry.source === undefined) {
        throw new LayerError(
          'IMG_LAYER_INVALID_PATH',
          `${origin}: an empty directory entry cannot be the root`,
        );
      }
      if (entry.source === undefined) return;
      await checkSourceDirectory(entry.source, origin);
      for (const node of await walkDirectory(entry.source, origin)) {
        const child = joinLayerPath(path, node.rel);
        const childOrigin = `${origin} -> ${JSON.stringify(child)}`;
        checkName(child, childOrigin);
        if (node.kind === 'file') {
          const baseMode = node.file.executable ? DEFAULT_EXECUTABLE_MODE : DEFAULT_FILE_MODE;
          await add({
            path: child,
            kind: 'file',
            source: { kind: 'host', file: node.file },
            baseMode,
            regular: true,
            whiteout: false,
            origin: childOrigin,
          });
        } else if (node.kind === 'symlink') {
          await add({
            path: child,
            kind: 'symlink',
            target: node.target,
            baseMode: DEFAULT_SYMLINK_MODE,
            regular: false,
            whiteout: false,
            origin: childOrigin,
          });
        } else {
          await add({
            path: child,
            kind: 'directory',
            baseMode: DEFAULT_DIRECTORY_MODE,
            regular: false,
            whiteout: false,
            origin: childOrigin,
          });
        }
      }
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

function parseMetadataMap(spec: LayerSpec): Map<string, { key: string; meta: MetadataOverrides }> {
  const out = new Map<string, { key: string; meta: MetadataOverrides }>();
  for (const [key, value] of Object.entries(spec.fileMetadata ?? {})) {
    const field = `fileMetadata[${JSON.stringify(key)}]`;
    const path = normalizeLayerPath(key, field);
    const prior = out.get(path);
    if (prior) {
      throw new LayerError(
        'IMG_LAYER_INVALID_METADATA',
        `${field}: names the same path as fileMetadata[${JSON.stringify(prior.key)}]`,
      );
    }
    out.set(path, { key, meta: parseFileMetadata(value, field) });
  }
  return out;
}

/**
 * Expand a spec into the exact list of entries to write, sorted by path components: walks source
 * directories, rejects escaping paths, conflicting duplicates and files under non-directories,
 * synthesizes parents on request and resolves every entry's metadata.
 */
export async function planLayer(spec: LayerSpec, options: PlanOptions): Promise<PlannedEntry[]> {
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.entries)) {
    throw new LayerError('IMG_LAYER_INVALID_OPTION', 'spec.entries: expected an array of entries');
  }
  const defaults = parseFileMetadata(spec.defaultMetadata, 'defaultMetadata');
  const perPath = parseMetadataMap(spec);
  const drafts = new Map<string, Draft>();

  const add = async (d: Draft): Promise<void> => {
    const prior = drafts.get(d.path);
    if (prior === undefined) {
      drafts.set(d.path, d);
      return;
    }
    if (!(await identical(prior, d))) {
      throw new LayerError(
        'IMG_LAYER_DUPLICATE_PATH',
        `${JSON.stringify(d.path)} is written twice with different content or type: by ${prior.origin} and by ${d.origin}`,
      );
    }
  };
  for (let i = 0; i < spec.entries.length; i++) await expand(spec.entries[i]!, i, add);

  const createParents = spec.createParentDirectories ?? DEFAULT_CREATE_PARENT_DIRECTORIES;
  for (const d of [...drafts.values()]) {
    for (const ancestor of ancestorsOf(d.path)) {
      const a = drafts.get(ancestor);
      if (a === undefined) {
        if (createParents) {
          drafts.set(ancestor, {
            path: ancestor,
            kind: 'directory',
            baseMode: DEFAULT_DIRECTORY_MODE,
            regular: false,
            whiteout: false,
            origin: `parent of ${JSON.stringify(d.path)}`,
          });
        }
      } else if (a.kind !== 'directory') {
        throw new LayerError(
          'IMG_LAYER_PATH_CONFLICT',
          `${JSON.stringify(d.path)} (${d.origin}) is below ${JSON.stringify(ancestor)}, which is a ${a.kind} (${a.origin})`,
        );
      }
    }
  }

  const planned: Array<PlannedEntry & { key: string }> = [];
  for (const d of drafts.values()) {
    const own = perPath.get(d.path);
    const meta = resolveMetadata(d.baseMode, options.baseMtime, d.regular, defaults, own?.meta);
    const size =
      d.source === undefined ? 0 : d.source.kind === 'bytes' ? d.source.data.length : d.source.file.size;
    planned.push({
      path: d.path,
      kind: d.kind,
      size,
      ...(d.source ? { source: d.source } : {}),
      ...(d.target !== undefined ? { target: d.target } : {}),
      meta,
      whiteout: d.whiteout,
      key: pathSortKey(d.path),
    });
  }
  for (const [path, { key }] of perPath) {
    if (!drafts.has(path)) {
      throw new LayerError(
        'IMG_LAYER_UNMATCHED_METADATA',
        `fileMetadata[${JSON.stringify(key)}]: no entry of the layer has the path ${JSON.stringify(path)}`,
      );
    }
  }
  planned.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return planned.map(({ key: _key, ...entry }) => entry);
}
