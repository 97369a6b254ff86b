import { eraseDockerLogin, normalizeRegistry, storeDockerLogin } from '@img/registry-client';
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { CliError } from '../util/errors.js';
import { addRegistryFlags, createRegistryClient, type RegistryFlags } from '../util/registry.js';

interface LoginFlags extends RegistryFlags {
  username?: string;
  passwordStdin?: boolean;
}

/** The password piped to stdin (one trailing newline dropped, as `docker login --password-stdin` does). */
async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError('IMG_CLI_USAGE', '--password-stdin: stdin is a terminal; pipe the password in');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password === '') throw new CliError('IMG_CLI_USAGE', '--password-stdin: stdin was empty');
  return password;
}

function registryArg(text: string): string {
  const host = text.replace(/^https?:\/\//, '').replace(/\/(v1|v2)?\/?$/, '');
  if (host === '' || host.includes('/')) {
    throw new CliError('IMG_CLI_USAGE', `${JSON.stringify(text)}: give a registry host[:port]`);
  }
  return normalizeRegistry(host);
}

export function registerLogin(program: Command, io: Io): void {
  const cmd = program
    .command('login')
    .description(
      'check a username and password against a registry and save them the way docker login does ($DOCKER_CONFIG/config.json or its credential helper)',
    )
    .argument('<registry>', 'registry host[:port] (docker.io for Docker Hub)')
    .requiredOption('-u, --username <name>', 'the username')
    .option('--password-stdin', 'read the password from stdin (the only way: never on the command line)')
    .option('--json', 'print {"registry", "configFile", "store"}');
  addRegistryFlags(cmd).action(async (text: string, flags: LoginFlags) => {
    if (!flags.passwordStdin) {
      throw new CliError(
        'IMG_CLI_USAGE',
        'give --password-stdin and pipe the password in (it never goes on the command line)',
      );
    }
    const registry = registryArg(text);
    const password = await readPasswordFromStdin();
    const client = createRegistryClient(flags, {
      [registry]: { kind: 'basic', username: flags.username!, password },
    });
    try {
      await client.checkCredentials(registry);
    } finally {
      await client.close();
    }
    const saved = await storeDockerLogin(registry, flags.username!, password);
    io.result?.({ registry, configFile: saved.configFile, store: saved.store });
    io.out('Login Succeeded');
    if (!io.quiet)
      io.err(
        `credentials for ${saved.key} saved in ${saved.store === 'file' ? saved.configFile : saved.store}`,
      );
  });
}

export function registerLogout(program: Command, io: Io): void {
  program
    .command('logout')
    .description('remove the credentials docker login (or img login) saved for a registry')
    .argument('<registry>', 'registry host[:port]')
    .option('--json', 'print {"registry", "configFile", "removed"}')
    .action(async (text: string) => {
      const registry = registryArg(text);
      const erased = await eraseDockerLogin(registry);
      io.result?.({ registry, configFile: erased.configFile, removed: erased.changed });
      io.out(
        erased.changed ? `Removing login credentials for ${erased.key}` : `Not logged in to ${erased.key}`,
      );
    });
}
