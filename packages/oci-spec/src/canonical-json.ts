/**
 * One serializer for every document img writes: compact, fixed field order for the
 * image-spec structures (the order of image-spec's specs-go), map keys sorted, and Go's
 * HTML-safe escaping of <, >, & (so documents are byte-identical to Go's encoding/json).
 * Unknown fields of a known structure follow the known ones, sorted.
 */

type Shape = { readonly fields: readonly string[]; readonly children?: Readonly<Record<string, Kind>> };
type Kind = Shape | 'map' | 'any' | { readonly arrayOf: Kind } | { readonly mapOf: Kind };

const PLATFORM: Shape = {
  fields: ['architecture', 'os', 'os.version', 'os.features', 'variant', 'features'],
};
const DESCRIPTOR: Shape = {
  fields: ['mediaType', 'digest', 'size', 'urls', 'annotations', 'data', 'platform', 'artifactType'],
  children: { annotations: 'map', platform: PLATFORM },
};
const MANIFEST: Shape = {
  fields: ['schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'subject', 'annotations'],
  children: { config: DESCRIPTOR, layers: { arrayOf: DESCRIPTOR }, subject: DESCRIPTOR, annotations: 'map' },
};
const INDEX: Shape = {
  fields: ['schemaVersion', 'mediaType', 'artifactType', 'manifests', 'subject', 'annotations'],
  children: { manifests: { arrayOf: DESCRIPTOR }, subject: DESCRIPTOR, annotations: 'map' },
};
const CONTAINER_CONFIG: Shape = {
  fields: [
    'User',
    'ExposedPorts',
    'Env',
    'Entrypoint',
    'Cmd',
    'Volumes',
    'WorkingDir',
    'Labels',
    'StopSignal',
    'ArgsEscaped',
  ],
  children: { ExposedPorts: 'map', Volumes: 'map', Labels: 'map' },
};
const HISTORY: Shape = { fields: ['created', 'author', 'created_by', 'comment', 'empty_layer'] };
const CONFIG: Shape = {
  fields: [
    'created',
    'author',
    'architecture',
    'os',
    'os.version',
    'os.features',
    'variant',
    'config',
    'rootfs',
    'history',
  ],
  children: {
    config: CONTAINER_CONFIG,
    rootfs: { fields: ['type', 'diff_ids'] },
    history: { arrayOf: HISTORY },
  },
};
const LAYER_METADATA: Shape = {
  fields: [
    'diff_id',
    'mediaType',
    'digest',
    'size',
    'uncompressed_size',
    'annotations',
    'history',
    'sources',
  ],
  children: {
    annotations: 'map',
    history: { arrayOf: HISTORY },
    sources: { arrayOf: { fields: ['registry', 'repository'] } },
  },
};

export const Shapes = {
  descriptor: DESCRIPTOR,
  manifest: MANIFEST,
  index: INDEX,
  config: CONFIG,
  platform: PLATFORM,
  layerMetadata: LAYER_METADATA,
  /** Any JSON value with every object's keys sorted. */
  sorted: 'map' as Kind,
} as const;
export type ShapeName = keyof typeof Shapes;

// Go's encoding/json escapes these for HTML safety.
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function encodeString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}

function encode(value: unknown, kind: Kind, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: not a finite number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw new TypeError(`${path}: cannot encode a ${typeof value} as JSON`);
  }
  if (Array.isArray(value)) {
    const item: Kind = typeof kind === 'object' && 'arrayOf' in kind ? kind.arrayOf : kind;
    return `[${value.map((v, i) => encode(v, item, `${path}[${i}]`)).join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  const present = Object.keys(obj).filter((k) => obj[k] !== undefined);
  let keys: string[];
  let childKind: (key: string) => Kind;
  if (typeof kind === 'object' && 'fields' in kind) {
    const known = kind.fields.filter((f) => present.includes(f));
    const rest = present.filter((k) => !kind.fields.includes(k)).sort(compareKeys);
    keys = [...known, ...rest];
    childKind = (k) => kind.children?.[k] ?? 'map';
  } else {
    keys = present.sort(compareKeys);
    const inner: Kind = typeof kind === 'object' && 'mapOf' in kind ? kind.mapOf : 'map';
    childKind = () => inner;
  }
  const parts = keys.map((k) => `${encodeString(k)}:${encode(obj[k], childKind(k), `${path}.${k}`)}`);
  return `{${parts.join(',')}}`;
}

// Go sorts map keys by byte order of their UTF-8 encoding.
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Canonical JSON text of a document. `undefined` members are dropped. */
export function canonicalJson(value: unknown, shape: ShapeName = 'sorted'): string {
  return encode(value, Shapes[shape], '$');
}

/** Canonical JSON bytes of a document, as written to blobs and files. */
export function canonicalJsonBytes(value: unknown, shape: ShapeName = 'sorted'): Buffer {
  return Buffer.from(canonicalJson(value, shape), 'utf8');
}
