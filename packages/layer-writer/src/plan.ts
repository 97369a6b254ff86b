import { createHash } from 'node:crypto';
import {
  DEFAULT_DIRECTORY_MODE,
  type Draft,
  describeDraft,
  expand,
  type PlannedEntry,
  type PlannedSource,
} from './entries.js';
import { LayerError } from './errors.js';
import {
  type MetadataOverrides,
  parseFileMetadata,
  type ResolvedMetadata,
  resolveMetadata,
} from './metadata.js';
import { normalizeLayerPath, parentOf, pathSortKey } from './paths.js';
import { hashHostFile } from './source-io.js';
import { DEFAULT_CREATE_PARENT_DIRECTORIES, type LayerSpec } from './spec.js';

export type { PlannedEntry, PlannedSource } from './entries.js';
export {
  DEFAULT_DIRECTORY_MODE,
  DEFAULT_EXECUTABLE_MODE,
  DEFAULT_FILE_MODE,
  DEFAULT_SYMLINK_MODE,
  OPAQUE_WHITEOUT,
  WHITEOUT_PREFIX,
} from './entries.js';

export interface PlanOptions {
  /** mtime for entries without one in their metadata. */
  readonly baseMtime: number;
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

function sameOwner(a: Draft, b: Draft): boolean {
  const key = (d: Draft) => JSON.stringify([d.owner?.uid, d.owner?.gid, d.owner?.uname, d.owner?.gname]);
  return key(a) === key(b);
}

async function identical(a: Draft, b: Draft): Promise<boolean> {
  if (a.kind !== b.kind || a.whiteout !== b.whiteout || !sameOwner(a, b)) return false;
  if (a.kind === 'directory') return true;
  if (a.kind === 'symlink') return a.target === b.target;
  if (a.baseMode !== b.baseMode) return false;
  return sameContent(a.source!, b.source!);
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
        `${JSON.stringify(d.path)} is written twice with different content, type or owner: by ${describeDraft(prior)} and by ${describeDraft(d)}`,
      );
    }
  };
  for (let i = 0; i < spec.entries.length; i++) await expand(spec.entries[i]!, i, add);

  const createParents = spec.createParentDirectories ?? DEFAULT_CREATE_PARENT_DIRECTORIES;
  for (const d of [...drafts.values()]) {
    // Up to the nearest existing directory: its own ancestors are checked when it is (or, if it was
    // synthesized here, were checked by the walk that synthesized it).
    for (let ancestor = parentOf(d.path); ancestor !== ''; ancestor = parentOf(ancestor)) {
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
          `${JSON.stringify(d.path)} (${describeDraft(d)}) is below ${JSON.stringify(ancestor)}, which is a ${a.kind} (${describeDraft(a)})`,
        );
      } else break;
    }
  }

  // Entries without their own metadata share one resolved object per tree owner and base mode (tens
  // of thousands of entries from a source directory need only a few). A tree's drafts share one owner
  // object, so owners are keyed by identity.
  const byOwner = new Map<
    MetadataOverrides | undefined,
    { inherited: MetadataOverrides; shared: Map<string, ResolvedMetadata> }
  >();
  const metadataOf = (d: Draft, own: MetadataOverrides | undefined): ResolvedMetadata => {
    let tree = byOwner.get(d.owner);
    if (tree === undefined) {
      tree = { inherited: d.owner ? { ...defaults, ...d.owner } : defaults, shared: new Map() };
      byOwner.set(d.owner, tree);
    }
    if (own !== undefined)
      return resolveMetadata(d.baseMode, options.baseMtime, d.regular, tree.inherited, own);
    const k = `${d.baseMode}:${d.regular}`;
    let meta = tree.shared.get(k);
    if (meta === undefined) {
      meta = resolveMetadata(d.baseMode, options.baseMtime, d.regular, tree.inherited, undefined);
      tree.shared.set(k, meta);
    }
    return meta;
  };
  const planned: PlannedEntry[] = [];
  const keys: string[] = [];
  for (const d of drafts.values()) {
    const meta = metadataOf(d, perPath.get(d.path)?.meta);
    const size =
      d.source === undefined ? 0 : d.source.kind === 'bytes' ? d.source.data.length : d.source.file.size;
    // One shape for every entry (absent fields undefined): tens of thousands of them stay alive
    // until the layer is written.
    planned.push({
      path: d.path,
      kind: d.kind,
      size,
      source: d.source,
      target: d.target,
      meta,
      whiteout: d.whiteout,
    });
    keys.push(pathSortKey(d.path));
  }
  for (const [path, { key }] of perPath) {
    if (!drafts.has(path)) {
      throw new LayerError(
        'IMG_LAYER_UNMATCHED_METADATA',
        `fileMetadata[${JSON.stringify(key)}]: no entry of the layer has the path ${JSON.stringify(path)}`,
      );
    }
  }
  const order = Array.from(planned.keys()).sort((a, b) =>
    keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0,
  );
  return order.map((i) => planned[i]!);
}
