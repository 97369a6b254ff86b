import { dirname, isAbsolute, resolve } from 'node:path';
import { type Platform, parseJson, parsePlatform } from '@img/oci-spec';
import { CliError } from '../util/errors.js';
import { readInput } from '../util/files.js';
import { type DockerHealthcheck, dockerHealthcheck, type HealthcheckSpec } from './healthcheck.js';
import { atKeyPath, type KeySegment } from './key-path.js';
import { mergePlatform } from './merge.js';
import { IMAGE_SPEC_SCHEMA, specValidator } from './schema.js';
import { describeSchemaErrors } from './schema-errors.js';

/** A `directories` value: a host directory, or one with excludes and an owner for the whole tree. */
export interface DirectorySpec {
  readonly source: string;
  /** gitignore-style patterns, relative to `source`, of paths to leave out. */
  readonly excludes?: string[];
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
}

/** One layer of a spec (`image-spec.schema.json` describes every field). */
export interface LayerSpecFile {
  readonly files?: Record<string, string>;
  readonly directories?: Record<string, string | DirectorySpec>;
  readonly symlinks?: Record<string, string>;
  readonly emptyFiles?: string[];
  readonly whiteouts?: string[];
  /** Directories whose lower-layer contents this layer hides (an opaque whiteout each). */
  readonly opaque?: string[];
  readonly metadata?: Record<string, Record<string, unknown>>;
  readonly defaultMetadata?: Record<string, unknown>;
  readonly createParentDirectories?: boolean;
  readonly compress?: 'gzip' | 'zstd' | 'none';
  readonly compressionLevel?: number;
  /** Compression worker threads (see layer-writer's `compressorJobs`); gzip then uses block mode. */
  readonly compressorJobs?: number | 'nproc';
  /** Write the layer as eStargz (zstd:chunked with compress: zstd). */
  readonly estargz?: boolean;
  /** zstd:chunked layout (estargz with compress: zstd); default containers-storage. */
  readonly zstdChunked?: 'containers-storage' | 'stargz-snapshotter';
  readonly annotations?: Record<string, string>;
  readonly createdBy?: string;
}

export interface ConfigSpecFile {
  readonly entrypoint?: string[];
  readonly cmd?: string[];
  readonly env?: Record<string, string>;
  readonly user?: string;
  readonly workdir?: string;
  readonly labels?: Record<string, string>;
  readonly exposedPorts?: (string | number)[];
  readonly volumes?: string[];
  readonly stopSignal?: string;
  readonly healthcheck?: HealthcheckSpec;
}

/** Where a platform image's fields are in the spec file, as key paths for error messages. */
export interface SpecKeyPaths {
  /** e.g. `image.json: base` or `image.json: platforms[1].base` */
  readonly base: string;
  /** The layers array; layer i is `${layers}[i]`. */
  readonly layers: string;
  readonly config: string;
  readonly configFragment: string;
}

/** One platform's image, with paths resolved against the spec file's directory. */
export interface PlatformImageSpec {
  readonly platform: Platform;
  /** Where in the spec it came from, for error messages (`spec.json` or `spec.json: platforms[1]`). */
  readonly where: string;
  /** Key paths of its fields (a platform's own field, or the shared top-level one it inherits). */
  readonly keyPaths: SpecKeyPaths;
  readonly base?: string;
  readonly layers: LayerSpecFile[];
  /** The config after merging a platform's own over the top-level one. */
  readonly config: ConfigSpecFile;
  /** config.healthcheck as Docker's config.Healthcheck. */
  readonly healthcheck?: DockerHealthcheck;
  readonly configFragment?: string;
  readonly annotations?: Record<string, string>;
  readonly created?: string;
}

export interface ImageSpec {
  readonly path: string;
  readonly images: PlatformImageSpec[];
  /** True when the spec lists `platforms`: the output is an index. */
  readonly isIndex: boolean;
  readonly indexAnnotations?: Record<string, string>;
}

type Doc = Record<string, unknown>;

function resolveFrom(dir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dir, p);
}

