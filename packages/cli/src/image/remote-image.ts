import {
  type Descriptor,
  formatPlatform,
  hostPlatform,
  type ImageEntry,
  listManifests,
  type Platform,
  parsePlatform,
  selectImage,
} from '@img/oci-spec';
import { type PullResult, type Reference, type RegistryClient, RegistryError } from '@img/registry-client';
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

/** The descriptor a reference names now: HEAD, or GET where the registry's HEAD says too little. */
export async function currentDescriptor(client: RegistryClient, ref: Reference): Promise<Descriptor> {
  try {
    const head = await client.headManifest(ref);
    if (head) return head;
  } catch (err) {
    // A registry whose HEAD lacks Docker-Content-Digest: GET it instead.
    if (!(err instanceof RegistryError && err.code === 'IMG_REGISTRY_INVALID_RESPONSE')) throw err;
  }
  return (await client.fetchManifest(ref)).descriptor;
}
