import type { ZstdChunkedVariant } from '@img/estargz';
import type { LayerCompression } from '@img/oci-spec';
import type { EstargzRequest, LayerEncoding } from '../image/layer-request.js';
import { CliError } from './errors.js';
import { readInput } from './files.js';
import {
  pairsToRecord,
  parseCompressionLevel,
  parseCompressorJobs,
  parseIntFlag,
  sourceDateEpoch,
} from './flags.js';

/** The encoding flags `img layer` and `img layer-from-tar` share. */
export interface LayerEncodingFlags {
  compressionLevel?: string;
  compressorJobs?: string;
  annotation?: string[];
  createdBy?: string;
  mediaType?: string;
  estargzChunkSize?: string;
  zstdChunked?: string;
}

/** `--format` among `formats`, naming them on a bad value. */
export function parseFormat<T extends string>(value: string, formats: readonly T[]): T {
  if ((formats as readonly string[]).includes(value)) return value as T;
  throw new CliError(
    'IMG_CLI_USAGE',
    `--format ${JSON.stringify(value)}: expected one of ${formats.join(', ')}`,
  );
}

const ZSTD_CHUNKED_VARIANTS = ['containers-storage', 'stargz-snapshotter'] as const;

/** `--zstd-chunked containers-storage|stargz-snapshotter` (the layout of zstd:chunked layers). */
export function parseZstdChunkedVariant(value: string | undefined): ZstdChunkedVariant | undefined {
  if (value === undefined) return undefined;
  if ((ZSTD_CHUNKED_VARIANTS as readonly string[]).includes(value)) return value as ZstdChunkedVariant;
  throw new CliError(
    'IMG_CLI_USAGE',
    `--zstd-chunked ${JSON.stringify(value)}: expected one of ${ZSTD_CHUNKED_VARIANTS.join(', ')}`,
  );
}

/** A prioritized-files list: one path per line; blank lines and lines starting with '#' are skipped. */
export async function readPrioritizedFiles(path: string): Promise<string[]> {
  const text = (await readInput(path, 'prioritized files list')).toString('utf8');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** `--estargz-chunk-size`, `--zstd-chunked` and (for `img layer`) `--prioritized-files` as a request. */
export async function estargzRequestFromFlags(
  flags: LayerEncodingFlags & { prioritizedFiles?: string },
): Promise<EstargzRequest> {
  const variant = parseZstdChunkedVariant(flags.zstdChunked);
  const prioritized = flags.prioritizedFiles ? await readPrioritizedFiles(flags.prioritizedFiles) : undefined;
  const chunkSize =
    flags.estargzChunkSize === undefined
      ? undefined
      : parseIntFlag(flags.estargzChunkSize, '--estargz-chunk-size', 1, 2 ** 31);
  return {
    ...(prioritized
      ? { prioritizedFiles: prioritized, prioritizedFilesSource: flags.prioritizedFiles! }
      : {}),
    ...(chunkSize !== undefined ? { chunkSize } : {}),
    ...(variant !== undefined ? { zstdChunkedVariant: variant } : {}),
  };
}

/**
 * The layer encoding the flags ask for, writing `compression`. `sourceDateEpoch` is read from the
 * environment only when `withEpoch` (a recompressed tar keeps its own mtimes).
 */
export function layerEncodingFromFlags(
  flags: LayerEncodingFlags,
  compression: LayerCompression,
  defaults: { createdBy: string; withEpoch: boolean; estargz?: EstargzRequest },
): LayerEncoding {
  const level = parseCompressionLevel(flags.compressionLevel, compression);
  const compressorJobs =
    flags.compressorJobs === undefined ? undefined : parseCompressorJobs(flags.compressorJobs);
  const epoch = defaults.withEpoch ? sourceDateEpoch() : undefined;
  const annotations = pairsToRecord(flags.annotation, '--annotation');
  return {
    compression,
    ...(level !== undefined ? { level } : {}),
    ...(compressorJobs !== undefined ? { compressorJobs } : {}),
    ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
    ...(annotations ? { annotations } : {}),
    ...(flags.mediaType ? { mediaType: flags.mediaType } : {}),
    createdBy: flags.createdBy ?? defaults.createdBy,
    ...(defaults.estargz ? { estargz: defaults.estargz } : {}),
  };
}
