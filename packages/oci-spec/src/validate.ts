import { createRequire } from 'node:module';
import type AjvDraft04 from 'ajv-draft-04';
import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';
import { isDigest } from './digest.js';
import { SpecError } from './errors.js';
import { familyOf, isImageConfig, isIndex, isManifest, isSchema1 } from './media-types.js';
import { SCHEMA_FILES } from './schemas.js';
import type { Descriptor, ImageConfig, Index, Manifest } from './types.js';

export type DocumentKind = 'manifest' | 'index' | 'config' | 'descriptor' | 'layout';

const SCHEMA_OF: Record<DocumentKind, string> = {
  manifest: 'oci:image-manifest-schema.json',
  index: 'oci:image-index-schema.json',
  config: 'oci:config-schema.json',
  descriptor: 'oci:content-descriptor.json',
  layout: 'oci:image-layout-schema.json',
};

let validators: Map<DocumentKind, ValidateFunction> | undefined;

/**
 * ajv is loaded on first use, not on import: it costs ~10 MiB of memory, and most users of this
 * package (layer writing, pushing) never validate a document against a schema.
 */
function loadAjv(): typeof AjvDraft04 {
  const mod = createRequire(import.meta.url)('ajv-draft-04') as typeof AjvDraft04 & {
    default?: typeof AjvDraft04;
  };
  return mod.default ?? mod;
}

function getValidator(kind: DocumentKind): ValidateFunction {
  if (!validators) {
    const Ajv = loadAjv();
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339.test(s) });
    ajv.addFormat('uri', { type: 'string', validate: (s: string) => URL.canParse(s) });
    for (const { id, schema } of SCHEMA_FILES) ajv.addSchema(schema, id);
    validators = new Map();
    for (const k of Object.keys(SCHEMA_OF) as DocumentKind[]) {
      validators.set(k, ajv.getSchema(SCHEMA_OF[k])!);
    }
  }
  return validators.get(kind)!;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const ENV_RE = /^[^=]+=/s;

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  return `${where}: ${e.message ?? e.keyword}`;
}

/** A list of violations; empty means valid. `where` prefixes each message (a file name, say). */
export type Violations = string[];

/**
 * Check a document against its image-spec JSON schema. A manifest with no layers is accepted:
 * the schema's `minItems: 1` is stricter than the spec text, and scratch images need it.
 */
export function schemaViolations(kind: DocumentKind, doc: unknown): Violations {
  const validate = getValidator(kind);
  if (validate(doc)) return [];
  const errors = (validate.errors ?? []).filter(
    (e) => !(kind === 'manifest' && e.keyword === 'minItems' && e.instancePath === '/layers'),
  );
  return errors.map(describe);
}

function descriptorViolations(d: Descriptor, where: string): Violations {
  const out: Violations = [];
  if (typeof d !== 'object' || d === null) return [`${where}: not a descriptor`];
  if (typeof d.mediaType !== 'string') out.push(`${where}.mediaType: missing`);
  if (!isDigest(d.digest)) out.push(`${where}.digest: invalid digest ${JSON.stringify(d.digest)}`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) out.push(`${where}.size: must be a non-negative integer`);
  return out;
}

/** Schema plus the rules the schema misses, for a manifest. */
export function manifestViolations(m: Manifest): Violations {
  // Digests and sizes first: the first violation is the one reported, and these name the field.
  const out: Violations = [];
  if (m.config) out.push(...descriptorViolations(m.config, 'config'));
  if (Array.isArray(m.layers))
    for (const [i, l] of m.layers.entries()) out.push(...descriptorViolations(l, `layers[${i}]`));
  out.push(...schemaViolations('manifest', m));
  if (m.mediaType && !isManifest(m.mediaType))
    out.push(`mediaType: ${m.mediaType} is not an image manifest type`);
  if (m.mediaType && isSchema1(m.mediaType))
    out.push('mediaType: Docker schema 1 manifests are not supported');
  if (out.length === 0) out.push(...mixedFamilyViolations(m));
  return out;
}

