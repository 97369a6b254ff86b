import { LayerError } from './errors.js';

/** Metadata for one entry, as a user writes it (spec files, CLI flags, Bazel attributes). */
export interface FileMetadata {
  /** Permission bits (incl. setuid/setgid/sticky), a number or an octal string such as "0755". */
  readonly mode?: number | string;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  /** Unix seconds or an RFC 3339 timestamp (rounded down to whole seconds). */
  readonly mtime?: number | string;
  /** Extra PAX records, e.g. `{ 'SCHILY.xattr.security.capability': '...' }`. */
  readonly paxRecords?: Readonly<Record<string, string>>;
}

/** Metadata with every field decided; what goes into a tar header. */
export interface ResolvedMetadata {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtime: number;
  readonly paxRecords: Readonly<Record<string, string>>;
}

/** Fields of the tar header that PAX records must not override (set the metadata field instead). */
const RESERVED_PAX_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime']);
const MAX_ID = Number.MAX_SAFE_INTEGER;

export function parseMode(value: number | string, field: string): number {
  let mode: number;
  if (typeof value === 'number') {
    mode = value;
  } else if (typeof value === 'string' && /^(0o|0)?[0-7]{1,6}$/.test(value.trim())) {
    mode = Number.parseInt(value.trim().replace(/^0o/, ''), 8);
  } else {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: invalid mode ${JSON.stringify(value)}`);
  }
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new LayerError(
      'IMG_LAYER_INVALID_METADATA',
      `${field}: mode ${JSON.stringify(value)} is outside 0..07777`,
    );
  }
  return mode;
}

export function parseMtime(value: number | string, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: invalid mtime ${value}`);
    }
    return Math.floor(value);
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^-?\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
    if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(trimmed)) {
      const ms = Date.parse(trimmed.replace(' ', 'T'));
      if (Number.isFinite(ms)) return Math.floor(ms / 1000);
    }
  }
  throw new LayerError(
    'IMG_LAYER_INVALID_METADATA',
    `${field}: invalid mtime ${JSON.stringify(value)} (want unix seconds or RFC 3339)`,
  );
}

function parseId(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ID) {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: invalid id ${JSON.stringify(value)}`);
  }
  return value;
}

function parseName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.includes('\0')) {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: invalid name ${JSON.stringify(value)}`);
  }
  return value;
}

function parsePaxRecords(value: unknown, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: paxRecords must be an object`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '' || key.includes('=') || key.includes('\0') || key.includes('\n')) {
      throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: invalid PAX key ${JSON.stringify(key)}`);
    }
    if (RESERVED_PAX_KEYS.has(key)) {
      throw new LayerError(
        'IMG_LAYER_INVALID_METADATA',
        `${field}: PAX key ${JSON.stringify(key)} is set from the entry; use the metadata field instead`,
      );
    }
    if (typeof v !== 'string' || v.includes('\0')) {
      throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}.${key}: PAX value must be a string`);
    }
    out[key] = v;
  }
  return out;
}

/** Parsed, validated form of a FileMetadata: only the fields that were set. */
export interface MetadataOverrides {
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  paxRecords?: Record<string, string>;
}

const KNOWN_FIELDS = new Set(['mode', 'uid', 'gid', 'uname', 'gname', 'mtime', 'paxRecords']);

/** Validate a FileMetadata; `field` names it in errors (e.g. `fileMetadata["app/run.sh"]`). */
export function parseFileMetadata(meta: FileMetadata | undefined, field: string): MetadataOverrides {
  if (meta === undefined) return {};
  if (typeof meta !== 'object' || meta === null) {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: expected an object`);
  }
  for (const key of Object.keys(meta)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw new LayerError('IMG_LAYER_INVALID_METADATA', `${field}: unknown field ${JSON.stringify(key)}`);
    }
  }
  const out: MetadataOverrides = {};
  if (meta.mode !== undefined) out.mode = parseMode(meta.mode, `${field}.mode`);
  if (meta.uid !== undefined) out.uid = parseId(meta.uid, `${field}.uid`);
  if (meta.gid !== undefined) out.gid = parseId(meta.gid, `${field}.gid`);
  if (meta.uname !== undefined) out.uname = parseName(meta.uname, `${field}.uname`);
  if (meta.gname !== undefined) out.gname = parseName(meta.gname, `${field}.gname`);
  if (meta.mtime !== undefined) out.mtime = parseMtime(meta.mtime, `${field}.mtime`);
  if (meta.paxRecords !== undefined) out.paxRecords = parsePaxRecords(meta.paxRecords, `${field}.paxRecords`);
  return out;
}

/**
 * Decide an entry's metadata: built-in defaults (mode by entry type, mtime from the layer's default),
 * then `defaultMetadata` (its mode only for regular files), then the entry's own `fileMetadata`.
 */
export function resolveMetadata(
  baseMode: number,
  baseMtime: number,
  isRegularFile: boolean,
  defaults: MetadataOverrides,
  own: MetadataOverrides | undefined,
): ResolvedMetadata {
  const o = own ?? {};
  const pax = { ...defaults.paxRecords, ...o.paxRecords };
  return {
    mode: o.mode ?? (isRegularFile ? defaults.mode : undefined) ?? baseMode,
    uid: o.uid ?? defaults.uid ?? 0,
    gid: o.gid ?? defaults.gid ?? 0,
    uname: o.uname ?? defaults.uname ?? '',
    gname: o.gname ?? defaults.gname ?? '',
    mtime: o.mtime ?? defaults.mtime ?? baseMtime,
    paxRecords: pax,
  };
}

/** A string that is equal for two entries exactly when their metadata is equal (dedup key part). */
export function metadataKey(
  m: Omit<ResolvedMetadata, 'paxRecords'> & {
    readonly paxRecords: Readonly<Record<string, string | Uint8Array>>;
  },
): string {
  const pax = Object.keys(m.paxRecords)
    .sort()
    .map((k) => {
      const v = m.paxRecords[k]!;
      return [k, typeof v === 'string' ? v : { bytes: Buffer.from(v).toString('base64') }];
    });
  return JSON.stringify([m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime, pax]);
}
