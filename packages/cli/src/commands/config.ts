import type { Command } from 'commander';
import { selectRemoteImage } from '../image/remote-image.js';
import type { Io } from '../io.js';
import { printDocument } from '../util/print-document.js';
import { addRegistryFlags, type RegistryFlags, withRegistryClient } from '../util/registry.js';

interface ConfigFlags extends RegistryFlags {
  platform?: string;
}

export function registerConfig(program: Command, io: Io): void {
  const cmd = program
    .command('config')
    .description('print the config of an image in a registry, exactly as stored')
    .argument('<reference>', 'REGISTRY/REPOSITORY[:TAG][@DIGEST]')
    .option('--platform <os/arch[/variant]>', "of an index: this platform's image (default: this host's)")
    .option('--json', 'print the config as a JSON value (parsed)');
  addRegistryFlags(cmd).action(async (text: string, flags: ConfigFlags) => {
    const bytes = await withRegistryClient(flags, async (client) => {
      const { pulled, image } = await selectRemoteImage(client, text, flags.platform);
      return pulled.documents.get(image.manifest.config.digest)!;
    });
    printDocument(io, bytes);
  });
}
