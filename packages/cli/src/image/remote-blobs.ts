import { type FetchBlob, firstAvailableSource } from '@img/oci-spec';
import type { RegistryClient } from '@img/registry-client';
import { CliError } from '../util/errors.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';

/**
 * Fetches blobs absent locally (shallow base layers) from their registry locations, first that works
 * (one client, created only when a blob is fetched); close() when done.
 */
export function registryFetcher(
  flags: RegistryFlags,
  shared?: RegistryClient,
): { fetch: FetchBlob; close(): Promise<void> } {
  let client: RegistryClient | undefined = shared;
  const fetch: FetchBlob = async (descriptor, locations, options) => {
    if (locations.length === 0) {
      throw new CliError(
        'IMG_CLI_INVALID_INPUT',
        `layer ${descriptor.digest}: not available locally and no source registry is known`,
      );
    }
    client ??= createRegistryClient(flags);
    const c = client;
    return firstAvailableSource(
      descriptor,
      locations.map((l) => c.blobSource(l, descriptor)),
    ).open(options?.signal ? { signal: options.signal } : {});
  };
  return { fetch, close: async () => (client === shared ? undefined : client?.close()) };
}
