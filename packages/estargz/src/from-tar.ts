import {
  DigestCounter,
  detectFileCompression,
  type LayerOutputOptions,
  type LayerWriteResult,
  normalizeLayerPath,
  openTarStream,
  pipeToResult,
  readableFromProducer,
  TarParser,
  TarWriter,
  writePlannedEntries,
  writeResultToFile,
} from '@img/layer-writer';
import type { LayerMetadata } from '@img/oci-spec';
import { type AssembledLayer, EstargzAssembler } from './assembler.js';
import type { ZstdChunkedVariant } from './codec.js';
import { NO_PREFETCH_LANDMARK } from './constants.js';
import { EstargzError } from './errors.js';
import { landmark, RESERVED_NAMES } from './order.js';
import { metadataOf, resolveOptions } from './write.js';

/** Options of `estargzFromTar`: compression, level, jobs, media type, annotations, history, chunking. */
export interface EstargzFromTarOptions extends LayerOutputOptions {
  /** Files larger than this are split into chunks of this size. Default 4 MiB. */
  readonly chunkSize?: number;
  /** As for writeEstargzLayer; default 0 (one member per payload). */
  readonly minChunkSize?: number;
  /** As for writeEstargzLayer (compression 'zstd'). */
  readonly zstdChunkedVariant?: ZstdChunkedVariant;
}

const BLOCK = 512;
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/**
 * Convert an existing tar (.tar, .tar.gz or .tar.zst) to an eStargz layer (zstd:chunked with
 * `compression: 'zstd'`), as stargz-snapshotter's `estargz.Build` does without prioritized files:
 * `.no.prefetch.landmark` first, then the tar's entries in their order with their headers unchanged,
 * each payload in its own member, the TOC and footer last. The archive-end blocks (and anything after
 * them) are replaced by eStargz's own. Entry names escaping the root, and names reserved by eStargz,
 * are rejected, naming the tar and the entry. Same result shape as `writeEstargzLayer`.
 */
export function estargzFromTar(tarPath: string, options: EstargzFromTarOptions = {}): LayerWriteResult {
  const resolved = resolveOptions(options);
  let assembled: AssembledLayer | undefined;
  const source = readableFromProducer(async (sink) => {
    const format = await detectFileCompression(tarPath);
    const assembler = new EstargzAssembler({
      codec: resolved.codec(),
      chunkSize: resolved.chunkSize,
      minChunkSize: resolved.minChunkSize,
      ...(resolved.compressJobs !== undefined ? { compressJobs: resolved.compressJobs } : {}),
      output: async (bytes) => {
        await sink(bytes);
      },
    });
    const writer = new TarWriter((chunk) => assembler.write(chunk));
    await writePlannedEntries(writer, [landmark(NO_PREFETCH_LANDMARK)], { deduplicate: false });

    // Source bytes go on only up to the end of the last entry seen so far (header and padded data),
    // so that the archive end and whatever follows it are never copied.
    let entriesEnd = 0;
    let sent = 0;
    const parser = new TarParser({
      onEntry(entry) {
        const where = `${tarPath}: entry ${JSON.stringify(entry.name)}`;
        const path = normalizeLayerPath(entry.name, where);
        if (RESERVED_NAMES.has(path)) {
          throw new EstargzError(
            'IMG_ESTARGZ_RESERVED_PATH',
            `${where}: the name is reserved in eStargz layers (landmark or TOC name)`,
          );
        }
        entriesEnd = entry.dataOffset + (entry.type === 'file' ? padded(entry.size) : 0);
      },
    });
    let held: Buffer[] = [];
    let heldStart = 0;
    let streamPos = 0;
    for await (const chunk of openTarStream(tarPath, format)) {
      const bytes = chunk as Buffer;
      parser.push(bytes);
      held.push(bytes);
      streamPos += bytes.length;
      if (entriesEnd <= sent) continue;
      const all = held.length === 1 ? held[0]! : Buffer.concat(held);
      const upto = Math.min(entriesEnd, streamPos) - heldStart;
      await writer.write(all.subarray(sent - heldStart, upto));
      sent = heldStart + upto;
      held = upto < all.length ? [all.subarray(upto)] : [];
      heldStart = sent;
    }
    parser.end();
    assembler.endEntries(writer.position);
    await writer.finish();
    assembled = await assembler.finish();
  });
  const blob = new DigestCounter();
  const { stream, metadata } = pipeToResult(source, blob, () =>
    metadataOf(assembled!, blob, resolved.mediaType, options),
  );
  return { stream, metadata };
}

/** estargzFromTar into `blobPath` (temp file + rename; nothing is left behind on error). */
export async function estargzFromTarToFile(
  tarPath: string,
  blobPath: string,
  options: EstargzFromTarOptions = {},
): Promise<LayerMetadata> {
  return await writeResultToFile(estargzFromTar(tarPath, options), blobPath);
}
