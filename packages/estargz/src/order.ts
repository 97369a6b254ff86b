import { normalizeLayerPath, type PlannedEntry } from '@img/layer-writer/internal';
import { LANDMARK_CONTENTS, NO_PREFETCH_LANDMARK, PREFETCH_LANDMARK, TOC_TAR_NAME } from './constants.js';
import { EstargzError } from './errors.js';

export const RESERVED_NAMES = new Set([PREFETCH_LANDMARK, NO_PREFETCH_LANDMARK, TOC_TAR_NAME]);

export function landmark(name: string): PlannedEntry {
  return {
    path: name,
    kind: 'file',
    size: 1,
    source: { kind: 'bytes', data: Buffer.from([LANDMARK_CONTENTS]) },
    // Mode 0, owner 0, mtime 0: the reference builder's landmark header.
    meta: { mode: 0, uid: 0, gid: 0, uname: '', gname: '', mtime: 0, paxRecords: {} },
    // Marked like a whiteout only so that hardlink dedup never links a user file to a landmark.
    whiteout: true,
  };
}

function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/**
 * The eStargz entry order: the prioritized paths first (each preceded by those of its parent
 * directories that the layer has an entry for, in list order), then `.prefetch.landmark`; without
 * prioritized paths `.no.prefetch.landmark` comes first. Every other entry keeps its planned order.
 * `where` names the list in errors (e.g. the file it was read from).
 */
export function orderForEstargz(
  planned: readonly PlannedEntry[],
  prioritized: readonly string[] = [],
  where = 'prioritizedFiles',
): PlannedEntry[] {
  for (const entry of planned) {
    if (RESERVED_NAMES.has(entry.path)) {
      throw new EstargzError(
        'IMG_ESTARGZ_RESERVED_PATH',
        `${JSON.stringify(entry.path)} is reserved in eStargz layers (landmark or TOC name); rename it`,
      );
    }
  }
  if (prioritized.length === 0) return [landmark(NO_PREFETCH_LANDMARK), ...planned];
  const byPath = new Map(planned.map((e) => [e.path, e]));
  const moved = new Set<string>();
  const first: PlannedEntry[] = [];
  const move = (path: string) => {
    const entry = byPath.get(path);
    if (entry === undefined || moved.has(path)) return;
    moved.add(path);
    first.push(entry);
  };
  for (const [i, raw] of prioritized.entries()) {
    const path = normalizeLayerPath(raw, `${where}[${i}]`);
    if (path === '') {
      throw new EstargzError(
        'IMG_ESTARGZ_INVALID_OPTION',
        `${where}[${i}]: the root directory cannot be prioritized`,
      );
    }
    if (!byPath.has(path)) {
      throw new EstargzError(
        'IMG_ESTARGZ_PRIORITIZED_NOT_FOUND',
        `${where}[${i}]: ${JSON.stringify(raw)} is not in the layer`,
      );
    }
    for (const parent of ancestors(path)) move(parent);
    move(path);
  }
  return [...first, landmark(PREFETCH_LANDMARK), ...planned.filter((e) => !moved.has(e.path))];
}
