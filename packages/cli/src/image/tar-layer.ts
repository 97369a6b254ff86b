import { open, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { removeOnExit, tempPathBeside } from '@img/atomic-write';
import { estargzFromTarToFile } from '@img/estargz';
import { layerFromTar, writeResultToFile } from '@img/layer-writer';
import { detectCompression } from '@img/layer-writer/internal';
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
}

/** The compression of a tar file, from its first bytes. */
export async function detectTarCompression(path: string): Promise<LayerCompression> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return detectCompression(head.subarray(0, bytesRead), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError('IMG_CLI_INVALID_INPUT', `layer-from-tar ${path}: no such file`, { cause: err });
    }
    throw err;
  } finally {
    await handle?.close();
  }
}

/** The tar as it is (copied to `output` when given): metadata only, no recompression. */
async function keepAsIs(request: TarLayerRequest): Promise<LayerMetadata> {
  // The source's own compression (passthrough refuses another); its mtimes are kept.
  const { sourceDateEpoch: _, ...encoding } = request.encoding;
  const options = layerWriterOptions({ ...encoding, compression: request.sourceCompression });
  const result = layerFromTar(request.source, { ...options, mode: 'passthrough' });
  if (request.output) return await writeResultToFile(result, request.output);
  await pipeline(result.stream, new Writable({ write: (_chunk, _encoding, done) => done() }));
  return await result.metadata;
}

/** The tar as an eStargz layer (rewritten first when asked). */
async function convertToEstargz(request: TarLayerRequest, output: string): Promise<LayerMetadata> {
  const { sourceDateEpoch, ...encoding } = request.encoding;
  const options = layerWriterOptions(encoding);
  if (!request.rewrite) return await estargzFromTarToFile(request.source, output, options);
  const rewritten = tempPathBeside(`${output}.rewrite.tar`);
  const forget = removeOnExit(rewritten);
  try {
    await writeResultToFile(
      layerFromTar(request.source, {
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
      ...layerWriterOptions(encoding),
      mode: request.rewrite ? 'rewrite' : 'recompress',
    }),
    request.output,
  );
}
