import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecompressor } from '@img/layer-writer/internal';
import {
  type BlobSource,
  configViolations,
  type Descriptor,
  digestAlgorithm,
  imageViolations,
  layerCompression,
  listManifests,
} from '@img/oci-spec';
import { LayoutError } from './errors.js';
import { asLayoutError, type ReadLayoutOptions, readLayout } from './read-layout.js';

export interface ValidateLayoutOptions extends ReadLayoutOptions {
  /** Accept layers absent from the layout (a shallow layout); they are reported as skipped. */
  readonly allowMissingBlobs?: boolean;
  /** Skip decompressing layers to check diff_ids (digest and size are still checked). */
  readonly fast?: boolean;
}

export interface ValidationReport {
  readonly root: Descriptor;
  readonly images: number;
  readonly layersChecked: number;
  readonly layersMissing: number;
  readonly bytesChecked: number;
}

interface LayerCheck {
  digest: string;
  size: number;
  diffId?: string;
}

async function checkLayer(
  source: BlobSource,
  d: Descriptor,
  withDiffId: boolean,
  signal: AbortSignal | undefined,
): Promise<LayerCheck> {
  const algorithm = digestAlgorithm(d.digest);
  const outer = createHash(algorithm);
  const inner = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      size += chunk.length;
      if (size > d.size) {
        // Stop reading a blob longer than its descriptor says: the check fails either way.
        cb(
          new LayoutError(
            'IMG_LAYOUT_SIZE_MISMATCH',
            `${d.digest}: more than the ${d.size} bytes its descriptor says`,
          ),
        );
        return;
      }
      outer.update(chunk);
      cb(null, withDiffId ? chunk : undefined);
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      inner.update(chunk);
      cb();
    },
  });
  const stream = await source.open(signal ? { signal } : {});
  const opts = signal ? { signal } : {};
  if (withDiffId)
    await pipeline(stream, counter, createDecompressor(layerCompression(d.mediaType)), sink, opts);
  else await pipeline(stream, counter, sink, opts);
  return {
    digest: `${algorithm}:${outer.digest('hex')}`,
    size,
    ...(withDiffId ? { diffId: `sha256:${inner.digest('hex')}` } : {}),
  };
}

/**
 * Check a layout end to end: schemas and cross-document rules of every index, manifest and
 * config, every blob's size and digest, and every layer's diff_id against its decompressed bytes.
 * Throws a LayoutError naming the first violation.
 */
export async function validateLayout(
  ref: string,
  options: ValidateLayoutOptions = {},
): Promise<ValidationReport> {
  const layout = await readLayout(ref, options);
  const where = layout.source.name;
  const fail = (code: ConstructorParameters<typeof LayoutError>[0], msg: string): never => {
    throw new LayoutError(code, `${where}: ${msg}`);
  };
  let images: ReturnType<typeof listManifests>;
  try {
    images = listManifests(layout, options);
  } catch (err) {
    throw asLayoutError(err);
  }
  let layersChecked = 0;
  let layersMissing = 0;
  let bytesChecked = 0;
  const checked = new Map<string, LayerCheck>();
  for (const img of images) {
    const what = `manifest ${img.descriptor.digest}`;
    const config = img.config;
    const v = [...configViolations(config), ...imageViolations(img.manifest, config)];
    if (v.length) fail('IMG_LAYOUT_INVALID', `${what}: ${v[0]}`);
    for (const [i, layer] of img.manifest.layers.entries()) {
      const source = layout.blobs.get(layer.digest);
      if (!source) {
        if (options.allowMissingBlobs) {
          layersMissing++;
          continue;
        }
        fail('IMG_LAYOUT_BLOB_MISSING', `${what}: layers[${i}] ${layer.digest} is missing from blobs/`);
      }
      let result = checked.get(layer.digest);
      if (!result) {
        try {
          result = await checkLayer(source!, layer, !options.fast, options.signal);
        } catch (e) {
          if (options.signal?.aborted) throw options.signal.reason;
          if (e instanceof LayoutError) throw e;
          fail(
            'IMG_LAYOUT_INVALID',
            `${what}: layers[${i}] ${layer.digest}: cannot decompress: ${(e as Error).message}`,
          );
        }
        checked.set(layer.digest, result!);
        layersChecked++;
        bytesChecked += result!.size;
      }
      if (result!.size !== layer.size) {
        fail(
          'IMG_LAYOUT_SIZE_MISMATCH',
          `${what}: layers[${i}] ${layer.digest}: size ${result!.size}, descriptor says ${layer.size}`,
        );
      }
      if (result!.digest !== layer.digest) {
        fail(
          'IMG_LAYOUT_DIGEST_MISMATCH',
          `${what}: layers[${i}]: blob hashes to ${result!.digest}, descriptor says ${layer.digest}`,
        );
      }
      const expected = config.rootfs.diff_ids[i];
      if (result!.diffId && result!.diffId !== expected) {
        fail(
          'IMG_LAYOUT_DIFF_ID_MISMATCH',
          `${what}: layers[${i}] ${layer.digest}: uncompressed sha256 is ${result!.diffId}, config rootfs.diff_ids[${i}] says ${expected}`,
        );
      }
    }
  }
  return { root: layout.root, images: images.length, layersChecked, layersMissing, bytesChecked };
}
