import { DEFAULT_CONTAINERD_ADDRESS, DEFAULT_CONTAINERD_NAMESPACE } from '@img/containerd-loader';
import type { Command } from 'commander';
import { type LoadFlags, loadContent, loadTargetFromFlags } from '../image/load-content.js';
import { openImageSource } from '../image/open-source.js';
import type { Io } from '../io.js';
import { collect } from '../util/flags.js';
import { addRegistryFlags } from '../util/registry.js';
import { createWorkDir, removeWorkDir } from '../util/work-dir.js';

/** Load an image into containerd, Docker or Podman, writing only what the runtime lacks. */
async function runLoad(source: string, flags: LoadFlags, io: Io): Promise<void> {
  const target = loadTargetFromFlags(flags);
  const workDir = await createWorkDir('img-load-');
  try {
    await loadContent(await openImageSource(source, workDir, io), target, flags, io);
  } finally {
    await removeWorkDir(workDir);
  }
}

export function registerLoad(program: Command, io: Io): void {
  const cmd = program
    .command('load')
    .description('load an image into containerd, Docker or Podman, sending only the blobs the runtime lacks')
    .argument(
      '<source>',
      'oci:DIR[:REF] | oci-archive:FILE[:REF] | an image spec JSON file (built in-process)',
    )
    .option('--daemon <kind>', 'containerd | docker | podman', 'docker')
    .option(
      '--address <socket>',
      `containerd socket (default ${DEFAULT_CONTAINERD_ADDRESS}) or docker host (default $DOCKER_HOST or unix:///var/run/docker.sock)`,
    )
    .option(
      '--namespace <ns>',
      `containerd namespace: moby (Docker), k8s.io (Kubernetes), default (ctr)`,
      DEFAULT_CONTAINERD_NAMESPACE,
    )
    .option(
      '--snapshotter <name>',
      'containerd: the snapshotter whose already-unpacked layers the image keeps (default overlayfs)',
    )
    .option(
      '--platform <os/arch[/variant]|all>',
      "for an index: the platform to load (default: this host's), or all",
    )
    .option(
      '--containerd-address <socket>',
      "docker with the containerd image store: its containerd socket, when docker's /info does not report it",
    )
    .option('-t, --tag <name:tag>', 'image name to create or update (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Names are qualified as Docker does (app:dev -> docker.io/library/app:dev).
Podman: storage comes from podman's own configuration (CONTAINERS_STORAGE_CONF, --root is not passed).
Layers of a shallow base (img pull) that the runtime lacks are streamed from their registry.`,
    );
  addRegistryFlags(cmd).action(async (source: string, opts: LoadFlags) => {
    await runLoad(source, opts, io);
  });
}
