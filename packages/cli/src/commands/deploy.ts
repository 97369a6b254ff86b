import type { Command } from 'commander';
import { readDeployRequest } from '../deploy/request.js';
import { type DeployFlags, runDeployRequest } from '../image/deploy.js';
import type { Io } from '../io.js';
import { addRegistryFlags } from '../util/registry.js';

/** Run each request in order, stopping at the first failure (all are read and checked first). */
async function runDeploy(paths: string[], flags: DeployFlags, io: Io): Promise<void> {
  const requests = await Promise.all(paths.map(readDeployRequest));
  for (const [i, request] of requests.entries()) await runDeployRequest(request, paths[i]!, flags, io);
}

export function registerDeploy(program: Command, io: Io): void {
  const cmd = program
    .command('deploy')
    .description(
      'run deploy requests (what `bazel run` of image_push / image_load does): push or load the image they name',
    )
    .argument('<request...>', 'deploy request JSON (deploy-request.schema.json in this package)')
    .option('--json', 'push: print a JSON summary')
    .option(
      '--address <socket>',
      'load: containerd socket or docker host (default $CONTAINERD_ADDRESS for containerd)',
    )
    .option(
      '--namespace <ns>',
      'load into containerd: the namespace (default $CONTAINERD_NAMESPACE, else moby)',
    )
    .option(
      '--snapshotter <name>',
      'load into containerd: the snapshotter whose unpacked layers the image keeps',
    )
    .option(
      '--platform <os/arch[/variant]|all>',
      "load of an index: the platform to load (default: this host's)",
    )
    .option(
      '--containerd-address <socket>',
      'load into docker with the containerd image store: its containerd socket',
    );
  addRegistryFlags(cmd)
    .addHelpText(
      'after',
      `
Relative paths in a request are runfiles paths: below $RUNFILES_DIR when set, else the current directory.
Strategies: eager (every blob the destination lacks is sent now); lazy, cas_registry and bes are reserved.`,
    )
    .action(async (paths: string[], flags: DeployFlags) => runDeploy(paths, flags, io));
}
