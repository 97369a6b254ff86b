import type { BaseImage } from '@img/image-assembly';
import { type BaseInfo, type ReadLayout, readLayout } from '@img/oci-layout';
import { bestImage, formatPlatform, type ImageGraph, listManifests, type Platform } from '@img/oci-spec';
import { CliError } from '../util/errors.js';

const layoutCache = new Map<string, Promise<ReadLayout>>();

/**
 * Open (once per process) the layout a base reference names: `oci:DIR`, `oci-archive:FILE` or a
 * directory written by `img pull` (a shallow layout with img-base.json). Reads only documents; the
 * layout is an ImageGraph whose blobs and locations a build takes over.
 */
export function openBaseLayout(ref: string): Promise<ReadLayout> {
  let p = layoutCache.get(ref);
  if (!p) {
    p = readLayout(ref);
    layoutCache.set(ref, p);
  }
  return p;
}

/** The base image of `layout` for `platform` (manifest and config only). */
export function baseImageOf(
  layout: ImageGraph & { readonly baseInfo?: BaseInfo },
  ref: string,
  platform: Platform,
  where: string,
): BaseImage {
  const images = listManifests(layout);
  const chosen = bestImage(images, platform);
  if (!chosen) {
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${where}: base ${ref} has no image for ${formatPlatform(platform)} (it has ${images.map((i) => formatPlatform(i.platform)).join(', ')})`,
    );
  }
  const info = layout.baseInfo;
  const name = info ? `${info.registry}/${info.repository}${info.tag ? `:${info.tag}` : ''}` : undefined;
  const { annotations: _a, ...descriptor } = chosen.descriptor;
  return {
    descriptor,
    manifest: chosen.manifest,
    config: chosen.config,
    ...(name ? { name } : {}),
    ...(info ? { locations: [{ registry: info.registry, repository: info.repository }] } : {}),
  };
}
