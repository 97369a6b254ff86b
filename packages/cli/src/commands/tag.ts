import { formatReference, parseReference } from '@img/registry-client';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { addRegistryFlags, type RegistryFlags, withRegistryClient } from '../util/registry.js';

export function registerTag(program: Command, io: Io): void {
  const cmd = program
    .command('tag')
    .description('point another tag of the same repository at what a reference names (no blob is read)')
    .argument('<reference>', 'REGISTRY/REPOSITORY[:TAG][@DIGEST]')
    .argument('<tag>', 'the new tag')
    .option('--json', 'print {"reference", "digest"}');
  addRegistryFlags(cmd).action(async (text: string, tag: string, flags: RegistryFlags) => {
    const ref = parseReference(text);
    if (tag.includes(':') || tag.includes('/') || tag.includes('@')) {
      throw new CliError(
        'IMG_CLI_USAGE',
        `${JSON.stringify(tag)}: give a tag, not a reference (crane tag REF TAG)`,
      );
    }
    const target = parseReference(`${ref.registry}/${ref.repository}:${tag}`);
    const digest = await withRegistryClient(flags, async (client) => {
      const doc = await client.fetchManifest(ref);
      await client.putManifest(target, doc);
      return doc.descriptor.digest;
    });
    const tagged = `${formatReference(target)}@${digest}`;
    io.result?.({ reference: formatReference(target), digest });
    io.out(tagged);
  });
}
