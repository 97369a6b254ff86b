import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BesError } from './errors.js';

/** Environment variable naming the directory of the vendored Build Event `.proto` files (overrides the search). */
export const PROTO_DIR_ENV = 'IMG_BES_PROTO_DIR';

/** The Build Event Service definition. */
export const SERVICE_PROTO = 'google/devtools/build/v1/publish_build_event.proto';
/** Bazel's Build Event Protocol (the payload of every `bazel_event`). */
export const BUILD_EVENT_STREAM_PROTO =
  'src/main/java/com/google/devtools/build/lib/buildeventstream/proto/build_event_stream.proto';

/**
 * Where the proto directory may be, in order: `bes-protos/` beside this module (a single-file bundle
 * keeps them there, next to remote-cache's `protos/`), `protos/` beside it (dist/protos after a build),
 * `../protos` (the package root, from src/ or dist/), and `bes-protos/` beside the main script.
 */
function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const main = process.argv[1] ? dirname(resolve(process.argv[1])) : undefined;
  return [
    join(here, 'bes-protos'),
    join(here, 'protos'),
    join(here, '..', 'protos'),
    main && join(main, 'bes-protos'),
  ].filter((p): p is string => typeof p === 'string');
}

/** The first candidate holding the Build Event protos; throws IMG_BES_PROTO_NOT_FOUND naming all tried. */
export function findProtoDir(explicit?: string): string {
  const chosen = explicit ?? (process.env[PROTO_DIR_ENV] || undefined);
  const tried = chosen !== undefined ? [chosen] : candidates();
  const hit = tried.find(
    (dir) => existsSync(join(dir, SERVICE_PROTO)) && existsSync(join(dir, BUILD_EVENT_STREAM_PROTO)),
  );
  if (hit !== undefined) return hit;
  throw new BesError(
    'IMG_BES_PROTO_NOT_FOUND',
    `Build Event .proto files not found (looked in ${tried.join(', ')}); copy the package's protos/ directory next to the bundle as bes-protos/ or set ${PROTO_DIR_ENV}`,
  );
}