function resolveLayer(dir: string, layer: LayerSpecFile): LayerSpecFile {
  const files = layer.files
    ? Object.fromEntries(Object.entries(layer.files).map(([k, v]) => [k, resolveFrom(dir, v)]))
    : undefined;
  const directories = layer.directories
    ? Object.fromEntries(
        Object.entries(layer.directories).map(([k, v]) => [
          k,
          typeof v === 'string' ? resolveFrom(dir, v) : { ...v, source: resolveFrom(dir, v.source) },
        ]),
      )
    : undefined;
  return { ...layer, files, directories };
}

/** A layout reference in a spec (`oci:DIR`, `oci-archive:FILE` or a bare path) resolved against `dir`. */
function resolveBase(dir: string, base: string): string {
  for (const prefix of ['oci:', 'oci-archive:']) {
    if (base.startsWith(prefix)) return prefix + resolveFrom(dir, base.slice(prefix.length));
  }
  return resolveFrom(dir, base);
}

/** One platform's image from the (merged) fields; `own` holds the fields the platform itself sets. */
function platformImage(
  path: string,
  dir: string,
  item: Doc,
  own: Doc | undefined,
  at: KeySegment[],
): PlatformImageSpec {
  const keyPath = (field: string, set: boolean) => atKeyPath(path, set ? [...at, field] : [field]);
  const ownConfig = own?.config as Doc | undefined;
  const keyPaths: SpecKeyPaths = {
    base: keyPath('base', own?.base !== undefined),
    layers: keyPath('layers', own?.layers !== undefined),
    config: keyPath('config', ownConfig !== undefined),
    configFragment: keyPath('configFragment', own?.configFragment !== undefined),
  };
  const where = atKeyPath(path, at);
  const s = item as {
    platform: string;
    base?: string;
    layers?: LayerSpecFile[];
    config?: ConfigSpecFile;
    configFragment?: string;
    annotations?: Record<string, string>;
    created?: string;
  };
  const config = s.config ?? {};
  const healthcheck = config.healthcheck
    ? dockerHealthcheck(
        config.healthcheck,
        `${keyPath('config', ownConfig?.healthcheck !== undefined)}.healthcheck`,
      )
    : undefined;
  return {
    platform: parsePlatform(s.platform, keyPath('platform', own?.platform !== undefined)),
    where,
    keyPaths,
    ...(s.base ? { base: resolveBase(dir, s.base) } : {}),
    layers: (s.layers ?? []).map((l) => resolveLayer(dir, l)),
    config,
    ...(healthcheck ? { healthcheck } : {}),
    ...(s.configFragment ? { configFragment: resolveFrom(dir, s.configFragment) } : {}),
    ...(s.annotations ? { annotations: s.annotations } : {}),
    ...(s.created ? { created: s.created } : {}),
  };
}

/**
 * Read and check an image spec file against `image-spec.schema.json`; every error names the file
 * and the key path (`image.json: layers[0].metadata["/app/run"].mode: ...`).
 */
export async function readImageSpec(path: string): Promise<ImageSpec> {
  const doc = parseJson(await readInput(path, 'image spec'), `image spec ${path}`);
  const validate = specValidator();
  if (!validate(doc)) {
    throw new CliError(
      'IMG_CLI_INVALID_SPEC',
      describeSchemaErrors(path, doc, validate.errors ?? [], IMAGE_SPEC_SCHEMA),
    );
  }
  const dir = dirname(resolve(path));
  const {
    $schema: _schema,
    platforms,
    indexAnnotations,
    ...shared
  } = doc as Doc & {
    platforms?: Doc[];
    indexAnnotations?: Record<string, string>;
  };
  const images = platforms
    ? platforms.map((p, i) => platformImage(path, dir, mergePlatform(shared, p), p, ['platforms', i]))
    : [platformImage(path, dir, shared, undefined, [])];
  return {
    path,
    images,
    isIndex: platforms !== undefined,
    ...(indexAnnotations ? { indexAnnotations } : {}),
  };
}
