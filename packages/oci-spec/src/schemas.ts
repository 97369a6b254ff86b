import configSchema from '../schemas/config-schema.json';
import contentDescriptor from '../schemas/content-descriptor.json';
import defs from '../schemas/defs.json';
import defsDescriptor from '../schemas/defs-descriptor.json';
import indexSchema from '../schemas/image-index-schema.json';
import layoutSchema from '../schemas/image-layout-schema.json';
import manifestSchema from '../schemas/image-manifest-schema.json';

/**
 * The image-spec JSON schemas (draft-04), vendored unchanged in ../schemas. Their nested `id`
 * members move the base URI around, so we register each file under `oci:<file name>` with the
 * `id`s removed and relative `$ref`s made absolute: the same file mapping the Go validator uses.
 */
const FILES: Record<string, unknown> = {
  'config-schema.json': configSchema,
  'content-descriptor.json': contentDescriptor,
  'defs-descriptor.json': defsDescriptor,
  'defs.json': defs,
  'image-index-schema.json': indexSchema,
  'image-layout-schema.json': layoutSchema,
  'image-manifest-schema.json': manifestSchema,
};

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'id' && typeof v === 'string') continue;
    if (k === '$schema') continue;
    if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) out[k] = `oci:${v}`;
    else out[k] = rewrite(v);
  }
  return out;
}

export const SCHEMA_FILES: ReadonlyArray<{ id: string; schema: Record<string, unknown> }> = Object.entries(
  FILES,
).map(([name, schema]) => ({ id: `oci:${name}`, schema: rewrite(schema) as Record<string, unknown> }));
