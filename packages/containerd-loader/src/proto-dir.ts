import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadError } from './errors.js';

/** Environment variable naming the directory of the vendored `.proto` files (overrides the search). */
export const PROTO_DIR_ENV = 'IMG_CONTAINERD_PROTO_DIR';

/** A file every valid proto directory holds. */
const MARKER = 'github.com/containerd/containerd/api/services/content/v1/content.proto';

/**
 * Where the proto directory may be, in order: the explicit option, `$IMG_CONTAINERD_PROTO_DIR`,
 * `proto/` beside this module (dist/proto after a build, or next to a single-file bundle),
 * `../proto` (the package root, from src/ or dist/), and `proto/` beside the main script.
 */
export function protoDirCandidates(explicit?: string): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const main = process.argv[1] ? dirname(resolve(process.argv[1])) : undefined;
  return [
    explicit,
    process.env[PROTO_DIR_ENV],
    join(here, 'proto'),
    join(here, '..', 'proto'),
    main && join(main, 'proto'),
  ].filter((p): p is string => typeof p === 'string' && p !== '');
}

/** The first candidate that holds containerd's protos; throws IMG_LOAD_PROTO_NOT_FOUND naming all tried. */
export function findProtoDir(explicit?: string): string {
  const chosen = explicit ?? process.env[PROTO_DIR_ENV];
  // A directory named by the caller is authoritative: never fall back to another copy silently.
  const tried = chosen ? [chosen] : protoDirCandidates();
  const hit = tried.find((dir) => existsSync(join(dir, MARKER)));
  if (hit) return hit;
  throw new LoadError(
    'IMG_LOAD_PROTO_NOT_FOUND',
    `containerd .proto files not found (looked in ${tried.join(', ')}); copy the package's proto/ directory next to the bundle or set ${PROTO_DIR_ENV}`,
  );
}
