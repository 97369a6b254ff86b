import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { removeOnExit, tempPathBeside } from '@img/atomic-write';
import { estargzFromTarToFile } from '@img/estargz';
import { LayerError, layerFromTar, type TarInputLimits, writeResultToFile } from '@img/layer-writer';
import { detectFileCompression } from '@img/layer-writer/internal';
import type { LayerCompression, LayerMetadata } from '@img/oci-spec';
import { CliError } from '../util/errors.js';
import { type LayerEncoding, layerWriterOptions } from './layer-request.js';

/** A layer made of an existing tar file: kept as it is, recompressed, rewritten or converted to eStargz. */
export interface TarLayerRequest {
  /** The tar, uncompressed, gzip or zstd. */
  readonly source: string;
  /** Its compression (detectTarCompression). */
  readonly sourceCompression: LayerCompression;
  /** The blob's encoding; `estargz` converts. Give `sourceDateEpoch` for a rewrite only. */
  readonly encoding: LayerEncoding;
  /** Write the tar again under the determinism rules. */
  readonly rewrite: boolean;
  /** Where the blob goes; optional only when the tar itself is the blob (same compression, no rewrite). */
  readonly output?: string;
  /** Caps on the untrusted tar (entries, header sizes, decompression); the library defaults when absent. */
  readonly limits?: TarInputLimits;
}

/** The compression of a tar file; it must be a regular file (a FIFO or a device is refused, never read). */
export async function detectTarCompression(path: string): Promise<LayerCompression> {
  try {
    return await detectFileCompression(path);
  } catch (err) {
    if (err instanceof LayerError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new CliError('IMG_CLI_INVALID_INPUT', `layer-from-tar ${path}: no such file`, { cause: err });
    }
    throw err;
  }
}

/** The tar as it is (copied to `output` when given): metadata only, no recompression. */
async function keepAsIs(request: TarLayerRequest): Promise<LayerMetadata> {
  // The source's own compression (passthrough refuses another); its mtimes are kept.
  const { sourceDateEpoch: _, ...encoding } = request.encoding;
  const options = layerWriterOptions({ ...encoding, compression: request.sourceCompression });
  const result = layerFromTar(request.source, { ...request.limits, ...options, mode: 'passthrough' });
  if (request.output) return await writeResultToFile(result, request.output);
  await pipeline(result.stream, new Writable({ write: (_chunk, _encoding, done) => done() }));
  return await result.metadata;
}

/** The tar as an eStargz layer (rewritten first when asked). */
async function convertToEstargz(request: TarLayerRequest, output: string): Promise<LayerMetadata> {
  const { sourceDateEpoch, ...encoding } = request.encoding;
  const options = { ...request.limits, ...layerWriterOptions(encoding) };
  if (!request.rewrite) return await estargzFromTarToFile(request.source, output, options);
  const rewritten = tempPathBeside(`${output}.rewrite.tar`);
  const forget = removeOnExit(rewritten);
  try {
    await writeResultToFile(
      layerFromTar(request.source, {
        ...request.limits,
        mode: 'rewrite',
        compression: 'none',
        ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
      }),
      rewritten,
    );
    return await estargzFromTarToFile(rewritten, output, options);
  } finally {
    await rm(rewritten, { force: true });
    forget();
  }
}

/** Write the layer a tar request describes; resolves to its metadata. */
export async function writeTarLayer(request: TarLayerRequest): Promise<LayerMetadata> {
  const { encoding, source } = request;
  if (encoding.estargz) {
    if (encoding.compression === 'none') {
      throw new CliError(
        'IMG_CLI_USAGE',
        '--estargz needs --format gzip or zstd (eStargz layers are compressed)',
      );
    }
    if (!request.output)
      throw new CliError('IMG_CLI_USAGE', `--output is required to convert ${source} to eStargz`);
    return await convertToEstargz(request, request.output);
  }
  const asIs =
    !request.rewrite && encoding.compression === request.sourceCompression && encoding.level === undefined;
  if (asIs) return await keepAsIs(request);
  if (!request.output) {
    throw new CliError(
      'IMG_CLI_USAGE',
      request.rewrite
        ? `--output is required to rewrite ${source} (a new tar is written)`
        : `--output is required to recompress ${source} (${request.sourceCompression}) to ${encoding.compression}`,
    );
  }
  return await writeResultToFile(
    layerFromTar(source, {
      ...request.limits,
      ...layerWriterOptions(encoding),
      mode: request.rewrite ? 'rewrite' : 'recompress',
    }),
    request.output,
  );
}
