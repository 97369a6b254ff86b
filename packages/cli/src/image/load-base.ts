import type { BaseImage } from '@img/image-assembly';
import { type BlobHandle, listManifests, type ReadLayout, readLayout } from '@img/oci-layout';
import {
  type BlobSource,
  formatPlatform,
  type ImageConfig,
  type Platform,
  selectPlatform,
} from '@img/oci-spec';
import { CliError } from '../util/errors.js';

/** A base image picked from a layout for one platform, with whatever layer blobs the layout has. */
export interface LoadedBase {
  readonly image: BaseImage;
  readonly blobs: ReadonlyMap<string, BlobHandle>;
  /** Where the base's layers can be fetched or mounted from, by digest. */
  readonly sources: ReadonlyMap<string, readonly BlobSource[]>;
}

const layoutCache = new Map<string, Promise<ReadLayout>>();

/** Open (once per process) the layout a base reference names. */
function openBaseLayout(ref: string): Promise<ReadLayout> {
  let p = layoutCache.get(ref);
  if (!p) {
    p = readLayout(ref);
    layoutCache.set(ref, p);
  }
  return p;
}

/**
 * Load a base image for `platform` from `oci:DIR`, `oci-archive:FILE` or a directory written by
 * `img pull` (a shallow layout with img-base.json). Reads only manifests and configs.
 */
export async function loadBase(ref: string, platform: Platform, where: string): Promise<LoadedBase> {
  const layout = await openBaseLayout(ref);
  const images = listManifests(layout);
  const platforms = images.map((img) => {
    const c = img.config as unknown as ImageConfig;
    return (
      img.descriptor.platform ?? {
        os: c.os,
        architecture: c.architecture,
        ...(c.variant ? { variant: c.variant } : {}),
      }
    );
  });
  const i = selectPlatform(platform, platforms);
  if (i < 0) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${where}: base ${ref} has no image for ${formatPlatform(platform)} (it has ${platforms.map(formatPlatform).join(', ')})`,
    );
  }
  const chosen = images[i]!;
  const info = layout.baseInfo;
  const name = info ? `${info.registry}/${info.repository}${info.tag ? `:${info.tag}` : ''}` : undefined;
  return {
    image: {
      descriptor: { ...chosen.descriptor, annotations: undefined } as never,
      manifest: chosen.manifest,
      config: chosen.config as unknown as ImageConfig,
      ...(name ? { name } : {}),
      ...(info ? { sources: [{ registry: info.registry, repository: info.repository }] } : {}),
    },
    blobs: layout.blobs,
    sources: layout.sources,
  };
}
