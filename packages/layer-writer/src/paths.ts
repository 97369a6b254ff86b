import { LayerError } from './errors.js';

/**
 * Normalise a path inside the image: `\` becomes `/`, leading `/` and `./`, empty and `.` segments are
 * dropped, `..` climbs one segment. Returns '' for the root. Throws IMG_LAYER_PATH_ESCAPES when `..`
 * climbs above the root and IMG_LAYER_INVALID_PATH for NUL bytes.
 */
export function normalizeLayerPath(input: string, field = 'path'): string {
  return normalizeSegments(input, field, true);
}

/**
 * Normalise a tar entry name or hardlink target as normalizeLayerPath does, except that `\` stays an
 * ordinary character: it is one in a Linux file name, and mapping it would turn `a\b` into `a/b`.
 */
export function normalizeEntryName(input: string, field = 'name'): string {
  return normalizeSegments(input, field, false);
}

function normalizeSegments(input: string, field: string, backslashIsSeparator: boolean): string {
  if (typeof input !== 'string') {
    throw new LayerError('IMG_LAYER_INVALID_PATH', `${field}: expected a string, got ${typeof input}`);
  }
  if (input.includes('\0')) {
    throw new LayerError('IMG_LAYER_INVALID_PATH', `${field}: ${JSON.stringify(input)} contains a NUL byte`);
  }
  const out: string[] = [];
  for (const segment of (backslashIsSeparator ? input.replace(/\\/g, '/') : input).split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) {
        throw new LayerError(
          'IMG_LAYER_PATH_ESCAPES',
          `${field}: ${JSON.stringify(input)} escapes the layer root`,
        );
      }
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out.join('/');
}

/** Join a normalised directory path and a relative name taken verbatim from the host. */
export function joinLayerPath(dir: string, name: string): string {
  // join() gives a flat string (a template literal gives a rope, later flattened into a second copy).
  return dir === '' ? name : [dir, name].join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Order of entries in every layer we write: byte order (UTF-8) of the path components, so that a
 * directory comes right before its own subtree ('a', 'a/b', 'a-b'; plain string order would give
 * 'a', 'a-b', 'a/b').
 */
export function comparePaths(a: string, b: string): number {
  const ka = pathSortKey(a);
  const kb = pathSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * A string whose plain `<` order is the component order of `comparePaths`: the UTF-8 bytes as latin1
 * characters with '/' mapped to NUL (NUL never occurs in a name, so it sorts below every other byte).
 */
export function pathSortKey(path: string): string {
  return Buffer.from(path.replaceAll('/', '\0'), 'utf8').toString('latin1');
}