/** Schema plus the rules the schema misses, for an index. */
export function indexViolations(ix: Index): Violations {
  const out: Violations = [];
  if (Array.isArray(ix.manifests))
    for (const [i, d] of ix.manifests.entries()) out.push(...descriptorViolations(d, `manifests[${i}]`));
  out.push(...schemaViolations('index', ix));
  if (ix.mediaType && !isIndex(ix.mediaType)) out.push(`mediaType: ${ix.mediaType} is not an index type`);
  if (out.length > 0) return out;
  const family = ix.mediaType ? familyOf(ix.mediaType) : undefined;
  ix.manifests?.forEach((d, i) => {
    const f = familyOf(d.mediaType);
    if (family && f && (isIndex(d.mediaType) || isManifest(d.mediaType)) && f !== family) {
      out.push(`manifests[${i}].mediaType: ${d.mediaType} mixes the ${f} family into a ${family} index`);
    }
    if (family === 'docker' && !d.platform)
      out.push(`manifests[${i}].platform: required in a Docker manifest list`);
  });
  return out;
}

/** Schema plus the rules the schema misses, for an image config. */
export function configViolations(c: ImageConfig): Violations {
  const out = schemaViolations('config', c);
  c.config?.Env?.forEach((e, i) => {
    if (typeof e !== 'string' || !ENV_RE.test(e))
      out.push(`config.Env[${i}]: ${JSON.stringify(e)} is not KEY=VALUE`);
  });
  if (c.rootfs?.type !== 'layers') out.push(`rootfs.type: must be "layers"`);
  c.rootfs?.diff_ids?.forEach((d, i) => {
    if (!isDigest(d)) out.push(`rootfs.diff_ids[${i}]: invalid digest ${JSON.stringify(d)}`);
  });
  const nonEmpty = c.history?.filter((h) => !h.empty_layer).length;
  if (nonEmpty !== undefined && c.history!.length > 0 && nonEmpty !== c.rootfs?.diff_ids?.length) {
    out.push(
      `history: ${nonEmpty} entries without empty_layer but ${c.rootfs?.diff_ids?.length ?? 0} diff_ids in rootfs`,
    );
  }
  return out;
}

/** Rules between a manifest and its config: diff_ids count, config media type. */
export function imageViolations(m: Manifest, c: ImageConfig): Violations {
  const out: Violations = [];
  const n = c.rootfs?.diff_ids?.length ?? 0;
  if (n !== m.layers.length) {
    out.push(`config.rootfs.diff_ids: ${n} diff_ids but the manifest has ${m.layers.length} layers`);
  }
  if (!isImageConfig(m.config.mediaType))
    out.push(`manifest.config.mediaType: ${m.config.mediaType} is not an image config`);
  return out;
}

function mixedFamilyViolations(m: Manifest): Violations {
  const family = familyOf(m.mediaType ?? m.config.mediaType);
  if (!family) return [];
  const out: Violations = [];
  const check = (mt: string, where: string) => {
    const f = familyOf(mt);
    if (f && f !== family) out.push(`${where}: ${mt} mixes the ${f} family into a ${family} manifest`);
  };
  check(m.config.mediaType, 'config.mediaType');
  for (const [i, l] of m.layers.entries()) check(l.mediaType, `layers[${i}].mediaType`);
  return out;
}

/** Throws IMG_INVALID_DOCUMENT with the first violation, naming `where` (a file or field). */
export function assertValid(violations: Violations, where: string): void {
  if (violations.length > 0) {
    throw new SpecError(
      violations.some((v) => v.includes('mixes the')) ? 'IMG_MIXED_MEDIA_TYPES' : 'IMG_INVALID_DOCUMENT',
      `${where}: ${violations[0]}${violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''}`,
    );
  }
}
