import { rm } from 'node:fs/promises';
import { PassThrough, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtomicFile, removeOnExit, tempPathBeside } from '@img/atomic-write';
import { estargzFromTarToFile } from '@img/estargz';
import {
  createDecompressionLimit,
  createDecompressor,
  DigestCounter,
  detectFileCompression,
  LayerError,
  layerFromTar,
  openRegularFile,
  type TarInputLimits,
  writeLayerMetadata,
  writeResultToFile,
} from '@img/layer-writer';
import { type LayerCompression, type LayerMetadata, ociLayerMediaType } from '@img/oci-spec';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { removeIfFails } from '../util/files.js';
import {
  collect,
  pairsToRecord,
  parseCompressionLevel,
  parseCompressorJobs,
  parseIntFlag,
  sourceDateEpoch,
} from '../util/flags.js';
import { limitHelp, parseLimits } from '../util/limits.js';
import { parseZstdChunkedVariant } from './estargz.js';

interface LayerFromTarFlags {
  output?: string;
  format: string;
  compressionLevel?: string;
  compressorJobs?: string;
  annotation?: string[];
  createdBy?: string;
  mediaType?: string;
  metadata: string;
  rewrite?: boolean;
  estargz?: boolean;
  estargzChunkSize?: string;
  zstdChunked?: string;
  limit?: string[];
}

const FORMATS = ['keep', 'gzip', 'zstd', 'none'] as const;

/** The input's compression; it must be a regular file (a FIFO or a device is refused, never read). */
async function sniff(path: string): Promise<LayerCompression> {
  try {
    return await detectFileCompression(path);
  } catch (err) {
    if (err instanceof LayerError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new CliError('IMG_CLI_INVALID_INPUT', `layer-from-tar ${path}: no such file`, { cause: err });
    }
    throw err;
  }
}

/** A pass-through that also writes every chunk to `file` (back-pressure from the disk included). */
function copyingTo(file: AtomicFile): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      file.write(chunk).then(() => done(null, chunk), done);
    },
  });
}

/**
 * Digest and size of the file as it is, diff_id and size of its decompressed tar, in one read; with
 * `copy`, the bytes are written there on the way (the caller commits it once all went well).
 */
async function measureAsIs(
  src: string,
  compression: LayerCompression,
  mediaType: string,
  limits: TarInputLimits,
  copy?: AtomicFile,
): Promise<LayerMetadata> {
  const blob = new DigestCounter();
  const diff = new DigestCounter();
  const { handle, size } = await openRegularFile(src);
  await pipeline(
    handle.createReadStream(),
    copy ? copyingTo(copy) : new PassThrough(),
    blob,
    createDecompressor(compression, { ...limits, where: src }),
    createDecompressionLimit({ ...limits, compressedSize: size, where: src }),
    diff,
    new Writable({ write: (_chunk, _encoding, done) => done() }),
  );
  return {
    mediaType,
    digest: blob.digest,
    size: blob.bytes,
    diff_id: diff.digest,
    uncompressed_size: diff.bytes,
  };
}

/**
 * `--estargz`: the tar (rewritten first with --rewrite) as an eStargz layer, or zstd:chunked with
 * --format zstd (keep: the source's compression, gzip for a plain tar).
 */
