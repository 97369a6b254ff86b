import {
  formatPlatform,
  hostPlatform,
  type ImageEntry,
  isIndex,
  listManifests,
  type Platform,
  parsePlatform,
  selectImage,
} from '@img/oci-spec';
import type { PullResult, RegistryClient } from '@img/registry-client';
import { CliError } from '../util/errors.js';

/** The image of a registry reference a platform selects: the only one, or the index entry that serves it. */
export interface SelectedImage {
  readonly pulled: PullResult;
  readonly image: ImageEntry;
}

/**
 * Shallow-pull `ref` (documents only) and pick one image: a single manifest as is, from an index the
 * entry for `platform` (default: this host's, as `docker pull` does).
 */
export async function selectRemoteImage(
  client: RegistryClient,
  ref: string,
  platformFlag: string | undefined,
): Promise<SelectedImage> {
  const platform: Platform = platformFlag ? parsePlatform(platformFlag, '--platform') : hostPlatform();
  const pulled = await client.pullImage(ref);
  const image = selectImage(pulled, platform);
  if (!image) {
    const have = listManifests(pulled).map((i) => formatPlatform(i.platform));
    throw new CliError(
      'IMG_CLI_INVALID_INPUT',
      `${ref}: no image for ${formatPlatform(platform)} (it has ${have.join(', ') || 'none'}); give --platform`,
    );
  }
  return { pulled, image };
}

/** True when the pulled root is an index (a platform then picks a child). */
export function isIndexRoot(pulled: PullResult): boolean {
  return isIndex(pulled.resolved.mediaType);
}
