import {
  type BlobLocation,
  configViolations,
  type Descriptor,
  type History,
  type ImageConfig,
  imageViolations,
  isImageConfig,
  type LayerMetadata,
  type Manifest,
  manifestViolations,
  toOciMediaType,
} from '@img/oci-spec';
import { AssemblyError } from './errors.js';

/** A base image as metadata only: its manifest and config, never its layer bytes. */
export interface BaseImage {
  /** Descriptor of the base manifest (its digest becomes `org.opencontainers.image.base.digest`). */
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  /** `registry/repository[:tag]`, for `org.opencontainers.image.base.name`. */
  readonly name?: string;
  /** Where the base layers can be fetched or mounted from. */
  readonly locations?: readonly BlobLocation[];
}

/** Check that a base manifest and config belong together; `where` names the source in errors. */
export function checkBaseImage(base: BaseImage, where: string): void {
  const problems = [
    ...manifestViolations(base.manifest),
    ...configViolations(base.config),
    ...imageViolations(base.manifest, base.config),
  ];
  if (!isImageConfig(base.manifest.config.mediaType)) {
    problems.unshift(`config.mediaType ${base.manifest.config.mediaType} is not an image config`);
  }
  if (problems.length > 0) {
    throw new AssemblyError('IMG_ASSEMBLY_INVALID_BASE', `${where}: ${problems[0]}`);
  }
}

/**
 * The base's layers as layer metadata: digests and sizes from the manifest, diff_ids from the
 * config, history split so each layer carries its own entries (empty_layer entries go with the
 * next real layer, trailing ones with the last), media types moved to the OCI family.
 */
export function baseLayers(base: BaseImage): LayerMetadata[] {
  const { manifest, config } = base;
  const diffIds = config.rootfs.diff_ids;
  const perLayer = splitHistory(config.history ?? [], manifest.layers.length);
  return manifest.layers.map((layer, i) => {
    const meta: LayerMetadata = {
      diff_id: diffIds[i]!,
      mediaType: toOciMediaType(layer.mediaType),
      digest: layer.digest,
      size: layer.size,
      ...(layer.annotations && Object.keys(layer.annotations).length > 0
        ? { annotations: layer.annotations }
        : {}),
      ...(perLayer[i]!.length > 0 ? { history: perLayer[i] } : {}),
      ...(base.locations?.length ? { sources: base.locations } : {}),
    };
    return meta;
  });
}

function splitHistory(history: readonly History[], layerCount: number): History[][] {
  const out: History[][] = Array.from({ length: layerCount }, () => []);
  const real = history.filter((h) => !h.empty_layer).length;
  if (layerCount === 0 || real !== layerCount) return out;
  let i = 0;
  let pending: History[] = [];
  for (const h of history) {
    pending.push(h);
    if (!h.empty_layer) {
      out[i++]!.push(...pending);
      pending = [];
    }
  }
  out[layerCount - 1]!.push(...pending);
  return out;
}
