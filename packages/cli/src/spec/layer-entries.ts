import type { DirectoryEntry, LayerEntry } from '@img/layer-writer';
import type { LayerSpecFile } from './image-spec.js';
import { formatKeyPath } from './key-path.js';

/** A spec layer's layer-writer entries, each with the spec key it came from (`files["/app/x"]`). */
export interface KeyedEntries {
  readonly entries: LayerEntry[];
  readonly keys: string[];
}

function directoryEntry(
  path: string,
  value: NonNullable<LayerSpecFile['directories']>[string],
): DirectoryEntry {
  if (typeof value === 'string') return { type: 'directory', path, source: value };
  const { source, excludes, uid, gid, uname, gname } = value;
  const owner = Object.fromEntries(
    Object.entries({ uid, gid, uname, gname }).filter(([, v]) => v !== undefined),
  );
  return {
    type: 'directory',
    path,
    source,
    ...(excludes ? { excludes } : {}),
    ...(Object.keys(owner).length > 0 ? { owner } : {}),
  };
}

/** The layer-writer entries a spec layer describes, in spec order, with their spec keys. */
export function layerEntries(layer: LayerSpecFile): KeyedEntries {
  const entries: LayerEntry[] = [];
  const keys: string[] = [];
  const add = (entry: LayerEntry, ...key: Array<string | number>) => {
    entries.push(entry);
    keys.push(formatKeyPath(key));
  };
  for (const [path, source] of Object.entries(layer.files ?? {}))
    add({ type: 'file', path, source }, 'files', path);
  for (const [path, value] of Object.entries(layer.directories ?? {}))
    add(directoryEntry(path, value), 'directories', path);
  for (const [path, target] of Object.entries(layer.symlinks ?? {}))
    add({ type: 'symlink', path, target }, 'symlinks', path);
  for (const [i, path] of (layer.emptyFiles ?? []).entries())
    add({ type: 'content', path, content: '' }, 'emptyFiles', i);
  for (const [i, path] of (layer.whiteouts ?? []).entries()) add({ type: 'whiteout', path }, 'whiteouts', i);
  for (const [i, path] of (layer.opaque ?? []).entries()) add({ type: 'opaque', path }, 'opaque', i);
  return { entries, keys };
}

/** Names layer-writer options by their spec keys. */
const OPTION_KEYS: ReadonlyArray<readonly [writer: string, spec: string]> = [
  ['fileMetadata[', 'metadata['],
  ['level:', 'compressionLevel:'],
];

/**
 * A layer-writer message in the spec's words: `entries[3] (directory "/app")` becomes
 * `directories["/app"]`, `fileMetadata[...]` becomes `metadata[...]`.
 */
export function inSpecTerms(message: string, { entries, keys }: KeyedEntries): string {
  let out = message;
  entries.forEach((entry, i) => {
    out = out.replaceAll(`entries[${i}] (${entry.type} ${JSON.stringify(entry.path)})`, keys[i]!);
  });
  for (const [writer, spec] of OPTION_KEYS) {
    if (out.startsWith(writer)) out = spec + out.slice(writer.length);
    out = out.replaceAll(` ${writer}`, ` ${spec}`);
  }
  return out;
}
