import { dirname, isAbsolute, resolve } from 'node:path';
import { type Platform, parseJson, parsePlatform } from '@img/oci-spec';
import { Ajv, type ValidateFunction } from 'ajv';
import { CliError } from '../util/errors.js';
import { readInput } from '../util/files.js';
import { isRegistryBase, REGISTRY_BASE_PREFIX, registryBaseReference } from './base-reference.js';
import { IMAGE_SPEC_SCHEMA } from './schema.js';

export interface LayerSpecFile {
  readonly files?: Record<string, string>;
  readonly directories?: Record<string, string>;
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
}

/** One platform's image, with paths resolved against the spec file's directory. */
export interface PlatformImageSpec {
  readonly platform: Platform;
  /** Where in the spec it came from, for error messages (`spec.json` or `spec.json: platforms[1]`). */
  readonly where: string;
  readonly base?: string;
  readonly layers: LayerSpecFile[];
  readonly config: ConfigSpecFile;
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

let compiledSpecValidator: ValidateFunction | undefined;

/** The spec schema's validator, compiled on first use: compiling is start-up time no other command needs. */
function specValidator(): ValidateFunction {
  compiledSpecValidator ??= new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(
    IMAGE_SPEC_SCHEMA,
  );
  return compiledSpecValidator;
}

function resolveFrom(dir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dir, p);
}

function resolveLayer(dir: string, layer: LayerSpecFile): LayerSpecFile {
  const mapValues = (m?: Record<string, string>) =>
    m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, resolveFrom(dir, v)])) : undefined;
  return { ...layer, files: mapValues(layer.files), directories: mapValues(layer.directories) };
}

/**
 * A layout reference in a spec (`oci:DIR`, `oci-archive:FILE` or a bare path) resolved against `dir`;
 * a registry reference (see isRegistryBase) as `docker://REF`.
 */
function resolveBase(dir: string, base: string): string {
  if (isRegistryBase(base)) return `${REGISTRY_BASE_PREFIX}${registryBaseReference(base)}`;
  for (const prefix of ['oci:', 'oci-archive:']) {
    if (base.startsWith(prefix)) return prefix + resolveFrom(dir, base.slice(prefix.length));
  }
  return resolveFrom(dir, base);
}

/** Read and check an image spec file; every error names the file and the field. */
export async function readImageSpec(path: string): Promise<ImageSpec> {
  const doc = parseJson(await readInput(path, 'image spec'), `image spec ${path}`);
  const validateSpec = specValidator();
  if (!validateSpec(doc)) {
    const e = validateSpec.errors![0]!;
    const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : '';
    const allowed =
      e.keyword === 'enum'
        ? ` (one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
        : '';
    throw new CliError('IMG_CLI_INVALID_SPEC', `${path}: ${field}: ${e.message}${extra}${allowed}`);
  }
  const spec = doc as Record<string, unknown> & {
    platforms?: Record<string, unknown>[];
    indexAnnotations?: Record<string, string>;
  };
  const dir = dirname(resolve(path));
  const { platforms, indexAnnotations, ...shared } = spec;
  const entries = platforms
    ? platforms.map((p, i) => ({ item: { ...shared, ...p }, where: `${path}: platforms[${i}]` }))
    : [{ item: shared, where: path }];
  const images = entries.map(({ item, where }): PlatformImageSpec => {
    const s = item as {
      platform?: string;
      base?: string;
      layers?: LayerSpecFile[];
      config?: ConfigSpecFile;
      configFragment?: string;
      annotations?: Record<string, string>;
      created?: string;
    };
    if (!s.platform)
      throw new CliError('IMG_CLI_INVALID_SPEC', `${where}: platform: required (e.g. "linux/amd64")`);
    return {
      platform: parsePlatform(s.platform, `${where}: platform`),
      where,
      ...(s.base ? { base: resolveBase(dir, s.base) } : {}),
      layers: (s.layers ?? []).map((l) => resolveLayer(dir, l)),
      config: s.config ?? {},
      ...(s.configFragment ? { configFragment: resolveFrom(dir, s.configFragment) } : {}),
      ...(s.annotations ? { annotations: s.annotations } : {}),
      ...(s.created ? { created: s.created } : {}),
    };
  });
  return {
    path,
    images,
    isIndex: platforms !== undefined,
    ...(indexAnnotations ? { indexAnnotations } : {}),
  };
}
