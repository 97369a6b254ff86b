import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteCacheError } from './errors.js';

/** Environment variable naming the directory of the vendored REAPI `.proto` files (overrides the search). */
export const PROTO_DIR_ENV = 'IMG_REAPI_PROTO_DIR';

/** A file every valid proto directory holds. */
const MARKER = 'build/bazel/remote/execution/v2/remote_execution.proto';

/**
 * Where the proto directory may be, in order: the explicit option, `$IMG_REAPI_PROTO_DIR`,
 * `protos/` beside this module (dist/protos after a build, or next to a single-file bundle),
 * `../protos` (the package root, from src/ or dist/), and `protos/` beside the main script.
 */
function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const main = process.argv[1] ? dirname(resolve(process.argv[1])) : undefined;
  return [join(here, 'protos'), join(here, '..', 'protos'), main && join(main, 'protos')].filter(
    (p): p is string => typeof p === 'string',
  );
}

/** The first candidate that holds the REAPI protos; throws IMG_REMOTE_CACHE_PROTO_NOT_FOUND naming all tried. */
export function findProtoDir(explicit?: string): string {
  const chosen = explicit ?? (process.env[PROTO_DIR_ENV] || undefined);
  // A directory named by the caller is authoritative: never fall back to another copy silently.
  const tried = chosen !== undefined ? [chosen] : candidates();
  const hit = tried.find((dir) => existsSync(join(dir, MARKER)));
  if (hit !== undefined) return hit;
  throw new RemoteCacheError(
    'IMG_REMOTE_CACHE_PROTO_NOT_FOUND',
    `REAPI .proto files not found (looked in ${tried.join(', ')}); copy the package's protos/ directory next to the bundle or set ${PROTO_DIR_ENV}`,
  );
}
