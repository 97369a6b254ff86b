import { parseReference } from '@img/registry-client';
import type { Io } from '../io.js';
import { printDocument } from '../util/print-document.js';
import { type RegistryFlags, withRegistryClient } from '../util/registry.js';
import { selectRemoteImage } from './remote-image.js';

/**
 * `img manifest REF`: the manifest or index REF names, exactly as the registry stores it; with
 * `platform`, the manifest an index holds for it.
 */
export async function printRemoteManifest(
  reference: string,
  flags: RegistryFlags & { platform?: string },
  io: Io,
): Promise<void> {
  const bytes = await withRegistryClient(flags, async (client) => {
    if (flags.platform) {
      const { pulled, image } = await selectRemoteImage(client, reference, flags.platform);
      return pulled.documents.get(image.descriptor.digest)!;
    }
    return (await client.fetchManifest(parseReference(reference))).bytes;
  });
  printDocument(io, bytes);
}
