import { parseReference } from '@img/registry-client';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { addRegistryFlags, type RegistryFlags, withRegistryClient } from '../util/registry.js';

interface LsFlags extends RegistryFlags {
  fullRef?: boolean;
  omitDigestTags?: boolean;
}

/** Tags that name a digest (`sha256-<hex>`, `sha256-<hex>.sig`): referrers fallback, cosign. */
const DIGEST_TAG = /^sha256-[0-9a-f]{64}/;

export function registerLs(program: Command, io: Io): void {
  const cmd = program
    .command('ls')
    .description('list the tags of a repository (every page)')
    .argument('<repository>', 'REGISTRY/REPOSITORY (Docker Hub names allowed)')
    .option('--full-ref', 'print REGISTRY/REPOSITORY:TAG instead of the tag')
    .option('--omit-digest-tags', 'leave out sha256-<hex> tags (referrers fallback indexes, signatures)')
    .option('--json', 'print {"repository", "tags": [...]}');
  addRegistryFlags(cmd).action(async (text: string, flags: LsFlags) => {
    const ref = parseReference(text, { defaultTag: false });
    if (ref.tag !== undefined || ref.digest !== undefined) {
      throw new CliError('IMG_CLI_USAGE', `${text}: give a repository without a tag or digest`);
    }
    const all = await withRegistryClient(flags, (client) => client.listTags(ref));
    const tags = flags.omitDigestTags ? all.filter((t) => !DIGEST_TAG.test(t)) : all;
    const repository = `${ref.registry}/${ref.repository}`;
    io.result?.({ repository, tags });
    for (const t of tags) io.out(flags.fullRef ? `${repository}:${t}` : t);
  });
}