async function convertToEstargz(
  src: string,
  source: LayerCompression,
  flags: LayerFromTarFlags,
  history: Array<{ created_by: string }>,
): Promise<LayerMetadata> {
  const target =
    flags.format === 'keep' ? (source === 'none' ? 'gzip' : source) : (flags.format as LayerCompression);
  if (target === 'none') {
    throw new CliError(
      'IMG_CLI_USAGE',
      '--estargz needs --format gzip or zstd (eStargz layers are compressed)',
    );
  }
  if (!flags.output) throw new CliError('IMG_CLI_USAGE', `--output is required to convert ${src} to eStargz`);
  const level = parseCompressionLevel(flags.compressionLevel, target);
  const jobs = flags.compressorJobs === undefined ? undefined : parseCompressorJobs(flags.compressorJobs);
  const chunkSize =
    flags.estargzChunkSize === undefined
      ? undefined
      : parseIntFlag(flags.estargzChunkSize, '--estargz-chunk-size', 1, 2 ** 31);
  const annotations = pairsToRecord(flags.annotation, '--annotation');
  const variant = parseZstdChunkedVariant(flags.zstdChunked);
  const limits = parseLimits(flags.limit);
  const options = {
    ...limits,
    compression: target,
    ...(variant !== undefined ? { zstdChunkedVariant: variant } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(jobs !== undefined ? { compressorJobs: jobs } : {}),
    ...(chunkSize !== undefined ? { chunkSize } : {}),
    ...(flags.mediaType ? { mediaType: flags.mediaType } : {}),
    ...(annotations ? { annotations } : {}),
    history,
  };
  if (!flags.rewrite) return await estargzFromTarToFile(src, flags.output, options);
  const epoch = sourceDateEpoch();
  const rewritten = tempPathBeside(`${flags.output}.rewrite.tar`);
  const forget = removeOnExit(rewritten);
  try {
    await writeResultToFile(
      layerFromTar(src, {
        ...limits,
        mode: 'rewrite',
        compression: 'none',
        ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
      }),
      rewritten,
    );
    return await estargzFromTarToFile(rewritten, flags.output, options);
  } finally {
    await rm(rewritten, { force: true });
    forget();
  }
}

export async function runLayerFromTar(src: string, flags: LayerFromTarFlags, io: Io): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(flags.format)) {
    throw new CliError(
      'IMG_CLI_USAGE',
      `--format ${JSON.stringify(flags.format)}: expected one of ${FORMATS.join(', ')}`,
    );
  }
  const limits = parseLimits(flags.limit);
  const source = await sniff(src);
  const target = flags.format === 'keep' ? source : (flags.format as LayerCompression);
  const annotations = pairsToRecord(flags.annotation, '--annotation');
  const history = [{ created_by: flags.createdBy ?? 'img layer-from-tar' }];
  if (flags.estargz) {
    const metadata = await convertToEstargz(src, source, flags, history);
    await removeIfFails(flags.output, () => writeLayerMetadata(flags.metadata, metadata));
    io.out(metadata.digest);
    return;
  }
  if (flags.estargzChunkSize !== undefined || flags.zstdChunked !== undefined) {
    throw new CliError('IMG_CLI_USAGE', '--estargz-chunk-size and --zstd-chunked need --estargz');
  }
  let metadata: LayerMetadata;
  if (!flags.rewrite && target === source && flags.compressionLevel === undefined) {
    const copy = flags.output ? await AtomicFile.open(flags.output) : undefined;
    try {
      metadata = {
        ...(await measureAsIs(src, source, flags.mediaType ?? ociLayerMediaType(source), limits, copy)),
        ...(annotations ? { annotations } : {}),
        history,
      };
      await copy?.commit();
    } catch (err) {
      await copy?.abort();
      throw err;
    }
  } else {
    const mode = flags.rewrite ? 'rewrite' : 'recompress';
    if (!flags.output) {
      throw new CliError(
        'IMG_CLI_USAGE',
        flags.rewrite
          ? `--output is required to rewrite ${src} (a new tar is written)`
          : `--output is required to recompress ${src} (${source}) to ${target}`,
      );
    }
    const level = parseCompressionLevel(flags.compressionLevel, target);
    const jobs = flags.compressorJobs === undefined ? undefined : parseCompressorJobs(flags.compressorJobs);
    const epoch = flags.rewrite ? sourceDateEpoch() : undefined;
    metadata = await writeResultToFile(
      layerFromTar(src, {
        ...limits,
        mode,
        compression: target,
        ...(level !== undefined ? { level } : {}),
        ...(jobs !== undefined ? { compressorJobs: jobs } : {}),
        ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
        ...(flags.mediaType ? { mediaType: flags.mediaType } : {}),
        ...(annotations ? { annotations } : {}),
        history,
      }),
      flags.output,
    );
  }
  await removeIfFails(flags.output, () => writeLayerMetadata(flags.metadata, metadata));
  io.out(metadata.digest);
}

export function registerLayerFromTar(program: Command, io: Io): void {
  program
    .command('layer-from-tar')
    .description('layer metadata for an existing tar (.tar, .tar.gz, .tar.zst), recompressing it if asked')
    .argument('<tar>', 'the tar file, uncompressed, gzip or zstd')
    .option(
      '--format <format>',
      'keep (the source compression; without --output the tar itself is the blob) | gzip | zstd | none',
      'keep',
    )
    .option('--output <blob>', 'where to write the blob (a copy when the compression does not change)')
    .option('--compression-level <n>', 'gzip 0-9, zstd 1-19')
    .option(
      '--compressor-jobs <n|nproc>',
      'compress on N worker threads (gzip: 1 MiB blocks, the same bytes for every N)',
    )
    .option('--annotation <K=V>', 'layer descriptor annotation (repeatable)', collect)
    .option('--created-by <text>', 'history created_by of this layer')
    .option('--media-type <type>', 'override the layer media type')
    .option(
      '--rewrite',
      'write the tar again under the determinism rules (sorted, normalised metadata, identical files hardlinked; mtime 0 or SOURCE_DATE_EPOCH); needs --output',
    )
    .option(
      '--estargz',
      'convert to eStargz (zstd:chunked with --format zstd) for lazy pulling; needs --output',
    )
    .option('--estargz-chunk-size <bytes>', 'with --estargz: split files larger than this (default 4 MiB)')
    .option(
      '--zstd-chunked <layout>',
      'with --estargz --format zstd: containers-storage (default) or stargz-snapshotter',
    )
    .option('--limit <name=value>', limitHelp(), collect)
    .requiredOption('--metadata <out.json>', 'where to write the layer metadata JSON')
    .action(async (src: string, flags: LayerFromTarFlags) => runLayerFromTar(src, flags, io));
}
