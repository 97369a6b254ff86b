import { normalizeRegistry } from '@img/registry-client';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { addRegistryFlags, type RegistryFlags, withRegistryClient } from '../util/registry.js';

interface CatalogFlags extends RegistryFlags {
  fullRef?: boolean;
}

export function registerCatalog(program: Command, io: Io): void {
  const cmd = program
    .command('catalog')
    .description('list the repositories of a registry (every page; many public registries refuse this)')
    .argument('<registry>', 'registry host[:port]')
    .option('--full-ref', 'print REGISTRY/REPOSITORY instead of the repository')
    .option('--json', 'print {"registry", "repositories": [...]}');
  addRegistryFlags(cmd).action(async (text: string, flags: CatalogFlags) => {
    if (text.includes('/') || text.trim() === '') {
      throw new CliError('IMG_CLI_USAGE', `${JSON.stringify(text)}: give a registry host[:port], no path`);
    }
    const registry = normalizeRegistry(text);
    const repositories = await withRegistryClient(flags, (client) => client.catalog(registry));
    io.result?.({ registry, repositories });
    for (const r of repositories) io.out(flags.fullRef ? `${registry}/${r}` : r);
  });
}
