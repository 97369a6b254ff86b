import type { Descriptor } from '@img/oci-spec';
import { formatReference, parseReference } from '@img/registry-client';
import type { Command } from 'commander';
import { currentDescriptor, selectRemoteImage } from '../image/remote-image.js';
import type { Io } from '../io.js';
import { addRegistryFlags, type RegistryFlags, withRegistryClient } from '../util/registry.js';

interface DigestFlags extends RegistryFlags {
  platform?: string;
  fullRef?: boolean;
}

export function registerDigest(program: Command, io: Io): void {
  const cmd = program
    .command('digest')
    .description('print the digest of the manifest or index a reference names (HEAD, no body downloaded)')
    .argument('<reference>', 'REGISTRY/REPOSITORY[:TAG][@DIGEST]')
    .option('--platform <os/arch[/variant]>', "of an index: the digest of this platform's manifest")
    .option('--full-ref', 'print REGISTRY/REPOSITORY@DIGEST')
    .option('--json', 'print {"reference", "digest", "mediaType", "size"}');
  addRegistryFlags(cmd).action(async (text: string, flags: DigestFlags) => {
    const ref = parseReference(text);
    const descriptor: Descriptor = await withRegistryClient(flags, async (client) => {
      if (flags.platform) return (await selectRemoteImage(client, text, flags.platform)).image.descriptor;
      return currentDescriptor(client, ref);
    });
    const { mediaType, digest, size } = descriptor;
    io.result?.({ reference: formatReference(ref), digest, mediaType, size });
    io.out(flags.fullRef ? `${ref.registry}/${ref.repository}@${digest}` : digest);
  });
}
