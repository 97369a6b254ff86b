import { LayerError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * Largest PAX extended header or GNU long name/link (the data of one 'x', 'g', 'L' or 'K' entry), and
 * the most such data pending for one entry or held as global records. Go's archive/tar uses 1 MiB too.
 */
export const DEFAULT_MAX_TAR_HEADER_SIZE = 1 * MiB;
/** Most entries in one tar (a large distro layer has a few hundred thousand). */
export const DEFAULT_MAX_TAR_ENTRIES = 1_000_000;
/**
 * Most bytes of entry names and link targets in one tar, all entries together: what a reader that
 * keeps every name (a rewrite, a conversion) holds in memory.
 */
export const DEFAULT_MAX_TAR_NAMES_SIZE = 128 * MiB;
/** Longest entry name or link target, in UTF-8 bytes (Linux PATH_MAX). */
export const DEFAULT_MAX_PATH_LENGTH = 4096;
/** Most components in an entry name. */
export const DEFAULT_MAX_PATH_DEPTH = 1024;
/**
 * Most bytes read after the end-of-archive marker (GNU tar pads to 10 KiB records; anything past
 * this is not padding).
 */
export const DEFAULT_MAX_TRAILING_BYTES = 1 * MiB;
/**
 * Most decompressed bytes per compressed byte once past DEFAULT_DECOMPRESSION_RATIO_FLOOR. Deflate
 * cannot exceed 1032:1, so no gzip stream ever trips it; zstd does only on near-constant data.
 */
export const DEFAULT_MAX_DECOMPRESSION_RATIO = 2048;
/** Decompressed bytes always allowed, whatever the ratio (small inputs holding a zero-filled file). */
export const DEFAULT_DECOMPRESSION_RATIO_FLOOR = 256 * MiB;
/** Most decompressed bytes of one stream, whatever its compressed size. */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 256 * GiB;
/** Largest zstd window a frame may ask for (zstd's own default decoder limit, windowLog 27). */
export const DEFAULT_MAX_ZSTD_WINDOW_SIZE = 128 * MiB;

/** Caps applied while reading untrusted tars. Every field defaults to its DEFAULT_* constant. */
export interface TarLimits {
  /** Default DEFAULT_MAX_TAR_HEADER_SIZE (1 MiB). */
  readonly maxHeaderSize?: number;
  /** Default DEFAULT_MAX_TAR_ENTRIES (1,000,000). */
  readonly maxEntries?: number;
  /** Default DEFAULT_MAX_TAR_NAMES_SIZE (128 MiB). */
  readonly maxNamesSize?: number;
  /** Default DEFAULT_MAX_PATH_LENGTH (4096 bytes). */
  readonly maxPathLength?: number;
  /** Default DEFAULT_MAX_PATH_DEPTH (1024). */
  readonly maxPathDepth?: number;
  /** Default DEFAULT_MAX_TRAILING_BYTES (1 MiB). */
  readonly maxTrailingBytes?: number;
}

/** Caps applied while decompressing untrusted streams. */
export interface DecompressionLimits {
  /** Default DEFAULT_MAX_DECOMPRESSION_RATIO (2048). */
  readonly maxDecompressionRatio?: number;
  /** Default DEFAULT_MAX_DECOMPRESSED_SIZE (256 GiB). */
  readonly maxDecompressedSize?: number;
  /** Default DEFAULT_MAX_ZSTD_WINDOW_SIZE (128 MiB). */
  readonly maxZstdWindowSize?: number;
}

/** Every cap that applies when reading a (possibly compressed) tar. */
export interface TarInputLimits extends TarLimits, DecompressionLimits {}

export type ResolvedTarLimits = Required<TarLimits>;
export type ResolvedDecompressionLimits = Required<DecompressionLimits>;

/** The option names users may raise, as the CLI's `--limit NAME=VALUE` spells them. */
export const LIMIT_NAMES = {
  maxHeaderSize: 'tar-header-size',
  maxEntries: 'tar-entries',
  maxNamesSize: 'tar-names-size',
  maxPathLength: 'path-length',
  maxPathDepth: 'path-depth',
  maxTrailingBytes: 'trailing-bytes',
  maxDecompressionRatio: 'decompression-ratio',
  maxDecompressedSize: 'decompressed-size',
  maxZstdWindowSize: 'zstd-window-size',
} as const satisfies Record<keyof TarInputLimits, string>;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 1) || !(Number.isSafeInteger(value) || value === Infinity)) {
    throw new LayerError(
      'IMG_LAYER_INVALID_OPTION',
      `${name}: expected a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function resolveTarLimits(limits: TarLimits = {}): ResolvedTarLimits {
  return {
    maxHeaderSize: positive(limits.maxHeaderSize, DEFAULT_MAX_TAR_HEADER_SIZE, 'maxHeaderSize'),
    maxEntries: positive(limits.maxEntries, DEFAULT_MAX_TAR_ENTRIES, 'maxEntries'),
    maxNamesSize: positive(limits.maxNamesSize, DEFAULT_MAX_TAR_NAMES_SIZE, 'maxNamesSize'),
    maxPathLength: positive(limits.maxPathLength, DEFAULT_MAX_PATH_LENGTH, 'maxPathLength'),
    maxPathDepth: positive(limits.maxPathDepth, DEFAULT_MAX_PATH_DEPTH, 'maxPathDepth'),
    maxTrailingBytes:
      limits.maxTrailingBytes === 0
        ? 0
        : positive(limits.maxTrailingBytes, DEFAULT_MAX_TRAILING_BYTES, 'maxTrailingBytes'),
  };
}

export function resolveDecompressionLimits(limits: DecompressionLimits = {}): ResolvedDecompressionLimits {
  return {
    maxDecompressionRatio: positive(
      limits.maxDecompressionRatio,
      DEFAULT_MAX_DECOMPRESSION_RATIO,
      'maxDecompressionRatio',
    ),
    maxDecompressedSize: positive(
      limits.maxDecompressedSize,
      DEFAULT_MAX_DECOMPRESSED_SIZE,
      'maxDecompressedSize',
    ),
    maxZstdWindowSize: positive(limits.maxZstdWindowSize, DEFAULT_MAX_ZSTD_WINDOW_SIZE, 'maxZstdWindowSize'),
  };
}

/**
 * The error for input that exceeds a cap: names the input, what exceeded, and the option (and CLI
 * `--limit` name) that raises it.
 */
export function limitExceeded(where: string, what: string, option: keyof TarInputLimits): LayerError {
  return new LayerError(
    'IMG_LAYER_LIMIT_EXCEEDED',
    `${where}: ${what} (raise with the ${option} option or --limit ${LIMIT_NAMES[option]}=N)`,
  );
}
